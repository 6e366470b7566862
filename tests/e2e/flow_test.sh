#!/usr/bin/env bash
# End to end, on real parts: the real Alertmanager posts to a running heraldd,
# engineers and the comms lead drive the flow with the built `herald` CLI, and
# a real SMTP server (aiosmtpd) receives the point person's notice, the
# subscribers' status email and finally the personal apology.
#
# usage: flow_test.sh HERALDD HERALD
# Everything it starts, it stops (trap on EXIT). Listens on 127.0.0.1 only.
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require prometheus-alertmanager curl sha256sum "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
"$SYSTEM_PYTHON" -c 'import feedparser' || fail "python3-feedparser is not installed"

MAIL_HAS=$(dirname "$0")/mail_has.py
# mail_to ADDRESS PATTERN [--html]: a delivered email to ADDRESS contains
# PATTERN once decoded (with --html: in the HTML part of a text+HTML email)
mail_to() { "$SYSTEM_PYTHON" "$MAIL_HAS" "$WORK/mail" "$@"; }

SMTP_PORT=$(free_port); GRPC_PORT=$(free_port); HTTP_PORT=$(free_port); AM_PORT=$(free_port)
export HERALD_SERVER=127.0.0.1:$GRPC_PORT

step "start the SMTP server (aiosmtpd) on :$SMTP_PORT"
mkdir -p "$WORK"/mail/{cur,new,tmp}  # a Maildir
"$SYSTEM_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$WORK/mail" \
  >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)

step "write a herald config with hashed tokens"
ENGINEER_TOKEN=e2e-engineer-$RANDOM$RANDOM
LEAD_TOKEN=e2e-lead-$RANDOM$RANDOM
COMMS_TOKEN=e2e-comms-$RANDOM$RANDOM
WEBHOOK_TOKEN=e2e-webhook-$RANDOM$RANDOM
printf '%s\n' "$WEBHOOK_TOKEN" >"$WORK/webhook-token"
cat >"$WORK/herald.yaml" <<YAML
server:
  page_name: E2E Cloud
  data_dir: $WORK/data
  webhook_token_file: $WORK/webhook-token
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
  - {id: platform, name: Platform}
people:
$(e2e_people alice bob carol)
rotas:
  - {id: comms, component_ids: [checkout, platform], members: [bob], backup: carol, time_zone: Europe/London}
subscribers:
  - {id: globex, name: Grace Hopper, email: grace@globex.example, component_ids: [checkout]}
  - {id: umbrella, name: Jill Valentine, email: jill@umbrella.example, component_ids: [platform]}
smtp:
  url: smtp://127.0.0.1:$SMTP_PORT
  from: status@acme.example
intake:
  default_component: platform
  severity_impact: {critical: critical}
YAML

step "start heraldd"
start_heraldd

step "start Alertmanager pointed at heraldd"
start_alertmanager "$AM_PORT" "http://127.0.0.1:$HTTP_PORT/webhooks/alertmanager" "$WORK/webhook-token"

