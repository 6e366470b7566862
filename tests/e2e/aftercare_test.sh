#!/usr/bin/env bash
# Post-incident care end to end, through a real SMTP server (aiosmtpd) and
# the built CLI. One checkout incident affects three customers on three
# plans: Globex (business) subscribes to checkout; Umbrella (enterprise) only
# subscribes to the dashboard, but an alert's customer label names it;
# Initech (starter) both subscribes and is named. Hooli subscribes to the
# dashboard only and is not affected. After resolution:
#   - Umbrella's 20% credit exceeds the rota's 10% authority: the comms
#     lead's approval is refused until an admin approves the credits;
#   - exactly three personal apologies arrive, each with the customer's
#     name, their components, the duration and their credit or voucher;
#   - the follow-up arrives by itself once aftercare.follow_up_after (3s
#     here, so that the clock advances for real) has passed;
#   - an answer given through a follow-up link shows up for the point person
#     (`herald follow-ups --problems`) and in their inbox.
#
# usage: aftercare_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl sha256sum "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
HERE=$(dirname "$0")

pick_ports
start_mail_sink
make_tokens

cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
  - {id: dashboard, name: Dashboard, matchers: ['service="dashboard"']}
people:
$(e2e_people alice bob carol dave)
rotas:
  - {id: comms, component_ids: [checkout, dashboard], members: [bob], backup: carol,
     time_zone: Europe/London, authority: {max_credit_percent: 10}}
subscribers:
  - {id: globex, name: Grace Hopper, email: grace@globex.example, account: Globex, plan: business, component_ids: [checkout]}
  - {id: umbrella, name: Jill Valentine, email: jill@umbrella.example, account: Umbrella, plan: enterprise, component_ids: [dashboard]}
  - {id: initech, name: Peter Gibbons, email: peter@initech.example, account: Initech, plan: starter, component_ids: [checkout]}
  - {id: hooli, name: Gavin Belson, email: gavin@hooli.example, account: Hooli, plan: business, component_ids: [dashboard]}
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example}
intake: {default_component: checkout, customer_labels: [customer, tenant]}
delivery: {workers: 2, retry_schedule: [200ms, 400ms, 800ms, 1s]}
aftercare:
  credit_tiers:
    - {plans: [business], percent: 10}
    - {plans: [enterprise], percent: 20}
  vouchers:
    - {plans: [starter], value: one month of Starter free}
  plans:
    - {id: business, monthly_fee_cents: 49900, currency: EUR}
    - {id: enterprise, monthly_fee_cents: 249900, currency: EUR}
  follow_up_after: 3s
YAML
as() { local token=$1; shift; HERALD_TOKEN=$token "$HERALD" "$@"; }

# message_of KIND: the id of INC-1's message of KIND (e.g. APOLOGY).
message_of() {
  as "$LEAD_TOKEN" messages --incident INC-1 --state draft,published -o json | "$SYSTEM_PYTHON" -c '
import json, sys
ms = [m for m in json.load(sys.stdin).get("messages", []) if m["kind"] == "MESSAGE_KIND_" + sys.argv[1]]
print(ms[-1]["ref"] if ms else "")' "$1"
}

# emails_with SUBJECT_PATTERN: how many emails in the Maildir have a
# subject matching the pattern, one line per recipient.
emails_with() {
  "$SYSTEM_PYTHON" - "$MAIL" "$1" <<'PY'
import email, email.policy, pathlib, re, sys
for p in sorted(pathlib.Path(sys.argv[1], "new").glob("*")):
    m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
    if re.search(sys.argv[2], str(m["Subject"])):
        print(m["To"].addresses[0].addr_spec)
PY
}
count_emails() { [[ $(emails_with "$1" | wc -l) -ge $2 ]]; }

start_heraldd

