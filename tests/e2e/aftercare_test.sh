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
# Each customer reads in their own language and time zone: Globex in English
# in New York, Umbrella in German in Berlin, Initech in German in Tokyo; the
# letters are signed by a person and replies go to the care address.
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
customer_comms:
  signed_by: {name: Carol Jones, title: Head of Customer Care}
  reply_to: care@acme.example
subscribers:
  - {id: globex, name: Grace Hopper, preferred_name: Grace, email: grace@globex.example, account: Globex, plan: business,
     component_ids: [checkout], locale: en, time_zone: America/New_York}
  - {id: umbrella, name: Jill Valentine, email: jill@umbrella.example, account: Umbrella, plan: enterprise,
     component_ids: [dashboard], locale: de, time_zone: Europe/Berlin}
  - {id: initech, name: Peter Gibbons, email: peter@initech.example, account: Initech, plan: starter,
     component_ids: [checkout], locale: de-DE, time_zone: Asia/Tokyo}
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
as "$LEAD_TOKEN" approve --as-written MSG-1 >/dev/null
as "$LEAD_TOKEN" affected INC-1 >"$WORK/affected.txt"
grep -q "3 affected customer(s)" "$WORK/affected.txt" || fail "expected 3 affected customers: $(cat "$WORK/affected.txt")"
grep -q "hooli" "$WORK/affected.txt" && fail "Hooli is not affected"

step "resolve; Umbrella's 20% credit waits for an admin"
as "$ENGINEER_TOKEN" resolve INC-1 --note "A faulty deploy broke payments; we rolled it back." >/dev/null
RESOLUTION=$(message_of RESOLUTION); APOLOGY=$(message_of APOLOGY)
[[ -n $RESOLUTION && -n $APOLOGY ]] || fail "resolve drafted no resolution and apology"
as "$LEAD_TOKEN" approve --as-written "$RESOLUTION" >/dev/null
as "$LEAD_TOKEN" messages preview "$APOLOGY" >"$WORK/preview.txt"
grep -q "Dear Grace," "$WORK/preview.txt" || fail "the preview lacks Globex's own letter"
if as "$LEAD_TOKEN" approve --as-written "$APOLOGY" 2>"$WORK/refused.txt"; then
  fail "an apology above the rota's authority was approved without an admin"
fi
grep -q "herald credits approve INC-1" "$WORK/refused.txt" || fail "the refusal does not say how to proceed"
grep -q "approved up to 20%" <<<"$(as "$ADMIN_TOKEN" credits approve INC-1)" || fail "the admin could not approve"
grep -q "3 recipient(s) queued" <<<"$(as "$LEAD_TOKEN" approve --as-written "$APOLOGY")" \
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
# today_in ZONE: the date of now in ZONE, as "DAY MONTH-NUMBER".
today_in() { "$SYSTEM_PYTHON" -c 'import datetime, sys, zoneinfo; d = datetime.datetime.now(zoneinfo.ZoneInfo(sys.argv[1])); print(d.day, d.month)' "$1"; }
read -r NY_DAY NY_MONTH <<<"$(today_in America/New_York)"
read -r BERLIN_DAY BERLIN_MONTH <<<"$(today_in Europe/Berlin)"
read -r TOKYO_DAY TOKYO_MONTH <<<"$(today_in Asia/Tokyo)"
ENGLISH_MONTHS=(x January February March April May June July August September October November December)
GERMAN_MONTHS=(x Januar Februar März April Mai Juni Juli August September Oktober November Dezember)
has grace@globex.example "Dear Grace,"
has grace@globex.example "On ${ENGLISH_MONTHS[$NY_MONTH]} $NY_DAY, 20[0-9][0-9] at [0-9]{1,2}:[0-9]{2} [AP]M E[SD]T, Checkout stopped working as it should for you"
has grace@globex.example "The disruption lasted [0-9]+ seconds?"
has grace@globex.example "a credit of 10% of your monthly fee \(EUR 49\.90\)"
has grace@globex.example "Carol Jones Head of Customer Care"
has jill@umbrella.example "Guten Tag Jill Valentine,"
has jill@umbrella.example "am $BERLIN_DAY\. ${GERMAN_MONTHS[$BERLIN_MONTH]} 20[0-9][0-9] um [0-9]{2}:[0-9]{2} MES?Z hat Checkout"
has jill@umbrella.example "Die Störung dauerte [0-9]+ Sekunden?"
has jill@umbrella.example "Gutschrift in Höhe von 20 % Ihrer Monatsgebühr \(499,80 €\)"
has peter@initech.example "Guten Tag Peter Gibbons,"
has peter@initech.example "am $TOKYO_DAY\. ${GERMAN_MONTHS[$TOKYO_MONTH]} 20[0-9][0-9] um [0-9]{2}:[0-9]{2} Japanische Normalzeit"
has peter@initech.example "Gutschein für one month of Starter free \(Code $VOUCHER\)"
has peter@initech.example "Carol Jones Head of Customer Care"
for who in grace@globex.example jill@umbrella.example peter@initech.example; do
  "$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" "$who" "UTC" && fail "$who's letter has a time in UTC"
