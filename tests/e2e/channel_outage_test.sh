#!/usr/bin/env bash
# Issue 19, end to end: the SMTP relay is down for 30 s while an update is
# published to ten email-only subscribers. The outage is the channel's, not
# the customers': herald_channel_up{channel="email"} goes to 0, the emails
# wait without using their attempts (herald deliveries shows them
# "waiting"), nobody is marked failed, and once a real SMTP server
# (aiosmtpd) answers again every subscriber gets the update exactly once and
# the metric is back to 1. Retries are short (3 attempts, 200 ms to 1 s) so
# that, were the outage counted against the recipients, they would all fail
# within the outage.
#
# usage: channel_outage_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"

pick_ports
make_tokens
SMTP_PORT=$(free_port)  # nothing listens there yet: the relay is down
MAIL=$WORK/mail
SUBSCRIBERS=10
cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
$(e2e_checkout_org)
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example, timeout_seconds: 2}
intake: {default_component: checkout}
delivery: {workers: 4, retry_schedule: [200ms, 400ms]}
YAML
lead() { HERALD_TOKEN=$LEAD_TOKEN "$HERALD" "$@"; }
no_failed() {
  lead deliveries --failed -o json | "$SYSTEM_PYTHON" -c '
import json, sys
sys.exit(1 if json.load(sys.stdin).get("deliveries") else 0)'
}
email_up() {
  curl -fsS "$PAGE/metrics" | grep -E "^herald_channel_up\{channel=\"email\"\} $1\$"
}

step "heraldd with $SUBSCRIBERS email-only subscribers and no SMTP server"
start_heraldd
printf 'id,name,email,components\n' >"$WORK/subscribers.csv"
for i in $(seq 1 $SUBSCRIBERS); do
  printf 'cust%02d,Customer %d,cust%02d@e2e.example,checkout\n' "$i" "$i" "$i" >>"$WORK/subscribers.csv"
done
lead subscribers import "$WORK/subscribers.csv" >/dev/null

step "an update is approved while the relay is down"
publish_update checkout
wait_for 15 "the email channel marked down" email_up 0
down_at=$SECONDS

step "while it is down: the emails wait, use no attempts, and none fails"
waiting() {
  lead deliveries "$MSG" -o json >"$WORK/deliveries.json" || return 1
  "$SYSTEM_PYTHON" - "$WORK/deliveries.json" "$SUBSCRIBERS" <<'PY'
import json, sys
ds = [d for d in json.load(open(sys.argv[1])).get("deliveries", [])
      if d["recipient"].startswith("subscriber:")]
ok = (len(ds) == int(sys.argv[2]) and
      all(d["state"] == "DELIVERY_STATE_RETRYING" and
          d.get("waitingOn") == "CHANNEL_KIND_EMAIL" and
          d.get("attempts", 0) == 0 for d in ds))
sys.exit(0 if ok else 1)
PY
}
wait_for 15 "every subscriber's email waiting" waiting
lead deliveries "$MSG" >"$WORK/deliveries.txt"
grep -q "waiting" "$WORK/deliveries.txt" || fail "herald deliveries does not say they wait"
grep -q "email unreachable since" "$WORK/deliveries.txt" \
  || fail "herald deliveries does not say why: $(cat "$WORK/deliveries.txt")"
sleep $(( 30 - (SECONDS - down_at) > 0 ? 30 - (SECONDS - down_at) : 0 ))  # the outage
no_failed || fail "deliveries failed during the outage: $(lead deliveries --failed)"

step "the relay is back: every subscriber gets the update exactly once"
"$SYSTEM_PYTHON" "$(dirname "$0")/delivery_sinks.py" smtp "$SMTP_PORT" "$MAIL" 0 \
  >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)
wait_for 60 "$MSG delivered to every subscriber" all_delivered "$MSG" "$SUBSCRIBERS"
wait_for 10 "the email channel back up" email_up 1
"$SYSTEM_PYTHON" - "$MAIL" "$SUBSCRIBERS" <<'PY' || fail "an email was lost or sent twice"
import collections, email, email.policy, pathlib, sys
seen = collections.Counter()
for p in pathlib.Path(sys.argv[1], "new").glob("*"):
    m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
    for a in m["To"].addresses:
        if a.addr_spec.startswith("cust"):
            seen[a.addr_spec] += 1
want = {f"cust{i:02d}@e2e.example" for i in range(1, int(sys.argv[2]) + 1)}
print(dict(seen))
sys.exit(0 if set(seen) == want and all(n == 1 for n in seen.values()) else 1)
PY
no_failed || fail "a delivery failed: $(lead deliveries --failed)"
echo PASS
