#!/usr/bin/env bash
# heraldd follows a PostgreSQL failover without a restart. A primary with a
# synchronous standby; heraldd on a multi-host DSN (target_session_attrs=
# read-write); an alert storm from two posters and a 1,000-recipient webhook
# fan-out in flight; then the primary dies (pg_ctl stop -m immediate), no
# primary is reachable for a few seconds, and the standby is promoted.
#   a. every alert heraldd answered 2xx is on the new primary: with a
#      synchronous standby, an acknowledged commit survives the failover;
#   b. while no primary was reachable, heraldd answered 503 (Alertmanager
#      retries it), never 500, and never hung past curl's 10 s;
#   c. heraldd answers 2xx again within 30 s of the promotion;
#   d. the fan-out reaches every recipient, repeats only with the webhook-id
#      of the first send (claims left by the lost connections end with
#      delivery.claim_lease);
#   e. gRPC reads answer UNAVAILABLE while no primary is reachable, and
#      answer again after.
#
# usage: failover_test.sh HERALDD HERALD
# Starts its own two clusters (tests/testing/postgres_cluster.sh for the
# primary); everything it starts, it stops (trap on EXIT). Listens on
# 127.0.0.1 only.
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl sha256sum psql pg_config setpriv "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
PG_CLUSTER=$(realpath "$(dirname "$0")/../testing/postgres_cluster.sh")
PG_BIN=$(pg_config --bindir)

SUBSCRIBERS=1000
POSTERS=(1 2)
RECOVERY_BOUND=30  # seconds from the promotion to 2xx again
OUTAGE=3           # seconds with no primary at all

# as_pg CMD...: CMD as the clusters' owner (postgres_cluster.sh runs them as
# nobody when the test runs as root; PostgreSQL refuses root).
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

PRIMARY_DATA=""
STANDBY_DATA=""
failover_cleanup() {
  local rc=$? pid data
  set +e
  touch "$WORK/stop-posting"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  PIDS=()
  if (( rc != 0 )); then
    [[ -n $PRIMARY_DATA ]] && cp "$PRIMARY_DATA/server.log" "$WORK/postgres-primary.log"
    [[ -n $STANDBY_DATA ]] && cp "$STANDBY_DATA/standby.log" "$WORK/postgres-standby.log"
  fi
  for data in "$STANDBY_DATA" "$PRIMARY_DATA"; do
    [[ -n $data && -f $data/postmaster.pid ]] &&
      as_pg "$PG_BIN/pg_ctl" stop -D "$data" -m immediate -w >/dev/null 2>&1
  done
  bash "$PG_CLUSTER" stop "$WORK/pg"  # removes both: the standby lives beside the primary
  (exit $rc)
  e2e_cleanup
}
trap failover_cleanup EXIT

step "a primary with a synchronous standby (pg_basebackup -R, application_name=standby)"
bash "$PG_CLUSTER" start "$WORK/pg" -c wal_level=replica -c max_wal_senders=4 \
  >"$WORK/postgres-start.log" 2>&1 \
  || fail "postgres_cluster.sh start: $(cat "$WORK/postgres-start.log")"
PRIMARY_DSN=$(cat "$WORK/pg/dsn")
PRIMARY_DATA=$(cat "$WORK/pg/pgdata")
PRIMARY_PORT=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"$PRIMARY_DSN")
STANDBY_DATA=$(dirname "$PRIMARY_DATA")/standby
STANDBY_PORT=$(free_port)
as_pg "$PG_BIN/pg_basebackup" -d "host=127.0.0.1 port=$PRIMARY_PORT user=herald" \
  -D "$STANDBY_DATA" -R -X stream -c fast >"$WORK/basebackup.log" 2>&1 \
  || fail "pg_basebackup: $(cat "$WORK/basebackup.log")"
# The last setting in postgresql.auto.conf wins over the line -R wrote.
echo "primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=herald application_name=standby'" \
  | as_pg tee -a "$STANDBY_DATA/postgresql.auto.conf" >/dev/null
# No synchronous_standby_names here: promoted, it has no standby to wait for.
as_pg "$PG_BIN/pg_ctl" start -D "$STANDBY_DATA" -w -t 60 -l "$STANDBY_DATA/standby.log" \
  -o "-c listen_addresses=127.0.0.1 -c port=$STANDBY_PORT -c unix_socket_directories='' \
      -c max_connections=300" >/dev/null \
  || fail "the standby did not start: $(tail -n 20 "$STANDBY_DATA/standby.log")"
