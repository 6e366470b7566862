#!/usr/bin/env bash
# Delivery end to end, against real receivers: an SMTP server (aiosmtpd)
# that refuses the first messages and then accepts, an HTTP sink that
# answers 500 and then 200, and one that answers only after herald's
# timeout. Subscribers added with the built CLI get one published update on
# their ordered contacts: every one is reached, fallback is used where the
# first contact fails, webhooks are signed, and nothing is duplicated. Then
# heraldd is killed with SIGKILL in the middle of a 1000-recipient fan-out
# and restarted: every recipient is reached, and the only repeats are sends
# that were in flight, with the same Message-ID. Last, a SIGTERM in the
# middle of the next fan-out: heraldd exits 0 at once, leaves nothing in
# `sending`, and after the restart every recipient gets it exactly once.
#
# usage: delivery_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl sha256sum "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
SINKS=$(dirname "$0")/delivery_sinks.py

SMTP_PORT=$(free_port); SINK_PORT=$(free_port); GRPC_PORT=$(free_port); HTTP_PORT=$(free_port)
export HERALD_SERVER=127.0.0.1:$GRPC_PORT
SINK=http://127.0.0.1:$SINK_PORT
HOOK_SECRET=whsec_$(head -c 32 /dev/urandom | base64 -w0)
SMS_SECRET=whsec_$(head -c 32 /dev/urandom | base64 -w0)
SECRETS+=("$HOOK_SECRET" "$SMS_SECRET")
WORKERS=4

step "start the receivers: SMTP refusing its first 2 messages, and the HTTP sink"
"$SYSTEM_PYTHON" "$SINKS" smtp "$SMTP_PORT" "$WORK/mail" 2 >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)
"$SYSTEM_PYTHON" "$SINKS" http "$SINK_PORT" "$WORK/http.jsonl" "$HOOK_SECRET" "$SMS_SECRET" \
  >"$WORK/http.log" 2>&1 &
PIDS+=($!)

ENGINEER_TOKEN=e2e-engineer-$RANDOM$RANDOM
LEAD_TOKEN=e2e-lead-$RANDOM$RANDOM
WEBHOOK_TOKEN=e2e-webhook-$RANDOM$RANDOM
printf '%s\n' "$WEBHOOK_TOKEN" >"$WORK/webhook-token"
printf '%s\n' "$SMS_SECRET" >"$WORK/sms-secret"
cat >"$WORK/herald.yaml" <<YAML
server: {page_name: E2E Cloud, data_dir: $WORK/data, webhook_token_file: $WORK/webhook-token}
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
  - {id: bulk, name: Bulk, matchers: ['service="bulk"']}
people:
$(e2e_people alice carol)
rotas:
  - {id: comms, component_ids: [checkout, bulk], members: [carol], time_zone: Europe/London}
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example}
intake: {default_component: checkout}
delivery:
  workers: $WORKERS
  retry_schedule: [200ms, 400ms]
  http_timeout_seconds: 1
  sms_gateway: {url: '$SINK/sms', signing_secret_file: $WORK/sms-secret}
YAML

lead() { HERALD_TOKEN=$LEAD_TOKEN "$HERALD" "$@"; }



start_heraldd

step "subscribers with ordered contacts, added with the CLI"
lead subscribers add hook --name "Hook Co" --component checkout \
  --contact "webhook:$SINK/flaky/hook|$HOOK_SECRET" >/dev/null
lead subscribers add slow --name "Slow Co" --component checkout \
  --contact "webhook:$SINK/slow|$HOOK_SECRET" --contact email:slow@e2e.example >/dev/null
lead subscribers add mail --name "Mail Co" --email mail@e2e.example --component checkout >/dev/null
lead subscribers add chat --name "Chat Co" --component checkout \
  --contact "slack:$SINK/flaky/slack" >/dev/null
lead subscribers add phone --name "Phone Co" --component checkout --contact sms:+4915112345678 >/dev/null
lead subscribers list --component checkout | grep -q "5 subscriber(s)" || fail "subscribers not listed"

step "an alert opens INC-1; the comms lead approves its first update"
fire checkout
wait_for 20 "first draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-1"
lead approve --as-written MSG-1 | grep -q "5 recipient(s) queued" || fail "approval did not queue 5 deliveries"
wait_for 60 "every recipient of MSG-1 reached" all_delivered MSG-1 5

step "what each receiver got: retried, fallen back, signed, never twice"
lead deliveries MSG-1 -o json >"$WORK/msg1.json"
"$SYSTEM_PYTHON" - "$WORK/http.jsonl" "$WORK/mail" "$WORK/msg1.json" <<'PY'
import collections, email, json, mailbox, sys
log = [json.loads(l) for l in open(sys.argv[1])]
by_path = collections.defaultdict(list)
for e in log:
    by_path[e["path"]].append(e)
hook = by_path["/flaky/hook"]
assert [e["status"] for e in hook] == [500, 200], hook
assert hook[0]["id"] == hook[1]["id"] and all(e["signed"] for e in hook), hook
assert hook[1]["body"]["type"] == "incident.updated", hook[1]["body"]
assert hook[1]["body"]["recipient"]["name"] == "Hook Co", hook[1]["body"]
slack = by_path["/flaky/slack"]
assert [e["status"] for e in slack] == [500, 200] and "text" in slack[1]["body"], slack
[sms] = by_path["/sms"]
assert sms["signed"] and sms["body"]["to"] == "+4915112345678", sms
assert len(by_path["/slow"]) == 3, by_path["/slow"]  # 3 attempts, then email
accepted = collections.Counter(e["id"] for e in log if e["status"] == 200)
assert all(n == 1 for n in accepted.values()), accepted
mails = collections.defaultdict(list)
for m in mailbox.Maildir(sys.argv[2], create=False):
    mails[m["To"]].append(m["Message-ID"])
