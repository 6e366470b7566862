# Shorthands of the e2e tests that publish through the CLI, as people do:
# run the CLI as someone, find and approve drafts, schedule maintenance.
# Sourced after lib.sh, with HERALD, LEAD_TOKEN, ENGINEER_TOKEN and
# SYSTEM_PYTHON set.

# as TOKEN ARGS...: the CLI as the person TOKEN belongs to.
as() { local token=$1; shift; HERALD_TOKEN=$token "$HERALD" "$@"; }

# draft_of INCIDENT KIND: the ref of INCIDENT's newest draft of KIND (e.g.
# STATUS_UPDATE, RESOLUTION, MAINTENANCE); empty when there is none.
# (A maintenance notice its announcement's approval covers is not one.)
draft_of() {
  as "$LEAD_TOKEN" messages --incident "$1" --state draft -o json | "$SYSTEM_PYTHON" -c '
import json, sys
ms = [m for m in json.load(sys.stdin).get("messages", [])
      if m["kind"] == "MESSAGE_KIND_" + sys.argv[1] and str(m.get("coveredBy", "0")) == "0"]
print(ms[-1]["ref"] if ms else "")' "$2"
}
has_draft() { [[ -n $(draft_of "$1" "$2") ]]; }

# approve_draft INCIDENT KIND: the comms lead approves that draft.
approve_draft() {
  local ref
  ref=$(draft_of "$1" "$2")
  [[ -n $ref ]] || fail "$1 has no $2 draft to approve"
  as "$LEAD_TOKEN" approve --as-written "$ref" >/dev/null
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

# public_site_config: the components, group, people and rota of the tests
# that read the whole public site (YAML, after e2e_server).
public_site_config() {
  cat <<YAML
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
}

# resolve_dashboard_incident: fires on the dashboard (INC-2 when INC-1 is
# open), approves its update and resolution, and attaches a postmortem.
resolve_dashboard_incident() {
  fire dashboard
  wait_for 10 "INC-2's first draft" has_draft INC-2 STATUS_UPDATE
  approve_draft INC-2 STATUS_UPDATE
  as "$ENGINEER_TOKEN" resolve INC-2 --note "A failed cache node slowed the dashboard; we replaced it." >/dev/null
  approve_draft INC-2 RESOLUTION
  printf '%s\n\n%s\n' "A cache node failed and slowed every dashboard request." \
    "We replaced it and now alert on its latency." >"$WORK/postmortem.txt"
  as "$LEAD_TOKEN" postmortem INC-2 --file "$WORK/postmortem.txt" >/dev/null
}

# announce_two_maintenances: the storefront's, starting in 3 s (short, but
# far longer than any test), and the API's tomorrow; both approved.
# STOREFRONT_MAINTENANCE is the first one's id.
announce_two_maintenances() {
  schedule_maintenance 3s 10m "Moving the storefront to a new cluster" --component checkout --component dashboard
  STOREFRONT_MAINTENANCE=$SCHEDULED
  schedule_maintenance 24h 26h "Database upgrade; the API may be slow for a few minutes" --component api
}