done
# reply_to ADDRESS: the Reply-To of every email to ADDRESS, one per line.
reply_to() {
  "$SYSTEM_PYTHON" - "$MAIL" "$1" <<'PY'
import email, email.policy, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1], "new").glob("*")):
    m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
    if sys.argv[2] in [a.addr_spec for a in m["To"].addresses]:
        print(m["Reply-To"] or "none")
PY
}
[[ $(reply_to grace@globex.example | sort -u) == "care@acme.example" ]] \
  || fail "Grace's emails do not all say Reply-To: care@acme.example: $(reply_to grace@globex.example)"
# Each status update is in the reader's language too: Initech's first one.
has peter@initech.example "Stand: Wird untersucht"
has grace@globex.example "Status: investigating"
[[ $(emails_with "we are sorry|tut uns leid" | sort | tr '\n' ' ') == \
   "grace@globex.example jill@umbrella.example peter@initech.example " ]] \
  || fail "expected exactly three apologies, got: $(emails_with 'we are sorry|tut uns leid' | tr '\n' ' ')"

step "the follow-ups arrive by themselves"
FOLLOW_UP="is everything working again|funktioniert bei Ihnen wieder alles"
wait_for 60 "three follow-ups" count_emails "$FOLLOW_UP" 3
[[ $(emails_with "$FOLLOW_UP" | wc -l) == 3 ]] || fail "more than three follow-ups"
"$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" peter@initech.example "Ist der Gutschein bei Ihnen angekommen" \
  || fail "Initech's follow-up does not ask about the voucher"
"$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" jill@umbrella.example "[0-9]+ Sekunden? lang nicht wie gewohnt nutzen" \
  || fail "Umbrella's follow-up gives no German duration"
"$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" grace@globex.example "Checkout failed you for [0-9]+ seconds?" \
  || fail "Globex's follow-up gives no English duration"

step "an answer through a follow-up link reaches the point person"
BROKEN=$("$SYSTEM_PYTHON" "$HERE/mail_link.py" "$MAIL" peter@initech.example /follow-up --after "es gibt noch Probleme:")
# Initech reads German: so does the page their link opens.
grep -q "Antwort senden" <<<"$(curl -fsS "$BROKEN")" || fail "the answer link shows no button in German"
grep -q '<textarea id="comment" name="comment"' <<<"$(curl -fsS "$BROKEN")" || fail "the answer page has no box for the customer's words"
grep -q "No customer reported a problem" <<<"$(as "$COMMS_TOKEN" follow-ups INC-1 --problems)" \
  || fail "opening the link recorded an answer"
grep -q "Ein Mensch bei uns weiß jetzt Bescheid" <<<"$(curl -fsS -XPOST "$PAGE/follow-up" --data-urlencode "token=${BROKEN#*token=}" \
  --data-urlencode "comment=Die Kasse bricht bei Kartenzahlung weiterhin ab. <b>Seit Dienstag</b>.")" \
  || fail "the answer was not recorded"
as "$COMMS_TOKEN" follow-ups INC-1 --problems >"$WORK/problems.txt"
grep -q "initech" "$WORK/problems.txt" && grep -q "still broken" "$WORK/problems.txt" \
  || fail "the point person does not see Initech's answer: $(cat "$WORK/problems.txt")"
wait_for 30 "the point person's notice" "$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" bob@acme.example \
  "Initech answered the follow-up: still broken"
"$SYSTEM_PYTHON" "$HERE/mail_has.py" "$MAIL" bob@acme.example \
  "They wrote: Die Kasse bricht bei Kartenzahlung weiterhin ab. <b>Seit Dienstag</b>." \
  || fail "the point person's notice lacks what the customer wrote"
grep -q "Die Kasse bricht bei Kartenzahlung weiterhin ab" "$WORK/problems.txt" \
  || fail "herald follow-ups does not show what the customer wrote: $(cat "$WORK/problems.txt")"
grep -q 'herald_follow_up_answers_total{answer="still_broken"} 1' <<<"$(curl -fsS "$PAGE/metrics")" \
  || fail "the answer is not counted"
echo PASS
