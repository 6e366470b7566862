#!/usr/bin/env bash
# Benchmark: heraldd on PostgreSQL against heraldd on SQLite, measured in the
# same run with the same load, on a throw-away PostgreSQL cluster:
#   ingest   webhook_ingest_bench.sh's load (wrk, herald_webhook.lua, 32
#            connections) on SQLite (the baseline), on PostgreSQL, and on two
#            heraldd sharing one PostgreSQL database (a wrk of 16 connections
#            each, their requests/s summed);
#   updates  (with RPC_LOAD) update_rpc_bench.sh's PostUpdate load, 64 in
#            flight (32 per replica with two), on the same three;
#   fan-out  (with FANOUT_BENCH) fanout_bench --postgres: the enqueue of N
#            (default 1,000,000) and the webhook delivery of the smaller of N
#            and 20,000, on PostgreSQL against SQLite.
# Each configuration gets a fresh database. After each run heraldd is killed
# with SIGKILL and the store is counted: every alert answered 2xx and every
# update answered OK must be there.
#
# usage: store_bench.sh HERALDD [SECONDS] [RPC_LOAD] [FANOUT_BENCH [N]]
# HERALD_BENCH_PG_OPTIONS: extra postgres options for the cluster, to see
# what limits it, e.g. "-c synchronous_commit=off" (never durable figures).
# Prints tables and ratios; exits 1 only if an acknowledged write is missing
# (absolute speed on a shared machine is noise).
set -euo pipefail
HERALDD=$(realpath "$1")
DURATION=${2:-10}
RPC_LOAD=${3:+$(realpath "$3")}
FANOUT_BENCH=${4:+$(realpath "$4")}
FANOUT_N=${5:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../e2e/lib.sh"
source "$HERE/bench_configs.sh"
require wrk curl psql pg_config setpriv sha256sum "$SYSTEM_PYTHON"

# The cluster lives outside $WORK: stop it before lib.sh's cleanup, which
# then runs with the script's exit status.
PG_CLUSTER=$HERE/../testing/postgres_cluster.sh
store_bench_cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  bash "$PG_CLUSTER" stop "$WORK/pg" >/dev/null 2>&1 || true
  (exit "$rc")
  e2e_cleanup
}
trap store_bench_cleanup EXIT

step "a throw-away PostgreSQL cluster"
# shellcheck disable=SC2086  # the options are words
bash "$PG_CLUSTER" start "$WORK/pg" ${HERALD_BENCH_PG_OPTIONS:-}
ADMIN_DSN=$(cat "$WORK/pg/dsn")
PG_LOG=$(cat "$WORK/pg/pgdata")/server.log
psql -qAtX "$ADMIN_DSN" -c 'SELECT version()'

export HERALD_WEBHOOK_TOKEN=bench-$RANDOM$RANDOM
printf '%s\n' "$HERALD_WEBHOOK_TOKEN" >"$WORK/webhook-token"
ENGINEER_TOKEN=bench-engineer-$RANDOM$RANDOM

# new_database NAME: creates the database NAME on the cluster; sets DSN.
new_database() {
  psql -qX "$ADMIN_DSN" -c "CREATE DATABASE $1" >/dev/null
  DSN=${ADMIN_DSN/dbname=herald_test/dbname=$1}
}


# start_replicas NAME COUNT: COUNT heraldd on $WORK/NAME.yaml; sets
# REPLICA_PIDS, HTTP_PORTS and GRPC_PORTS.
start_replicas() {
  REPLICA_PIDS=(); HTTP_PORTS=(); GRPC_PORTS=()
  local r http grpc
  for ((r = 0; r < $2; r++)); do
    http=$(free_port); grpc=$(free_port)
    "$HERALDD" --config "$WORK/$1.yaml" --http-listen "127.0.0.1:$http" \
      --grpc-listen "127.0.0.1:$grpc" --log-level warn >"$WORK/$1-$r.log" 2>&1 &
    REPLICA_PIDS+=($!); PIDS+=($!); HTTP_PORTS+=("$http"); GRPC_PORTS+=("$grpc")
    wait_for 30 "heraldd $1-$r" curl -fsS "http://127.0.0.1:$http/healthz"
  done
}

