#!/usr/bin/env bash
# A storm of 500 alerts across 5 services, sent through the real
# Alertmanager, with heraldd killed (SIGKILL) and restarted in the middle.
# Afterwards: exactly one incident per service, each with its rota's point
# person, and every alert there. Alertmanager retries every notification
# heraldd did not answer with 2xx, and heraldd answers 2xx only once an
# alert is committed, so nothing acknowledged may be missing.
#
# usage: storm_test.sh HERALDD HERALD
set -euo pipefail
HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require prometheus-alertmanager curl sha256sum "$SYSTEM_PYTHON"

SERVICES=(payments search catalog accounts shipping)
PER_SERVICE=100
GRPC_PORT=$(free_port); HTTP_PORT=$(free_port); AM_PORT=$(free_port)
export HERALD_SERVER=127.0.0.1:$GRPC_PORT
TOKEN=storm-reader-$RANDOM$RANDOM
export HERALD_TOKEN=$TOKEN
printf 'storm-webhook-%s\n' "$RANDOM$RANDOM" >"$WORK/webhook-token"

step "config: one component and one rota (with its own point person) per service"
{
  echo "server: {data_dir: $WORK/data, webhook_token_file: $WORK/webhook-token}"
  echo "smtp: {url: 'smtp://127.0.0.1:1', from: status@storm.example}"
  echo "intake: {default_component: ${SERVICES[0]}}"
  echo "components:"
  for s in "${SERVICES[@]}"; do echo "  - {id: $s, name: $s, matchers: ['service=\"$s\"']}"; done
  echo "people:"
  echo "  - {id: reader, name: Reader, email: reader@storm.example, roles: [engineer], token_sha256: $(sha256 "$TOKEN")}"
  for s in "${SERVICES[@]}"; do echo "  - {id: pp-$s, name: PP $s, email: pp-$s@storm.example, roles: [comms]}"; done
  echo "rotas:"
  for s in "${SERVICES[@]}"; do echo "  - {id: rota-$s, component_ids: [$s], members: [pp-$s]}"; done
} >"$WORK/herald.yaml"

start_heraldd
start_alertmanager "$AM_PORT" "http://127.0.0.1:$HTTP_PORT/webhooks/alertmanager" "$WORK/webhook-token"

# post_batch FROM TO: alerts FROM..TO-1 of every service, in one API call each.
post_batch() {
  local from=$1 to=$2 s i body
  for s in "${SERVICES[@]}"; do
    body="["
    for ((i = from; i < to; i++)); do
      body+="{\"labels\":{\"alertname\":\"StormAlert\",\"service\":\"$s\",\"instance\":\"$s-$i\",\"severity\":\"critical\"},\"annotations\":{\"summary\":\"$s is failing\"}},"
    done
    body="${body%,}]"
    curl -fsS -XPOST -H 'Content-Type: application/json' \
      "http://127.0.0.1:$AM_PORT/api/v2/alerts" -d "$body" >/dev/null
  done
}

step "first half of the storm"
for ((b = 0; b < PER_SERVICE / 2; b += 10)); do post_batch $b $((b + 10)); sleep 0.3; done

step "SIGKILL heraldd mid-storm"
kill -KILL "$HERALDD_PID"
wait "$HERALDD_PID" 2>/dev/null || true
post_batch $((PER_SERVICE / 2)) $((PER_SERVICE / 2 + 10))  # while it is down

step "restart heraldd; second half of the storm"
start_heraldd
for ((b = PER_SERVICE / 2 + 10; b < PER_SERVICE; b += 10)); do post_batch $b $((b + 10)); sleep 0.3; done

total_alerts() {
  local n=0 inc
  for inc in $("$HERALD" incidents --all -o json | grep -o '"ref": "INC-[0-9]*"' | grep -o 'INC-[0-9]*'); do
    n=$((n + $("$HERALD" alerts "$inc" -o json | grep -c '"fingerprint"')))
  done
  echo "$n"
}
all_there() { [[ $(total_alerts) -eq $((${#SERVICES[@]} * PER_SERVICE)) ]]; }
wait_for 90 "all $((${#SERVICES[@]} * PER_SERVICE)) alerts in herald (have $(total_alerts))" all_there

step "exactly one incident per service, each with its rota's point person"
"$HERALD" incidents --all -o json >"$WORK/incidents.json"
count=$(grep -c '"ref": "INC-' "$WORK/incidents.json")
[[ $count -eq ${#SERVICES[@]} ]] || fail "expected ${#SERVICES[@]} incidents, got $count"
"$SYSTEM_PYTHON" - "$WORK/incidents.json" "${SERVICES[@]}" <<'PY' || fail "incidents do not match the services and their point persons"
import json, sys
incidents = json.load(open(sys.argv[1]))["incidents"]
by_component = {tuple(i["componentIds"]): i["pointPersonId"] for i in incidents}
expected = {(s,): "pp-" + s for s in sys.argv[2:]}
if by_component != expected:
    sys.exit(f"got {by_component}, expected {expected}")
PY
echo "$(total_alerts) alerts in $count incidents"
echo "1 passed, 0 failed"