STANDBY_DSN="host=127.0.0.1 port=$STANDBY_PORT user=herald dbname=herald_test"
# Synchronous only now: until a standby streams, every commit would wait
# (postgres_cluster.sh's CREATE DATABASE too).
psql -qX "$PRIMARY_DSN" -c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" \
  -c 'SELECT pg_reload_conf()' >/dev/null
sync_standby() {
  local state
  state=$(psql -AtX "$PRIMARY_DSN" -c "SELECT application_name || ' ' || sync_state FROM pg_stat_replication")
  echo "pg_stat_replication: ${state:-no standby}"
  [[ $state == "standby sync" ]]
}
wait_seen 30 "the standby streaming as the synchronous standby" sync_standby
DSN="host=127.0.0.1,127.0.0.1 port=$PRIMARY_PORT,$STANDBY_PORT user=herald dbname=herald_test"
DSN+=" target_session_attrs=read-write connect_timeout=2"

step "heraldd on the multi-host DSN: hashed tokens, component checkout, rota comms, claim_lease 14s"
pick_ports
make_tokens
start_mail_sink
start_hook_sink 0.1  # 8 workers: a fan-out of ~13 s, in flight when the primary dies
HOOK_SECRET=whsec_$(head -c 32 /dev/urandom | base64 -w0)
SECRETS+=("$HOOK_SECRET")
{
  e2e_server
  echo "store: {postgres: {dsn: '$DSN', pool_size: 8}}"
  echo "smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@failover.example, timeout_seconds: 2}"
  echo "intake: {default_component: checkout}"
  echo "delivery: {workers: 8, http_timeout_seconds: 2, claim_lease: 14s}"
  e2e_checkout_org alice carol
} >"$WORK/herald.yaml"
"$HERALDD" --config "$WORK/herald.yaml" --check-config >"$WORK/check-config.txt" 2>&1 \
  || fail "heraldd refused the config: $(cat "$WORK/check-config.txt")"
start_heraldd
fire checkout  # opens INC-1, which the storm's alerts join
wait_for 10 "INC-1" env HERALD_TOKEN="$ENGINEER_TOKEN" "$HERALD" show INC-1

step "an alert storm from ${#POSTERS[@]} posters, one new alert per request"
STARTS_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# poster P: posts one new alert after another until $WORK/stop-posting
# exists, each with its own fingerprint (fo-P-i); logs "fingerprint status
# sent_at answered_at" per alert to posts-P.txt and the body of every
# non-2xx answer to refused-P.txt. curl gives up after 10 s: status 000.
poster() {
  local p=$1 i=0 fp code t0
  while [[ ! -e $WORK/stop-posting ]]; do
    i=$((i + 1)) fp=fo-$p-$i t0=$EPOCHREALTIME
    code=$(curl -sS -o "$WORK/answer-$p" -w '%{http_code}' --max-time 10 -XPOST \
      -H "Authorization: Bearer $WEBHOOK_TOKEN" -H 'Content-Type: application/json' \
      "$PAGE/webhooks/alertmanager" -d "{
      \"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"Failover\\\",poster=\\\"$p\\\"}\",
      \"status\":\"firing\",\"receiver\":\"herald\",\"groupLabels\":{\"alertname\":\"Failover\"},
      \"commonLabels\":{\"service\":\"checkout\"},\"commonAnnotations\":{},\"externalURL\":\"http://am\",
      \"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Failover\",\"service\":\"checkout\",
        \"instance\":\"$fp\"},\"annotations\":{\"summary\":\"checkout is failing\"},
        \"startsAt\":\"$STARTS_AT\",\"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"$fp\"}]}" \
      2>>"$WORK/curl-$p.err") || true
    echo "$fp $code $t0 $EPOCHREALTIME" >>"$WORK/posts-$p.txt"
    [[ $code == 2* ]] || echo "$fp $code $(head -c 300 "$WORK/answer-$p" 2>/dev/null)" >>"$WORK/refused-$p.txt"
  done
}
POSTER_PIDS=()
for p in "${POSTERS[@]}"; do
  touch "$WORK/posts-$p.txt"
  poster "$p" &
  POSTER_PIDS+=($!)
  PIDS+=($!)
done

step "a $SUBSCRIBERS-recipient webhook fan-out at the same time"
hook_subscribers_csv "$SUBSCRIBERS" checkout "$HOOK_SECRET" >"$WORK/hooks.csv"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" subscribers import "$WORK/hooks.csv" >"$WORK/import.txt" \
  || fail "subscribers import: $(cat "$WORK/import.txt")"
