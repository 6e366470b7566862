#!/usr/bin/env bash
# herald's Statuspage-compatible JSON (/api/v2/) read by a third-party
# client: tests/statuspage_client/check_statuspage_api.mjs fetches all eight
# endpoints with the statuspage.io npm package and validates each against a
# schema generated from that package's own types. The page it reads has
# something on every endpoint, each set up with the built CLI as people would:
#   - a component group, Storefront, of checkout and dashboard, and an
#     ungrouped component, the public API;
#   - INC-1 on checkout: open, with an engineer's update the comms lead approved;
#   - INC-2 on dashboard: resolved, its resolution approved, with a postmortem;
#   - maintenance of the storefront that starts a few seconds after it is
#     scheduled (the test waits until active.json lists it), and maintenance
#     of the API tomorrow; both announcements approved.
#
# usage: statuspage_client_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/publishing.sh"
require curl sha256sum node "$SYSTEM_PYTHON"
CLIENT_DIR=$(realpath "$(dirname "$0")/../statuspage_client")
for package in statuspage.io ajv ts-json-schema-generator; do
  [[ -d $CLIENT_DIR/node_modules/$package ]] ||
    fail "$package is not installed: run npm ci --prefix tests/statuspage_client (deploy/quickstart.sh test does)"
done

pick_ports
make_tokens

cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
$(public_site_config)
YAML

# active_maintenances_are N: active.json lists N maintenances.
active_maintenances_are() {
  curl -fsS "$PAGE/api/v2/scheduled-maintenances/active.json" | "$SYSTEM_PYTHON" -c '
import json, sys
sys.exit(0 if len(json.load(sys.stdin)["scheduled_maintenances"]) == int(sys.argv[1]) else 1)' "$1"
}

start_heraldd

step "INC-1 on checkout stays open, with an approved update"
fire checkout
wait_for 10 "INC-1's first draft" has_draft INC-1 STATUS_UPDATE
as "$ENGINEER_TOKEN" update INC-1 "Rolled back the cart deploy; errors are falling" >/dev/null
approve_draft INC-1 STATUS_UPDATE

step "INC-2 on dashboard is resolved, with an approved resolution and a postmortem"
resolve_dashboard_incident

# Maintenances take incident ids too, so they come after INC-1 and INC-2.
# The storefront's window is short, but far longer than the rest of the test.
step "the storefront's maintenance starts in 3 s and the API's tomorrow; both are announced"
announce_two_maintenances

step "wait for $STOREFRONT_MAINTENANCE to be in progress"
wait_for 30 "$STOREFRONT_MAINTENANCE in scheduled-maintenances/active.json" active_maintenances_are 1

step "statuspage.io reads every endpoint; its types find nothing missing or mistyped"
timeout 60 node "$CLIENT_DIR/check_statuspage_api.mjs" "$PAGE"
echo PASS