kill_replicas() {
  local pid
  for pid in "${REPLICA_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${REPLICA_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# count NAME DSN TABLE: rows of TABLE in NAME's store.
count() {
  if [[ -z $2 ]]; then
    "$SYSTEM_PYTHON" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from " + sys.argv[2]).fetchone()[0])' \
      "$WORK/$1-data/herald.db" "$3"
  else
    psql -qAtX "$2" -c "SELECT count(*) FROM $3"
  fi
}

wrk_figure() {  # wrk_figure FILE FIELD: as webhook_ingest_bench.sh's figure
  case $2 in
    rps) awk '/^Requests\/sec:/ {print $2}' "$1" ;;
    p50|p99) awk -v q="${2#p}%" '$1 == q {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$1" ;;
    requests) awk '/requests in/ {print $1}' "$1" ;;
    non2xx) awk '/Non-2xx/ {print $5}' "$1" | grep . || echo 0 ;;
  esac
}
load_figure() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" "$1"; }  # rpc_load's
sum() { awk '{s += $1} END {printf "%.2f", s}'; }
isum() { awk '{s += $1} END {print s}'; }
max() { awk 'NR == 1 || $1 > m {m = $1} END {print m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

# What PostgreSQL itself saw of a run: serialization failures and deadlocks
# in its log since line $1, and the database's commits and rollbacks.
pg_log_lines() { wc -l <"$PG_LOG"; }
pg_conflicts() {
  tail -n +"$(($1 + 1))" "$PG_LOG" | grep -cE 'could not serialize access|deadlock detected' || true
}
pg_xacts() {
  sleep 1  # the killed heraldd's backends flush their statistics as they end
  psql -qAtX "$ADMIN_DSN" -F / -c "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = '$1'"
}
# heraldd's own warnings and errors over a run.
heraldd_complaints() { cat "$WORK/$1"-[0-9].log | grep -ciE 'warn|error' || true; }

LOST=0
# check_durable WHAT ACKED STORED
check_durable() {
  echo "durability: $2 $1 acknowledged, $3 in the store after SIGKILL"
  if (( $3 < $2 )); then
    echo "LOST: $(($2 - $3)) acknowledged $1"
    LOST=1
  fi
}

# ingest_run NAME REPLICAS POSTGRES(0/1): one configuration's ingest; leaves
# its figures in $WORK/NAME.figures (rps p50 p99 non2xx acked stored
# conflicts xacts complaints).
ingest_run() {
  local name=$1 replicas=$2 dsn="" db="" log_from r
  if (( $3 )); then db=bench_${name//-/_}; new_database "$db"; dsn=$DSN; fi
  ingest_config "$WORK/$name.yaml" "$WORK/$name-data" "$dsn"
  start_replicas "$name" "$replicas"
  log_from=$(pg_log_lines)
  step "$name: POST /webhooks/alertmanager on $replicas heraldd, 32 connections in all, ${DURATION}s"
  local wrk_pids=()
  for ((r = 0; r < replicas; r++)); do
    HERALD_BENCH_THREAD_BASE=$((r * 2 / replicas)) \
      wrk -t$((2 / replicas)) -c$((32 / replicas)) -d"${DURATION}s" --latency \
      -s "$HERE/herald_webhook.lua" "http://127.0.0.1:${HTTP_PORTS[r]}" >"$WORK/$name-$r.wrk" 2>&1 &
    wrk_pids+=($!)
  done
  for r in "${wrk_pids[@]}"; do wait "$r"; done
  kill_replicas
  local rps p50 p99 non2xx acked stored
  rps=$(for f in "$WORK/$name"-[0-9].wrk; do wrk_figure "$f" rps; done | sum)
  p50=$(for f in "$WORK/$name"-[0-9].wrk; do wrk_figure "$f" p50; done | max)
  p99=$(for f in "$WORK/$name"-[0-9].wrk; do wrk_figure "$f" p99; done | max)
  non2xx=$(for f in "$WORK/$name"-[0-9].wrk; do wrk_figure "$f" non2xx; done | isum)
  acked=$(for f in "$WORK/$name"-[0-9].wrk; do
    echo $(( $(wrk_figure "$f" requests) - $(wrk_figure "$f" non2xx) )); done | isum)
  stored=$(count "$name" "$dsn" alerts)
  check_durable alerts "$acked" "$stored"
  echo "$rps $p50 $p99 $non2xx $acked $stored $( (( $3 )) && echo "$(pg_conflicts "$log_from") $(pg_xacts "$db")" || echo "- -") $(heraldd_complaints "$name")" \
    >"$WORK/$name.figures"
}

# update_run NAME REPLICAS POSTGRES(0/1): one configuration's updates, as
# ingest_run (calls/s p50 p99 errors acked stored conflicts xacts complaints).
update_run() {
  local name=$1 replicas=$2 dsn="" db="" log_from r
  if (( $3 )); then db=bench_${name//-/_}; new_database "$db"; dsn=$DSN; fi
  update_config "$WORK/$name.yaml" "$WORK/$name-data" "$dsn"
  start_replicas "$name" "$replicas"
  curl -fsS -H "Authorization: Bearer $HERALD_WEBHOOK_TOKEN" -H 'Content-Type: application/json' \
    "http://127.0.0.1:${HTTP_PORTS[0]}/webhooks/alertmanager" \
    -d @"$HERE/../testdata/alertmanager/firing-single.json" >/dev/null
  log_from=$(pg_log_lines)
  step "$name: IncidentService/PostUpdate on $replicas heraldd, 64 in flight in all, ${DURATION}s"
  local load_pids=()
  for ((r = 0; r < replicas; r++)); do
    "$RPC_LOAD" "127.0.0.1:${GRPC_PORTS[r]}" update "$ENGINEER_TOKEN" "$DURATION" \
      $((64 / replicas)) INC-1 >"$WORK/$name-$r.load" 2>&1 &
    load_pids+=($!)
  done
  for r in "${load_pids[@]}"; do wait "$r"; done
  cat "$WORK/$name"-[0-9].load
  kill_replicas
  local rate p50 p99 errors acked stored
  rate=$(for f in "$WORK/$name"-[0-9].load; do load_figure "$f" rate; done | sum)
  p50=$(for f in "$WORK/$name"-[0-9].load; do load_figure "$f" p50_ms; done | max)
  p99=$(for f in "$WORK/$name"-[0-9].load; do load_figure "$f" p99_ms; done | max)
  errors=$(for f in "$WORK/$name"-[0-9].load; do load_figure "$f" errors; done | isum)
  acked=$(for f in "$WORK/$name"-[0-9].load; do load_figure "$f" calls; done | isum)
  stored=$(count "$name" "$dsn" updates)
  check_durable updates "$acked" "$stored"
  echo "$rate $p50 $p99 $errors $acked $stored $( (( $3 )) && echo "$(pg_conflicts "$log_from") $(pg_xacts "$db")" || echo "- -") $(heraldd_complaints "$name")" \
    >"$WORK/$name.figures"
}

ingest_run ingest-sqlite 1 0
ingest_run ingest-pg 1 1
ingest_run ingest-pg-x2 2 1
if [[ -n $RPC_LOAD && -x $RPC_LOAD ]]; then
  update_run update-sqlite 1 0
  update_run update-pg 1 1
  update_run update-pg-x2 2 1
fi
if [[ -n $FANOUT_BENCH ]]; then
  delivery_n=$((FANOUT_N < 20000 ? FANOUT_N : 20000))
  step "fan-out: enqueue of $FANOUT_N and webhook delivery of $delivery_n, PostgreSQL against SQLite"
  "$FANOUT_BENCH" "$FANOUT_N" --postgres "$ADMIN_DSN" --delivery "$delivery_n" | tee "$WORK/fanout.txt"
fi

# table TITLE UNIT NAME...: one row per configuration's figures.
table() {
  local title=$1 unit=$2; shift 2
  printf '\n%-14s %10s %8s %8s %7s %8s %8s %10s %12s %9s\n' "$title" "$unit" "p50 ms" "p99 ms" \
    "errors" "acked" "stored" "pg 40001" "commit/rbk" "warnings"
  local name figures
  for name in "$@"; do
    [[ -f $WORK/$name.figures ]] || continue
    read -ra figures <"$WORK/$name.figures"
    printf '%-14s %10s %8s %8s %7s %8s %8s %10s %12s %9s\n' "$name" "${figures[@]}"
  done
}
fig() { awk -v i="$2" '{print $i}' "$WORK/$1.figures"; }
table ingest req/s ingest-sqlite ingest-pg ingest-pg-x2
echo "(two replicas: req/s summed over both wrk; p50/p99 the worse of the two)"
echo "ratio ingest postgres/sqlite: $(ratio "$(fig ingest-pg 1)" "$(fig ingest-sqlite 1)")x (target >= 0.5x)"
echo "ratio ingest two replicas/one (postgres): $(ratio "$(fig ingest-pg-x2 1)" "$(fig ingest-pg 1)")x"
if [[ -f $WORK/update-sqlite.figures ]]; then
  table updates calls/s update-sqlite update-pg update-pg-x2
  echo "ratio update p99 postgres/sqlite: $(ratio "$(fig update-pg 3)" "$(fig update-sqlite 3)")x; calls/s $(ratio "$(fig update-pg 1)" "$(fig update-sqlite 1)")x"
  echo "ratio update p99 two replicas/one: $(ratio "$(fig update-pg-x2 3)" "$(fig update-pg 3)")x; calls/s $(ratio "$(fig update-pg-x2 1)" "$(fig update-pg 1)")x"
fi
if [[ -f $WORK/fanout.txt ]]; then
  grep -E '^(ratio|sqlite|postgres)' "$WORK/fanout.txt"
fi
(( LOST == 0 )) || fail "acknowledged writes were lost (see LOST above)"
echo "durability: no acknowledged alert or update lost after $( (( ${#RPC_LOAD} )) && echo 6 || echo 3) SIGKILLs"
echo "1 passed, 0 failed"