post_alert() {  # post_alert ENDS_AT (empty: firing)
  local ends=""
  [[ -n $1 ]] && ends=",\"endsAt\":\"$1\""
  curl -fsS -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:$AM_PORT/api/v2/alerts" -d "[{
    \"labels\":{\"alertname\":\"CheckoutErrors\",\"service\":\"checkout\",\"severity\":\"critical\"},
    \"annotations\":{\"summary\":\"Checkout 5xx above 5%\"}$ends}]" >/dev/null
}

step "fire an alert through Alertmanager's API"
post_alert ""
incident_open() { local s; s=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" incidents -o json) && [[ $s == *'"ref": "INC-1"'* ]]; }
wait_for 30 "incident INC-1 opened from the webhook" incident_open
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" show INC-1 -o json >"$WORK/show.json"
grep -q '"pointPersonId": "bob"' "$WORK/show.json" || fail "point person not recorded: $(cat "$WORK/show.json")"
wait_for 20 "point person's email" mail_to bob@acme.example "point person"

step "the first investigating draft is ready at once; the comms lead is told"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" messages | grep -q "MSG-1" || fail "no first draft MSG-1"
wait_for 20 "comms lead told a draft waits" mail_to carol@acme.example "MSG-1 is waiting for your approval"

step "engineer posts a short update; it becomes the new draft"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-1 "rolled back the deploy, errors falling" --status identified --eta 30m
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" messages | grep -q "MSG-2" || fail "draft MSG-2 not listed"
if HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" approve MSG-2 2>"$WORK/denied.txt"; then
  fail "an engineer could approve"
fi
grep -q "permission denied" "$WORK/denied.txt" || fail "engineer approval not denied: $(cat "$WORK/denied.txt")"

step "the point person edits the draft; the diff shows the change"
printf 'We rolled back a faulty deploy. Checkout errors are falling.\n' >"$WORK/body.txt"
HERALD_TOKEN=$COMMS_TOKEN "$HERALD" messages edit MSG-2 --title "Checkout errors after a deploy" --body-file "$WORK/body.txt"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" messages diff MSG-2 >"$WORK/diff.txt"
grep -q "^+We rolled back a faulty deploy" "$WORK/diff.txt" || fail "diff lacks the edit: $(cat "$WORK/diff.txt")"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" messages preview MSG-2 >"$WORK/preview.txt"
for part in "== status_page" "Subject: " "-- HTML part --" "== short_text"; do
  grep -q -- "$part" "$WORK/preview.txt" || fail "preview lacks \"$part\": $(cat "$WORK/preview.txt")"
done
curl -fsS "http://127.0.0.1:$HTTP_PORT/" | grep -q "faulty deploy" && fail "an unapproved draft is on the status page"

step "approving the version reviewed before the edit is refused"
if HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve MSG-2 --version 1 2>"$WORK/stale.txt"; then
  fail "a stale version was approved"
fi
grep -q "aborted" "$WORK/stale.txt" || fail "stale approval not aborted: $(cat "$WORK/stale.txt")"

step "comms lead approves the edited version; status page, JSON and subscribers' email follow"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve MSG-2 --version 2
curl -fsS "http://127.0.0.1:$HTTP_PORT/" >"$WORK/page.html"
grep -q "We rolled back a faulty deploy" "$WORK/page.html" || fail "status page lacks the approved text"
grep -qi "rolled back the deploy, errors falling" "$WORK/page.html" && fail "status page shows the engineer's unapproved note"
curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v2/summary.json" | grep -q '"status":"identified"' \
  || fail "summary.json lacks the identified incident"
wait_for 20 "subscriber's status email" mail_to grace@globex.example "We rolled back a faulty deploy"
mail_to grace@globex.example "<p>We rolled back a faulty deploy" --html \
  || fail "the status email lacks its HTML alternative"
mail_to jill@umbrella.example "." && fail "a subscriber of an unaffected component was emailed"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" audit INC-1 >"$WORK/audit.txt"
for action in drafted superseded edited approved; do
  grep -q " $action " "$WORK/audit.txt" || fail "audit lacks $action: $(cat "$WORK/audit.txt")"
done

step "the Atom feed carries the approved update, and a real feed parser accepts it"
curl -fsS "http://127.0.0.1:$HTTP_PORT/history.atom" >"$WORK/feed1.xml"
"$SYSTEM_PYTHON" - "$WORK/feed1.xml" <<'PY' || fail "feed: $(cat "$WORK/feed1.xml")"
import feedparser, sys
f = feedparser.parse(sys.argv[1])
assert not f.bozo, f.bozo_exception
assert f.version == "atom10", f.version
[e] = f.entries
assert "We rolled back a faulty deploy" in e.summary, e.summary
assert e.id.endswith("#MSG-2") and e.published_parsed, e
PY

step "the alert resolves in Alertmanager; herald proposes resolution"
post_alert "$(date -u -d '-1 second' +%Y-%m-%dT%H:%M:%SZ)"
# Whole outputs are captured before matching: `grep -q` would stop reading
# early and, under pipefail, fail the pipeline with the writer's SIGPIPE.
ready() { local s; s=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" show INC-1 -o json) && [[ $s == *'"readyToResolve": true'* ]]; }
wait_for 30 "incident marked ready to resolve" ready
wait_for 20 "point person told it is ready to resolve" mail_to bob@acme.example "ready to resolve"

step "resolve, approve the resolution and the apology"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" resolve INC-1 --note "A faulty deploy broke payments; we rolled it back and added a canary stage."
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" messages -o json >"$WORK/drafts.json"
for kind in RESOLUTION APOLOGY; do
  grep -q "MESSAGE_KIND_$kind" "$WORK/drafts.json" || fail "no $kind draft: $(cat "$WORK/drafts.json")"
done
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve --as-written MSG-3
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve --as-written MSG-4

wait_for 20 "personal apology to Grace" mail_to grace@globex.example "Dear Grace Hopper"
mail_to grace@globex.example "canary stage" || fail "apology lacks the account of what happened"
curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v2/summary.json" | grep -q '"indicator":"none"' \
  || fail "status did not return to operational"
curl -fsS "http://127.0.0.1:$HTTP_PORT/history.atom" >"$WORK/feed2.xml"
"$SYSTEM_PYTHON" - "$WORK/feed1.xml" "$WORK/feed2.xml" <<'PY' || fail "feed after resolution: $(cat "$WORK/feed2.xml")"
import feedparser, sys
before, after = (feedparser.parse(p) for p in sys.argv[1:3])
ids = [e.id for e in after.entries]
assert len(ids) == 2 and ids[0].endswith("#MSG-3"), ids  # newest first
assert before.entries[0].id in ids, "an entry id changed"
PY

step "sending the same Alertmanager payload again changes nothing"
before=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" incidents --all -o json)
post_alert "$(date -u -d '-1 second' +%Y-%m-%dT%H:%M:%SZ)"
after=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" incidents --all -o json)
[[ "$before" == "$after" ]] || fail "a repeated resolved notification changed incidents"

step "an engineer schedules maintenance; nothing is public until the comms lead approves"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" maintenance schedule --component checkout --from 24h --to 26h \
  "Database upgrade; checkout may be slow for a few minutes" >"$WORK/maintenance.txt"
grep -q "INC-2 scheduled" "$WORK/maintenance.txt" || fail "schedule output: $(cat "$WORK/maintenance.txt")"
grep -q "Database upgrade" <<<"$(curl -fsS "http://127.0.0.1:$HTTP_PORT/")" && fail "an unapproved announcement is public"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve --as-written MSG-5
grep -q "Scheduled maintenance" <<<"$(curl -fsS "http://127.0.0.1:$HTTP_PORT/")" || fail "status page lacks the maintenance"
curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v2/summary.json" >"$WORK/summary.json"
"$SYSTEM_PYTHON" - "$WORK/summary.json" <<'PY' || fail "summary.json: $(cat "$WORK/summary.json")"
import json, sys
s = json.load(open(sys.argv[1]))
[m] = s.get("scheduled_maintenances", [])
assert m["status"] == "scheduled" and m["scheduled_for"] and m["scheduled_until"], m
assert "Database upgrade" in m["incident_updates"][0]["body"], m
assert not s.get("incidents"), s["incidents"]
PY
wait_for 20 "subscriber's maintenance email" mail_to grace@globex.example "Database upgrade"

step "the maintenance is cancelled; the page no longer lists it"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" maintenance cancel INC-2 --reason "postponed"
grep -q "Database upgrade" <<<"$(curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v2/summary.json")" \
  && fail "a cancelled maintenance is still listed"

step "the comms console: sign in with a token, then its JSON API calls the same services"
CONSOLE=http://127.0.0.1:$HTTP_PORT/console
# console_api_as TOKEN METHOD JSON: signs in with TOKEN (a fresh cookie jar),
# calls the API method, prints the body and then the HTTP status.
console_api_as() {
  local jar=$WORK/jar-$RANDOM csrf
  curl -fsS -c "$jar" -o /dev/null --data-urlencode "token=$1" "$CONSOLE/sign-in"
  csrf=$(curl -fsS -b "$jar" "$CONSOLE/" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
  curl -sS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -w '\n%{http_code}' -d "$3" "$CONSOLE/api/$2"
}
out=$(console_api_as "$LEAD_TOKEN" herald.v1.MessageService/ListMessages '{"incident": "INC-1", "states": ["MESSAGE_STATE_PUBLISHED"]}')
[[ ${out##*$'\n'} == 200 && $out == *'"ref":"MSG-2"'* ]] || fail "console API as the comms lead: $out"
out=$(console_api_as "$ENGINEER_TOKEN" herald.v1.MessageService/ApproveMessage '{"message": "MSG-1"}')
[[ ${out##*$'\n'} == 403 && $out == *PERMISSION_DENIED* ]] || fail "an engineer approved through the console: $out"

echo "1 passed, 0 failed"
