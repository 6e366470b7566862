#!/usr/bin/env bash
# Benchmark: webhook ingest of real Alertmanager v4 payloads from 32
# concurrent connections (wrk), against a baseline measured in the same run
# with the same load generator: Alertmanager's own POST /api/v2/alerts.
# Afterwards heraldd is killed with SIGKILL and the database is counted:
# every alert answered 2xx must be there (durable before its 2xx).
#
# usage: webhook_ingest_bench.sh HERALDD [SECONDS]
# Prints figures and the herald/Alertmanager ratio; exits 1 only if an
# acknowledged alert is missing (the figures themselves are not asserted:
# absolute speed on a shared machine is noise).
set -euo pipefail
HERALDD=$(realpath "$1")
DURATION=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../e2e/lib.sh"
source "$HERE/bench_configs.sh"
require wrk prometheus-alertmanager curl "$SYSTEM_PYTHON"

HTTP_PORT=$(free_port); GRPC_PORT=$(free_port); AM_PORT=$(free_port)
export HERALD_WEBHOOK_TOKEN=bench-$RANDOM$RANDOM
printf '%s\n' "$HERALD_WEBHOOK_TOKEN" >"$WORK/webhook-token"
ingest_config "$WORK/herald.yaml" "$WORK/data"
"$HERALDD" --config "$WORK/herald.yaml" --http-listen "127.0.0.1:$HTTP_PORT" \
  --grpc-listen "127.0.0.1:$GRPC_PORT" --log-level warn >"$WORK/heraldd.log" 2>&1 &
HERALDD_PID=$!
PIDS+=($HERALDD_PID)
wait_for 20 "heraldd" curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz"

cat >"$WORK/am.yml" <<YAML
route: {receiver: none}
receivers: [{name: none}]
YAML
prometheus-alertmanager --config.file="$WORK/am.yml" --storage.path="$WORK/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= >"$WORK/am.log" 2>&1 &
AM_PID=$!
PIDS+=($AM_PID)
wait_for 30 "Alertmanager" curl -fsS "http://127.0.0.1:$AM_PORT/-/ready"

run_wrk() {  # run_wrk NAME SCRIPT URL
  wrk -t2 -c32 -d"${DURATION}s" --latency -s "$HERE/$2" "$3" >"$WORK/$1.wrk" 2>&1
}
figure() {  # figure NAME FIELD: requests/s, p50, p99 (ms), requests, non2xx
  local f="$WORK/$1.wrk"
  case $2 in
    rps) awk '/^Requests\/sec:/ {print $2}' "$f" ;;
    p50|p99) awk -v q="${2#p}%" '$1 == q {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$f" ;;
    requests) awk '/requests in/ {print $1}' "$f" ;;
    non2xx) awk '/Non-2xx/ {print $5}' "$f" | grep . || echo 0 ;;
  esac
}

step "baseline: Alertmanager POST /api/v2/alerts, 32 connections, ${DURATION}s"
run_wrk alertmanager alertmanager_api.lua "http://127.0.0.1:$AM_PORT"
# Alertmanager keeps working on what it was sent (grouping, flushing); stop
# it so that each target is measured with the machine to itself.
kill "$AM_PID"; wait "$AM_PID" 2>/dev/null || true
step "herald: POST /webhooks/alertmanager (v4, one new alert each), 32 connections, ${DURATION}s"
run_wrk herald herald_webhook.lua "http://127.0.0.1:$HTTP_PORT"

step "SIGKILL heraldd, then count what is on disk"
kill -KILL "$HERALDD_PID"
wait "$HERALDD_PID" 2>/dev/null || true
acked=$(( $(figure herald requests) - $(figure herald non2xx) ))
stored=$("$SYSTEM_PYTHON" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from alerts").fetchone()[0])' "$WORK/data/herald.db")

am_rps=$(figure alertmanager rps); h_rps=$(figure herald rps)
printf '\n%-28s %12s %10s %10s\n' "target" "requests/s" "p50 ms" "p99 ms"
printf '%-28s %12s %10s %10s\n' "alertmanager /api/v2/alerts" "$am_rps" "$(figure alertmanager p50)" "$(figure alertmanager p99)"
printf '%-28s %12s %10s %10s\n' "herald /webhooks/alertmanager" "$h_rps" "$(figure herald p50)" "$(figure herald p99)"
echo "ratio herald/alertmanager: $(awk -v a="$h_rps" -v b="$am_rps" 'BEGIN {printf "%.2f", a / b}')x"
echo "herald non-2xx responses: $(figure herald non2xx)"
echo "durability: $acked alerts answered 2xx, $stored alerts on disk after SIGKILL"
[[ $stored -ge $acked ]] || fail "$((acked - stored)) acknowledged alerts were lost"
echo "1 passed, 0 failed"
