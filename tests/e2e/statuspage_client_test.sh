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
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
  - {id: dashboard, name: Dashboard, matchers: ['service="dashboard"']}
  - {id: api, name: Public API, matchers: ['service="api"']}
component_groups: [{id: storefront, name: Storefront, components: [checkout, dashboard]}]
people:
$(e2e_people alice carol)
rotas:
  - {id: comms, component_ids: [checkout, dashboard, api], members: [carol], time_zone: Europe/London}
intake: {default_component: api}
YAML
as() { local token=$1; shift; HERALD_TOKEN=$token "$HERALD" "$@"; }

# draft_of INCIDENT KIND: the ref of INCIDENT's newest draft of KIND (e.g.
# STATUS_UPDATE, RESOLUTION, MAINTENANCE); empty when there is none.
draft_of() {
  as "$LEAD_TOKEN" messages --incident "$1" --state draft -o json | "$SYSTEM_PYTHON" -c '
import json, sys
ms = [m for m in json.load(sys.stdin).get("messages", []) if m["kind"] == "MESSAGE_KIND_" + sys.argv[1]]
print(ms[-1]["ref"] if ms else "")' "$2"
}
has_draft() { [[ -n $(draft_of "$1" "$2") ]]; }

# approve_draft INCIDENT KIND: the comms lead approves that draft.
approve_draft() {
  local ref
  ref=$(draft_of "$1" "$2")
  [[ -n $ref ]] || fail "$1 has no $2 draft to approve"
  as "$LEAD_TOKEN" approve "$ref" >/dev/null
}

# schedule_maintenance FROM TO TEXT --component C...: schedules it, approves
# its announcement and sets SCHEDULED to the maintenance's incident id.
schedule_maintenance() {
  local from=$1 to=$2 text=$3 out; shift 3
  out=$(as "$ENGINEER_TOKEN" maintenance schedule "$@" --from "$from" --to "$to" "$text")
  SCHEDULED=$(sed -n 's/^\(INC-[0-9]*\) scheduled.*/\1/p' <<<"$out")
  [[ -n $SCHEDULED ]] || fail "maintenance schedule said: $out"
  approve_draft "$SCHEDULED" MAINTENANCE
}

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
fire dashboard
wait_for 10 "INC-2's first draft" has_draft INC-2 STATUS_UPDATE
approve_draft INC-2 STATUS_UPDATE
as "$ENGINEER_TOKEN" resolve INC-2 --note "A failed cache node slowed the dashboard; we replaced it." >/dev/null
approve_draft INC-2 RESOLUTION
printf '%s\n\n%s\n' "A cache node failed and slowed every dashboard request." \
  "We replaced it and now alert on its latency." >"$WORK/postmortem.txt"
as "$LEAD_TOKEN" postmortem INC-2 --file "$WORK/postmortem.txt" >/dev/null

# Maintenances take incident ids too, so they come after INC-1 and INC-2.
# The storefront's window is short, but far longer than the rest of the test.
step "the storefront's maintenance starts in 3 s and the API's tomorrow; both are announced"
schedule_maintenance 3s 10m "Moving the storefront to a new cluster" --component checkout --component dashboard
STOREFRONT_MAINTENANCE=$SCHEDULED
schedule_maintenance 24h 26h "Database upgrade; the API may be slow for a few minutes" --component api

step "wait for $STOREFRONT_MAINTENANCE to be in progress"
wait_for 30 "$STOREFRONT_MAINTENANCE in scheduled-maintenances/active.json" active_maintenances_are 1

step "statuspage.io reads every endpoint; its types find nothing missing or mistyped"
timeout 60 node "$CLIENT_DIR/check_statuspage_api.mjs" "$PAGE"
echo PASS
