#!/usr/bin/env bash
# Benchmark: engineer updates (PostUpdate over gRPC, each durable before its
# answer) with 64 in flight, against a baseline measured in the same run on
# the same server: the standard gRPC health check, a call that does nothing.
# Afterwards heraldd is killed with SIGKILL and the database is counted:
# every update answered OK must be there.
#
# usage: update_rpc_bench.sh HERALDD RPC_LOAD [SECONDS]
# Prints figures and the ratio; exits 1 only if an acknowledged update is
# missing (absolute speed on a shared machine is noise).
set -euo pipefail
HERALDD=$(realpath "$1")
RPC_LOAD=$(realpath "$2")
DURATION=${3:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../e2e/lib.sh"
source "$HERE/bench_configs.sh"
require curl sha256sum "$SYSTEM_PYTHON"

HTTP_PORT=$(free_port); GRPC_PORT=$(free_port)
WEBHOOK_TOKEN=bench-$RANDOM$RANDOM
ENGINEER_TOKEN=bench-engineer-$RANDOM$RANDOM
printf '%s\n' "$WEBHOOK_TOKEN" >"$WORK/webhook-token"
update_config "$WORK/herald.yaml" "$WORK/data"
"$HERALDD" --config "$WORK/herald.yaml" --http-listen "127.0.0.1:$HTTP_PORT" \
  --grpc-listen "127.0.0.1:$GRPC_PORT" --log-level warn >"$WORK/heraldd.log" 2>&1 &
HERALDD_PID=$!
PIDS+=($HERALDD_PID)
wait_for 20 "heraldd" curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz"
curl -fsS -H "Authorization: Bearer $WEBHOOK_TOKEN" -H 'Content-Type: application/json' \
  "http://127.0.0.1:$HTTP_PORT/webhooks/alertmanager" -d @"$HERE/../testdata/alertmanager/firing-single.json" >/dev/null

step "baseline: grpc.health.v1.Health/Check, 64 in flight, ${DURATION}s"
"$RPC_LOAD" "127.0.0.1:$GRPC_PORT" health "$ENGINEER_TOKEN" "$DURATION" 64 | tee "$WORK/health.txt"
step "herald: IncidentService/PostUpdate (durable), 64 in flight, ${DURATION}s"
"$RPC_LOAD" "127.0.0.1:$GRPC_PORT" update "$ENGINEER_TOKEN" "$DURATION" 64 INC-1 | tee "$WORK/update.txt"

step "SIGKILL heraldd, then count what is on disk"
kill -KILL "$HERALDD_PID"
wait "$HERALDD_PID" 2>/dev/null || true
field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" "$WORK/$1.txt"; }
acked=$(field update calls)
stored=$("$SYSTEM_PYTHON" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from updates").fetchone()[0])' "$WORK/data/herald.db")

printf '\n%-34s %12s %10s %10s\n' "call" "calls/s" "p50 ms" "p99 ms"
printf '%-34s %12s %10s %10s\n' "grpc.health.v1.Health/Check" "$(field health rate)" "$(field health p50_ms)" "$(field health p99_ms)"
printf '%-34s %12s %10s %10s\n' "IncidentService/PostUpdate" "$(field update rate)" "$(field update p50_ms)" "$(field update p99_ms)"
echo "ratio update/no-op: $(awk -v a="$(field update rate)" -v b="$(field health rate)" 'BEGIN {printf "%.2f", a / b}')x"
echo "durability: $acked updates answered OK, $stored updates on disk after SIGKILL"
[[ $stored -ge $acked ]] || fail "$((acked - stored)) acknowledged updates were lost"
echo "1 passed, 0 failed"
