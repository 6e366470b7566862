#!/usr/bin/env bash
# Issue 19 §4, end to end: one customer endpoint that never answers (a real
# HTTP server that accepts the request and hangs) beside 120 healthy ones.
# Every ninth subscriber's webhook is the hanging endpoint, so without a
# limit per destination every worker's batch would reach it and wait out
# herald's HTTP timeout. With the limit it holds at most two of the four
# workers: all 120 healthy endpoints are reached, once each, before the
# first hanging send has even timed out.
#
# usage: hanging_endpoint_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl "$SYSTEM_PYTHON"

pick_ports
make_tokens
SINK_PORT=$(free_port)
SINK=http://127.0.0.1:$SINK_PORT
HOOK_SECRET=whsec_$(head -c 24 /dev/urandom | base64)
SECRETS+=("$HOOK_SECRET")
HEALTHY=120
HANGING=15
TIMEOUT=20  # herald's HTTP timeout, seconds
cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
$(e2e_checkout_org)
intake: {default_component: checkout}
delivery: {workers: 4, http_timeout_seconds: $TIMEOUT}
YAML
lead() { HERALD_TOKEN=$LEAD_TOKEN "$HERALD" "$@"; }

step "a webhook sink with one endpoint that never answers"
"$SYSTEM_PYTHON" "$(dirname "$0")/delivery_sinks.py" http "$SINK_PORT" "$WORK/http.jsonl" \
  "$HOOK_SECRET" >"$WORK/sink.log" 2>&1 &
PIDS+=($!)
wait_for 20 "the webhook sink" "$SYSTEM_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $SINK_PORT))"

step "heraldd with $HEALTHY healthy endpoints and $HANGING subscribers behind the hanging one"
start_heraldd
printf 'id,name,components,contacts\n' >"$WORK/subscribers.csv"
for i in $(seq 1 $(( HEALTHY + HANGING ))); do
  if (( i % 9 == 0 )); then url=$SINK/hang; else url=$SINK/ok/$i; fi
  printf 'cust%03d,Customer %d,checkout,webhook:%s|%s\n' "$i" "$i" "$url" "$HOOK_SECRET" \
    >>"$WORK/subscribers.csv"
done
lead subscribers import "$WORK/subscribers.csv" >/dev/null

step "an update is approved"
publish_update checkout
approved_ns=$(date +%s%N)

step "every healthy endpoint is reached before a hanging send times out"
healthy_reached() {
  "$SYSTEM_PYTHON" - "$WORK/http.jsonl" "$HEALTHY" <<'PY'
import json, sys
try:
    lines = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    sys.exit(1)
sys.exit(0 if len({l["path"] for l in lines if l["path"].startswith("/ok/")})
         == int(sys.argv[2]) else 1)
PY
}
wait_for 60 "all $HEALTHY healthy endpoints reached" healthy_reached
took_ms=$(( ($(date +%s%N) - approved_ns) / 1000000 ))
echo "healthy endpoints reached in ${took_ms} ms; herald's HTTP timeout is ${TIMEOUT} s"
(( took_ms < TIMEOUT * 1000 )) \
  || fail "the healthy endpoints waited for the hanging one (${took_ms} ms)"
"$SYSTEM_PYTHON" - "$WORK/http.jsonl" <<'PY' || fail "wrong sends"
import collections, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = collections.Counter(l["path"] for l in lines if l["path"].startswith("/ok/"))
if not all(l["signed"] for l in lines):
    sys.exit("a webhook was not signed")
hang = sum(1 for l in lines if l["path"] == "/hang")
print(f"{len(ok)} healthy endpoints, each reached {set(ok.values())} time(s); "
      f"{hang} request(s) to the hanging endpoint so far")
# Two at once (the webhook limit), and none retried yet.
sys.exit(0 if set(ok.values()) == {1} and 1 <= hang <= 2 else 1)
PY
echo PASS
