#!/usr/bin/env bash
# Self-service subscription end to end, the way a customer does it: the
# status page, which has no script at all, rendered by headless Chromium
# offers the form; posting it sends a confirmation email through a real SMTP server
# (aiosmtpd); opening its link asks for a press of the button and changes
# nothing; pressing it subscribes. The next published update reaches them
# with List-Unsubscribe headers and a link to their preferences: there, in
# Chromium with JavaScript off (Playwright, tests/browser/
# preferences_test.mjs), they follow another component, in German and in
# Tokyo's time, and the next updates follow that. A browser set to German
# reads the status page in German and its switch leads to English and back
# (status_page_language_test.mjs). The RFC 8058 one-click
# POST to the List-Unsubscribe URL stops every later update. Screenshots of
# the status page, the confirmation page and the saved preferences are kept
# in ARTIFACTS_DIR.
#
# usage: selfservice_test.sh HERALDD HERALD ARTIFACTS_DIR
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
ARTIFACTS=$3
source "$(dirname "$0")/lib.sh"
require curl sha256sum chromium node "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
HERE=$(dirname "$0")
BROWSER_DIR=$(realpath "$HERE/../browser")
[[ -d $BROWSER_DIR/node_modules/playwright-core ]] ||
  fail "playwright-core is not installed: run npm ci --prefix tests/browser (the README's test command does)"
mkdir -p "$ARTIFACTS"

pick_ports
start_mail_sink
make_tokens

cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
  - {id: api, name: Public API, matchers: ['service="api"']}
people:
$(e2e_people alice carol)
rotas:
  - {id: comms, component_ids: [checkout, api], members: [carol], time_zone: Europe/London}
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example}
intake: {default_component: checkout}
delivery: {workers: 2, retry_schedule: [200ms, 400ms, 800ms, 1s]}
YAML
lead() { HERALD_TOKEN=$LEAD_TOKEN "$HERALD" "$@"; }

# browse URL OUT: the page as headless Chromium renders it: the DOM to
# OUT.html, a screenshot to OUT.png. The page must carry no script, so a
# reader without JavaScript sees the same. (Chromium's headless screenshot
# needs scripting on, so it cannot be turned off here.)
browse() {
  local url=$1 out=$2
  local flags=(--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage
               --user-data-dir="$WORK/chromium" --hide-scrollbars --window-size=1024,1400)
  local served; served=$(curl -fsS "$url")
  [[ ${served,,} != *"<script"* ]] || fail "$url carries a script"
  timeout 60 chromium "${flags[@]}" --dump-dom "$url" >"$out.html" 2>>"$WORK/chromium.log"
  timeout 60 chromium "${flags[@]}" --screenshot="$out.png" "$url" >>"$WORK/chromium.log" 2>&1
  "$SYSTEM_PYTHON" -c '
import sys
png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000, len(png)' "$out.png" \
    || fail "no screenshot of $url"
}

# subscriber_status EMAIL: the status the CLI lists for EMAIL
subscriber_status() {
  lead subscribers list --all -o json | "$SYSTEM_PYTHON" -c '
import json, sys
subs = [s for s in json.load(sys.stdin).get("subscribers", []) if s.get("email") == sys.argv[1]]
print(subs[0].get("status", "") if subs else "none")' "$1"
}



start_heraldd
lead subscribers add ops --name "Ops Co" --email ops@e2e.example --component checkout >/dev/null

step "the status page, rendered by Chromium, offers the form"
browse "$PAGE/" "$WORK/page-empty"
grep -q 'action="/subscribe"' "$WORK/page-empty.html" || fail "no subscribe form on the status page"
grep -q 'value="checkout"' "$WORK/page-empty.html" || fail "no component choice in the form"

step "posting the form sends a confirmation email; nothing else yet"
curl -fsS -XPOST "$PAGE/subscribe" --data-urlencode email=Dana@E2E.example \
  --data-urlencode "name=Dana Scully" -d component=checkout >"$WORK/sent.html"
grep -q "Check your inbox" "$WORK/sent.html" || fail "no 'check your inbox' page"
[[ $(subscriber_status dana@e2e.example) == SUBSCRIBER_STATUS_PENDING ]] || fail "not pending"
wait_for 30 "the confirmation email" "$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" dana@e2e.example /subscribe/confirm
CONFIRM=$("$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" dana@e2e.example /subscribe/confirm)
[[ $CONFIRM == "$PAGE/subscribe/confirm?token="* ]] || fail "unexpected confirm link $CONFIRM"