grep -q "$SUBSCRIBERS added" "$WORK/import.txt" || fail "import did not add $SUBSCRIBERS: $(cat "$WORK/import.txt")"
FAN_MSG=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-1 "checkout database failing over" -o json |
  "$SYSTEM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["draft"]["ref"])')
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve --as-written "$FAN_MSG" >"$WORK/approve.txt" \
  || fail "approve $FAN_MSG: $(cat "$WORK/approve.txt")"
grep -q "$SUBSCRIBERS recipient(s) queued" "$WORK/approve.txt" \
  || fail "approving $FAN_MSG did not queue $SUBSCRIBERS deliveries: $(cat "$WORK/approve.txt")"
sending() { local n; n=$(wc -l <"$HOOKS"); echo "$n POSTs"; (( n >= 100 )); }
wait_seen 30 "the fan-out under way" sending

step "failover: the primary dies (immediate), ${OUTAGE} s with no primary, the standby is promoted"
posted_ok() { cat "$WORK"/posts-*.txt | awk '$2 ~ /^2/' | wc -l; }
echo "before: $(posted_ok) alerts answered 2xx, $(wc -l <"$HOOKS") webhook POSTs received"
as_pg "$PG_BIN/pg_ctl" stop -D "$PRIMARY_DATA" -m immediate -w >/dev/null \
  || fail "pg_ctl stop -m immediate of the primary failed"
DOWN_AT=$EPOCHREALTIME  # the primary is gone
at_failover=$(wc -l <"$HOOKS")
(( at_failover < SUBSCRIBERS )) || fail "the fan-out finished before the failover; nothing was tested"
# e. A gRPC read with no primary: UNAVAILABLE, promptly.
grpc_rc=0
HERALD_TOKEN=$ENGINEER_TOKEN timeout 15 "$HERALD" incidents >"$WORK/grpc-down.txt" 2>&1 || grpc_rc=$?
sleep "$("$SYSTEM_PYTHON" -c "print(max(0, $OUTAGE - ($EPOCHREALTIME - $DOWN_AT)))")"
PROMOTE_AT=$EPOCHREALTIME
as_pg "$PG_BIN/pg_ctl" promote -D "$STANDBY_DATA" -w -t 30 >/dev/null || fail "pg_ctl promote failed"
UP_AT=$EPOCHREALTIME
[[ $(psql -AtX "$STANDBY_DSN" -c 'SELECT pg_is_in_recovery()') == f ]] \
  || fail "the promoted standby is still in recovery"
echo "promoted $("$SYSTEM_PYTHON" -c "print(f'{$UP_AT - $DOWN_AT:.1f}')") s after the primary died"
kill -0 "$HERALDD_PID" || fail "heraldd exited when the primary died"
(( grpc_rc != 124 )) || fail "herald incidents hung (15 s) while no primary was reachable"
(( grpc_rc != 0 )) || fail "herald incidents succeeded with no primary reachable: $(head -c 300 "$WORK/grpc-down.txt")"
grep -qi "unavailable" "$WORK/grpc-down.txt" \
  || fail "herald incidents with no primary: expected UNAVAILABLE, got: $(head -c 300 "$WORK/grpc-down.txt")"
echo "gRPC with no primary: $(head -c 200 "$WORK/grpc-down.txt")"

step "c. heraldd answers 2xx again within ${RECOVERY_BOUND} s of the promotion, and keeps posting"
# recovered: each poster's last 20 alerts were sent after the promotion and
# answered 2xx.
recovered() {
  local p
  for p in "${POSTERS[@]}"; do
    tail -n 20 "$WORK/posts-$p.txt" | awk -v up="$UP_AT" '
      { n++; if ($2 !~ /^2/ || $3 < up) bad++ } END { exit !(n == 20 && bad == 0) }' || {
      echo "poster $p's last answers: $(tail -n 3 "$WORK/posts-$p.txt" | awk '{print $2}' | xargs)"
      return 1
    }
  done
}
wait_seen "$RECOVERY_BOUND" "heraldd answering 2xx after the promotion" recovered
sleep 5
touch "$WORK/stop-posting"
for pid in "${POSTER_PIDS[@]}"; do wait "$pid" || true; done

step "a, b. every alert answered 2xx is on the new primary; no 500s, no hangs"
psql -AtX "$STANDBY_DSN" -c 'SELECT fingerprint FROM alerts' >"$WORK/fingerprints.txt" \
  || fail "could not read the alerts from the new primary"
"$SYSTEM_PYTHON" - "$WORK" "$DOWN_AT" "$PROMOTE_AT" "$UP_AT" "$RECOVERY_BOUND" "${POSTERS[@]}" <<'PY' \
  || fail "heraldd lost an acknowledged alert, answered other than 2xx/503, or did not recover"
