#!/usr/bin/env bash
# The comms console in a real browser: Debian's headless Chromium driven by
# Playwright (tests/browser/console_test.mjs) against a running heraldd. An
# alert opens an incident, an engineer's `herald update` drafts a message,
# and the comms lead signs in, sees it, edits and approves it; the public
# status page then shows the edited text, and an engineer is refused.
# Screenshots of the inbox and the review page are kept in ARTIFACTS_DIR.
#
# usage: console_browser_test.sh HERALDD HERALD ARTIFACTS_DIR
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
ARTIFACTS=$(realpath -m "$3")
source "$(dirname "$0")/lib.sh"
require curl sha256sum node /usr/bin/chromium
BROWSER_DIR=$(realpath "$(dirname "$0")/../browser")
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
people:
$(e2e_people alice bob carol)
rotas:
  - {id: comms, component_ids: [checkout], members: [bob], time_zone: Europe/London}
subscribers:
  - {id: globex, name: Grace Hopper, email: grace@globex.example, account: Globex, plan: business, component_ids: [checkout]}
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example}
intake: {default_component: checkout}
delivery: {workers: 2, retry_schedule: [200ms, 400ms, 800ms, 1s]}
YAML
start_heraldd

step "an alert opens INC-1; the engineer's update drafts a message"
fire checkout
wait_for 10 "INC-1" env HERALD_TOKEN="$ENGINEER_TOKEN" "$HERALD" show INC-1
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-1 "rolled back the cart deploy, errors falling" >/dev/null

step "the comms lead reviews, edits and approves it in Chromium"
HERALD_URL=$PAGE LEAD_TOKEN=$LEAD_TOKEN ENGINEER_TOKEN=$ENGINEER_TOKEN \
  HERALD_BIN=$HERALD ARTIFACTS=$ARTIFACTS APPROVED_REF_FILE=$WORK/approved \
  timeout 180 node "$BROWSER_DIR/console_test.mjs" 2>&1 | tee "$WORK/playwright.log"

step "the edited text went out by email too"
wait_for 20 "the approved message delivered" all_delivered "$(cat "$WORK/approved")" 1
"$SYSTEM_PYTHON" "$(dirname "$0")/mail_has.py" "$MAIL" grace@globex.example "cart release and checkout errors are falling" ||
  fail "the email does not carry the edited text"
echo "PASS"