for who in ("<slow@e2e.example>", "<mail@e2e.example>"):
    assert len(mails[who]) == 1, (who, mails)
deliveries = {d["recipient"]: d for d in json.load(open(sys.argv[3]))["deliveries"]}
assert deliveries["subscriber:slow"]["channel"] == "CHANNEL_KIND_EMAIL", deliveries
assert deliveries["subscriber:slow"]["contactIndex"] == 1, deliveries
PY
metrics=$(curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics")
for line in 'herald_deliveries_total{channel="webhook",result="retry"}' \
            'herald_deliveries_total{channel="sms",result="delivered"} 1' \
            'herald_delivery_fallbacks_total 1'; do
  [[ $metrics == *"$line"* ]] || fail "metrics lack $line"
done

# Enough recipients that a fan-out is still under way after 150 sends (the
# kill and the stop below come then), on every build this runs on.
BULK=1000
step "a $BULK-recipient fan-out survives SIGKILL mid-way"
{
  echo "id,email,components"
  for i in $(seq 1 "$BULK"); do echo "bulk$i,bulk$i@e2e.example,bulk"; done
} >"$WORK/bulk.csv"
lead subscribers import "$WORK/bulk.csv" | grep -q "$BULK added" || fail "bulk import"
fire bulk
wait_for 20 "bulk draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-"
BULK_MSG=$(lead messages -o json | "$SYSTEM_PYTHON" -c '
import json, sys
print([m["ref"] for m in json.load(sys.stdin)["messages"] if m["incidentId"] == "2"][0])')
bulk_mail() { ls "$WORK/mail/new" | wc -l; }
lead approve --as-written "$BULK_MSG" >/dev/null
wait_for 60 "the fan-out under way" bash -c "(( \$(ls '$WORK/mail/new' | wc -l) >= 150 ))"
kill -9 "$HERALDD_PID"
wait "$HERALDD_PID" 2>/dev/null || true
before=$(bulk_mail)
(( before < BULK )) || fail "the fan-out finished before the kill; nothing was tested"
echo "killed with $before messages in the mailbox"
start_heraldd
wait_for 120 "every bulk recipient reached after the restart" all_delivered "$BULK_MSG" "$BULK"
"$SYSTEM_PYTHON" - "$WORK/mail" "$WORKERS" "$BULK" <<'PY'
import collections, mailbox, sys
ids = collections.Counter()
for m in mailbox.Maildir(sys.argv[1], create=False):
    if m["To"].startswith("<bulk"):
        ids[(m["To"], m["Message-ID"])] += 1
recipients = {to for to, _ in ids}
assert len(recipients) == int(sys.argv[3]), len(recipients)
repeats = sum(n - 1 for n in ids.values())
# At most the sends in flight at the kill: one per worker. Same Message-ID.
assert repeats <= int(sys.argv[2]), repeats
print(f"{len(recipients)} recipients reached; {repeats} repeated send(s), same Message-ID")
PY

step "SIGTERM mid-way through the next fan-out: exit 0, nothing left in sending, no repeats"
SECOND=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-2 "bulk queue drained, watching" -o json |
  "$SYSTEM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["draft"]["ref"])')
before=$(bulk_mail)
lead approve --as-written "$SECOND" >/dev/null
wait_for 60 "the second fan-out under way" bash -c "(( \$(ls '$WORK/mail/new' | wc -l) >= $before + 150 ))"
stop_started=$SECONDS
kill -TERM "$HERALDD_PID"
rc=0; wait "$HERALDD_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "heraldd exited $rc after SIGTERM"
echo "stopped in $((SECONDS - stop_started)) s with $(( $(bulk_mail) - before )) of $BULK sent"
(( $(bulk_mail) - before < BULK )) || fail "the fan-out finished before the stop; nothing was tested"
"$SYSTEM_PYTHON" - "$WORK/data/herald.db" <<'PY' || fail "the stop left deliveries in sending"
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM deliveries WHERE state = 2").fetchone()[0]
sys.exit(1 if n else 0)
PY
start_heraldd
wait_for 120 "every recipient of the second update reached" all_delivered "$SECOND" "$BULK"
"$SYSTEM_PYTHON" - "$WORK/mail" "$SECOND" "$BULK" <<'PY'
import collections, mailbox, sys
prefix = "<msg-" + sys.argv[2].removeprefix("MSG-") + "-"  # its Message-IDs
seen = collections.Counter()
for m in mailbox.Maildir(sys.argv[1], create=False):
    if m["To"].startswith("<bulk") and m["Message-ID"].startswith(prefix):
        seen[m["To"]] += 1
assert len(seen) == int(sys.argv[3]), len(seen)
repeats = {to: n for to, n in seen.items() if n > 1}
assert not repeats, f"a clean stop repeated sends: {list(repeats.items())[:3]}"
print(f"{len(seen)} recipients reached once each across the stop")
PY
echo "PASS"