import collections, sys
work, down, promote, up, bound = sys.argv[1], *map(float, sys.argv[2:5]), float(sys.argv[5])
posts = []
for p in sys.argv[6:]:
    for line in open(f"{work}/posts-{p}.txt"):
        fp, code, t0, t1 = line.split()
        posts.append((fp, code, float(t0), float(t1)))
stored = set(open(f"{work}/fingerprints.txt").read().split())
codes = collections.Counter(code for _, code, _, _ in posts)
ok = [p for p in posts if p[1].startswith("2")]
refused = [p for p in posts if not p[1].startswith("2")]
lost = [p[0] for p in ok if p[0] not in stored]
kept_503 = sum(1 for p in refused if p[1] == "503" and p[0] in stored)
slowest = max(t1 - t0 for _, _, t0, t1 in posts)
print(f"{len(posts)} alerts posted: {len(ok)} answered 2xx, {codes['503']} 503, "
      f"{len(posts) - len(ok) - codes['503']} other {dict((c, n) for c, n in codes.items() if c not in ('200', '503'))}; "
      f"slowest answer {slowest:.2f} s")
print(f"{len(ok) - len(lost)} of {len(ok)} acknowledged alerts on the new primary, {len(lost)} lost; "
      f"{kept_503} of the 503-answered alerts were kept anyway")
if refused:
    first, last = min(p[2] for p in refused), max(p[3] for p in refused)
    print(f"non-2xx answers from {first - down:+.1f} s to {last - down:+.1f} s after the primary died "
          f"(promoted at {promote - down:+.1f} s, done at {up - down:+.1f} s)")
after = [p for p in posts if p[2] > up]
first_ok_after = min((p[3] for p in after if p[1].startswith("2")), default=None)
last_bad_after = max((p[3] for p in after if not p[1].startswith("2")), default=None)
if first_ok_after is not None:
    print(f"first 2xx {first_ok_after - up:.2f} s after the promotion; "
          + (f"last non-2xx {last_bad_after - up:.2f} s after it" if last_bad_after else "no non-2xx after it"))
during = [p for p in posts if p[2] < up and p[3] > down]
# Posted and answered with no primary: after the old one died, before the
# promotion began (pg_ctl promote -w notices the end a little late).
inside = [p for p in posts if p[2] > down and p[3] < promote]
print(f"{len(during)} alerts in flight during the outage, answered "
      f"{dict(collections.Counter(p[1] for p in during))}; {len(inside)} of them posted and answered within it")
errors = []
if lost:
    errors.append(f"{len(lost)} alerts answered 2xx are missing on the new primary: {lost[:10]}")
bad = {c: n for c, n in codes.items() if not c.startswith("2") and c != "503"}
if bad:
    errors.append(f"answers other than 2xx and 503 (000: no answer within 10 s): {bad}")
if not inside:
    errors.append("no alert was posted and answered during the outage; nothing was tested")
if any(p[1] != "503" for p in inside):
    errors.append("alerts posted while no primary was reachable answered other than 503: "
                  f"{dict(collections.Counter(p[1] for p in inside))}")
if first_ok_after is None or (last_bad_after or up) - up > bound:
    errors.append(f"heraldd did not answer 2xx steadily within {bound:.0f} s of the promotion")
if len([p for p in after if p[1].startswith("2")]) < 40:
    errors.append("fewer than 40 alerts answered 2xx after the promotion")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
for p in "${POSTERS[@]}"; do
  [[ -s $WORK/refused-$p.txt ]] && echo "poster $p, first refusal: $(head -n 1 "$WORK/refused-$p.txt")"
done

step "d. the fan-out reaches all $SUBSCRIBERS recipients"
wait_seen 90 "every one of the $SUBSCRIBERS recipients POSTed to" hooks_reached "$SUBSCRIBERS"
echo "every recipient reached $("$SYSTEM_PYTHON" -c "print(f'{$EPOCHREALTIME - $UP_AT:.0f}')") s" \
  "after the promotion ($at_failover before the failover; claim_lease 14s)"
wait_for 30 "herald reporting all $SUBSCRIBERS deliveries of $FAN_MSG delivered" \
  all_delivered "$FAN_MSG" "$SUBSCRIBERS"
check_fanout "$SUBSCRIBERS"

step "e. herald incidents answers over gRPC after the recovery"
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" incidents -o json >"$WORK/incidents.json" \
  || fail "herald incidents after the recovery: $(cat "$WORK/incidents.json")"
grep -q '"ref": "INC-1"' "$WORK/incidents.json" || fail "herald incidents does not list INC-1: $(cat "$WORK/incidents.json")"
echo "1 passed, 0 failed"