step "an alert names Umbrella and Initech; the incident goes public"
curl -fsS -XPOST -H "Authorization: Bearer $WEBHOOK_TOKEN" -H 'Content-Type: application/json' \
  "$PAGE/webhooks/alertmanager" -d "{
    \"version\":\"4\",\"groupKey\":\"{}:{service=\\\"checkout\\\"}\",\"status\":\"firing\",\"receiver\":\"herald\",
    \"groupLabels\":{\"service\":\"checkout\"},\"commonLabels\":{},\"commonAnnotations\":{},\"externalURL\":\"http://am\",
    \"alerts\":[
      {\"status\":\"firing\",\"labels\":{\"alertname\":\"Errors\",\"service\":\"checkout\",\"customer\":\"Umbrella\"},
       \"annotations\":{\"summary\":\"checkout is failing\"},\"startsAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",
       \"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"fp-umbrella\"},
      {\"status\":\"firing\",\"labels\":{\"alertname\":\"Errors\",\"service\":\"checkout\",\"tenant\":\"Initech\"},
       \"annotations\":{\"summary\":\"checkout is failing\"},\"startsAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",
       \"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"fp-initech\"}]}" >/dev/null
wait_for 20 "first draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-1"
as "$LEAD_TOKEN" approve MSG-1 >/dev/null
as "$LEAD_TOKEN" affected INC-1 >"$WORK/affected.txt"
grep -q "3 affected customer(s)" "$WORK/affected.txt" || fail "expected 3 affected customers: $(cat "$WORK/affected.txt")"
grep -q "hooli" "$WORK/affected.txt" && fail "Hooli is not affected"

step "resolve; Umbrella's 20% credit waits for an admin"
as "$ENGINEER_TOKEN" resolve INC-1 --note "A faulty deploy broke payments; we rolled it back." >/dev/null
RESOLUTION=$(message_of RESOLUTION); APOLOGY=$(message_of APOLOGY)
[[ -n $RESOLUTION && -n $APOLOGY ]] || fail "resolve drafted no resolution and apology"
as "$LEAD_TOKEN" approve "$RESOLUTION" >/dev/null
as "$LEAD_TOKEN" messages preview "$APOLOGY" >"$WORK/preview.txt"
grep -q "Dear Grace Hopper" "$WORK/preview.txt" || fail "the preview lacks Globex's own letter"
if as "$LEAD_TOKEN" approve "$APOLOGY" 2>"$WORK/refused.txt"; then
  fail "an apology above the rota's authority was approved without an admin"
fi
grep -q "herald credits approve INC-1" "$WORK/refused.txt" || fail "the refusal does not say how to proceed"
grep -q "approved up to 20%" <<<"$(as "$ADMIN_TOKEN" credits approve INC-1)" || fail "the admin could not approve"
grep -q "3 recipient(s) queued" <<<"$(as "$LEAD_TOKEN" approve "$APOLOGY")" \
  || fail "the apology was not queued for exactly the three customers"

step "three personal apologies arrive, each with its own facts"
wait_for 60 "the apologies delivered" all_delivered "$APOLOGY" 3
as "$LEAD_TOKEN" credits INC-1 -o json >"$WORK/credits.json"
VOUCHER=$("$SYSTEM_PYTHON" -c '
import json, sys
a = {x["subscriberId"]: x for x in json.load(open(sys.argv[1]))["amends"]}
print(a["initech"]["credit"]["voucherCode"])' "$WORK/credits.json")
[[ $VOUCHER =~ ^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$ ]] || fail "no voucher code for Initech: $VOUCHER"
has() { "$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" "$1" "$2" || fail "$1's apology lacks: $2"; }
has grace@globex.example "Dear Grace Hopper"
has grace@globex.example "On .*, Checkout stopped working as it should for you"
has grace@globex.example "The disruption lasted under a minute"
has grace@globex.example "a credit of 10% of your monthly fee \(EUR 49\.90\)"
has jill@umbrella.example "Dear Jill Valentine"
has jill@umbrella.example "Checkout stopped working"
has jill@umbrella.example "a credit of 20% of your monthly fee \(EUR 499\.80\)"
has peter@initech.example "Dear Peter Gibbons"
has peter@initech.example "a voucher for one month of Starter free \(code $VOUCHER\)"
has peter@initech.example "We are sorry. This was our failure"
[[ $(emails_with "we are sorry" | sort | tr '\n' ' ') == \
   "grace@globex.example jill@umbrella.example peter@initech.example " ]] \
  || fail "expected exactly three apologies, got: $(emails_with 'we are sorry' | tr '\n' ' ')"

step "the follow-ups arrive by themselves"
wait_for 60 "three follow-ups" count_emails "is everything working again" 3
[[ $(emails_with "is everything working again" | wc -l) == 3 ]] || fail "more than three follow-ups"
"$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" peter@initech.example "Has your voucher" \
  || fail "Initech's follow-up does not ask about the voucher"

step "an answer through a follow-up link reaches the point person"
BROKEN=$("$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" peter@initech.example /follow-up --after "still broken:")
grep -q "Send my answer" <<<"$(curl -fsS "$BROKEN")" || fail "the answer link shows no button"
grep -q "No customer reported a problem" <<<"$(as "$COMMS_TOKEN" follow-ups INC-1 --problems)" \
  || fail "opening the link recorded an answer"
grep -q "A person has been told" <<<"$(curl -fsS -XPOST "$PAGE/follow-up" --data-urlencode "token=${BROKEN#*token=}")" \
  || fail "the answer was not recorded"
as "$COMMS_TOKEN" follow-ups INC-1 --problems >"$WORK/problems.txt"
grep -q "initech" "$WORK/problems.txt" && grep -q "still broken" "$WORK/problems.txt" \
  || fail "the point person does not see Initech's answer: $(cat "$WORK/problems.txt")"
wait_for 30 "the point person's notice" "$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" bob@acme.example \
  "Initech answered the follow-up: still broken"
grep -q 'herald_follow_up_answers_total{answer="still_broken"} 1' <<<"$(curl -fsS "$PAGE/metrics")" \
  || fail "the answer is not counted"
echo PASS