step "opening the link (as a mail scanner would) only shows the button"
browse "$CONFIRM" "$WORK/confirm"
grep -q "Confirm my subscription" "$WORK/confirm.html" || fail "no confirm button"
[[ $(subscriber_status dana@e2e.example) == SUBSCRIBER_STATUS_PENDING ]] || fail "a GET confirmed"
TOKEN=${CONFIRM#*token=}
SECRETS+=("$TOKEN")
grep -q "You are subscribed" <<<"$(curl -fsS -XPOST "$PAGE/subscribe/confirm" --data-urlencode "token=$TOKEN")" \
  || fail "confirming failed"
[[ $(subscriber_status dana@e2e.example) == SUBSCRIBER_STATUS_ACTIVE ]] || fail "not active after confirming"

step "a published update reaches them, with RFC 8058 one-click headers"
fire checkout
wait_for 20 "first draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-1"
lead approve --as-written MSG-1 | grep -q "2 recipient(s) queued" || fail "approval did not queue 2 deliveries"
wait_for 60 "MSG-1 delivered" all_delivered MSG-1 2
UNSUBSCRIBE=$("$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" dana@e2e.example --list-unsubscribe) \
  || fail "the update has no one-click List-Unsubscribe"
"$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" dana@e2e.example "Hello Dana Scully" \
  || fail "the update is not addressed to Dana by name"

browse "$PAGE/" "$WORK/page-incident"
# The incident is named by its approved message, not by the alert.
grep -q "Checkout disruption" "$WORK/page-incident.html" || fail "the published incident is not on the page"
! grep -q "checkout is failing" "$WORK/page-incident.html" || fail "the alert's own words are on the page"
cp "$WORK/page-incident.png" "$ARTIFACTS/status-page.png"
cp "$WORK/confirm.png" "$ARTIFACTS/subscribe-confirm.png"

step "in Chromium, a German browser reads the page in German and switches to English"
PAGE_URL=$PAGE ARTIFACTS=$ARTIFACTS timeout 120 node "$BROWSER_DIR/status_page_language_test.mjs" \
  2>&1 | tee "$WORK/playwright-language.log"

step "in Chromium without script, they follow the Public API instead, in German, in Tokyo"
MANAGE=$("$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" dana@e2e.example /preferences) \
  || fail "the update has no link to change what they receive"
SECRETS+=("${MANAGE#*token=}")
MANAGE_URL=$MANAGE ARTIFACTS=$ARTIFACTS timeout 120 node "$BROWSER_DIR/preferences_test.mjs" \
  2>&1 | tee "$WORK/playwright.log"
lead audit -o json | grep -q '"preferences_changed"' || fail "the change is not in the audit log"

step "the next Checkout update no longer reaches them; a Public API one does, in German"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-1 "rolled back the deploy" --status monitoring >/dev/null
wait_for 20 "second draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-2"
lead approve --as-written MSG-2 | grep -q "1 recipient(s) queued" || fail "MSG-2 was queued for Dana, who left Checkout"
wait_for 60 "MSG-2 delivered" all_delivered MSG-2 1
fire api
wait_for 20 "the Public API incident's draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-3"
lead approve --as-written MSG-3 | grep -q "1 recipient(s) queued" || fail "MSG-3 was not queued for Dana alone"
wait_for 60 "MSG-3 delivered" all_delivered MSG-3 1
for phrase in "Guten Tag Dana Scully" "Japanische Normalzeit" "Public API"; do
  "$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" dana@e2e.example "$phrase" \
    || fail "Dana's Public API update lacks \"$phrase\""
done
UNSUBSCRIBE=$("$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" dana@e2e.example --list-unsubscribe) \
  || fail "the German update has no one-click List-Unsubscribe"

step "the one-click POST unsubscribes; the next update does not reach them"
curl -fsS -XPOST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'List-Unsubscribe=One-Click' "$UNSUBSCRIBE" >/dev/null
[[ $(subscriber_status dana@e2e.example) == SUBSCRIBER_STATUS_UNSUBSCRIBED ]] || fail "still subscribed"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-2 "found the bad config" --status identified >/dev/null
wait_for 20 "the fourth draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-4"
lead approve --as-written MSG-4 | grep -q "0 recipient(s) queued" || fail "MSG-4 was queued for the unsubscribed"
n=$("$SYSTEM_PYTHON" - "$MAIL" <<'PY'
import email, email.policy, pathlib, sys
print(sum(1 for p in pathlib.Path(sys.argv[1], "new").glob("*")
          if "dana@e2e.example" in p.read_text(errors="replace")))
PY
)
[[ $n == 3 ]] || fail "Dana got $n emails; expected the confirmation, MSG-1 and MSG-3 only"

metrics=$(curl -fsS "$PAGE/metrics")
for line in 'herald_self_service_events_total{event="requested"} 1' \
            'herald_self_service_events_total{event="confirmed"} 1' \
            'herald_self_service_events_total{event="preferences_changed"} 1' \
            'herald_self_service_events_total{event="unsubscribed"} 1'; do
  [[ $metrics == *"$line"* ]] || fail "metrics lack $line"
done
echo "PASS (screenshots in $ARTIFACTS)"
