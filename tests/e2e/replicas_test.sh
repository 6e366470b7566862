#!/usr/bin/env bash
# Three heraldd replicas (A, B, C) on one PostgreSQL database, behind a real
# Alertmanager HA pair (AM1 sends to A, AM2 to B), as README's "Running
# more than one heraldd" deploys them:
#   1. an alert storm sent to both Alertmanagers opens one incident per
#      group, with every alert attached, though two replicas receive it;
#   2. each incident's acknowledgement timeout fires once, not once per
#      replica;
#   3. a 2,000-recipient webhook fan-out, sent by all three, reaches every
#      recipient although B is killed (SIGKILL) mid-way: B's claims pass to
#      A and C when delivery.claim_lease ends, and the only repeats carry
#      the webhook-id of the first send;
#   4. `herald watch` on C shows an update posted through A;
#   5. a console session signed in on A approves a draft through B.
# With HERALD_TEST_POSTGRES (ctest's `postgres` fixture) it works in a
# database of its own on that cluster; without, it starts its own cluster.
#
# usage: replicas_test.sh HERALDD HERALD
# Everything it starts, it stops (trap on EXIT). Listens on 127.0.0.1 only.
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require prometheus-alertmanager curl sha256sum psql pg_config setpriv "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
PG_CLUSTER=$(realpath "$(dirname "$0")/../testing/postgres_cluster.sh")

SERVICES=(payments search catalog accounts shipping billing auth inventory notify reports)
PER_SERVICE=20
SUBSCRIBERS=2000
REPLICAS=(a b c)
declare -A GRPC HTTP PID
for r in "${REPLICAS[@]}"; do GRPC[$r]=$(free_port); HTTP[$r]=$(free_port); done
export HERALD_SERVER=127.0.0.1:${GRPC[c]}  # reads go to C unless a step says otherwise

# The replicas' connections end before their database is dropped (or the
# cluster stopped); then lib.sh's cleanup, which checks heraldd.log for
# secrets, sees each replica's log in turn.
DB=replicas_$$
ADMIN_DSN=""
OWN_CLUSTER=""
replicas_cleanup() {
  local rc=$? pid r
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  PIDS=()
  if [[ -n $ADMIN_DSN ]]; then
    psql -qX "$ADMIN_DSN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  fi
  [[ -n $OWN_CLUSTER ]] && bash "$PG_CLUSTER" stop "$WORK/pg"
  if (( rc == 0 )); then
    for r in "${REPLICAS[@]}"; do
      ln -sf "heraldd-$r.log" "$WORK/heraldd.log"
      no_secrets_logged || rc=1
    done
  fi
  rm -f "$WORK/heraldd.log"
  (exit $rc)
  e2e_cleanup
}
trap replicas_cleanup EXIT

step "a PostgreSQL database of the test's own"
if [[ -n ${HERALD_TEST_POSTGRES:-} ]]; then
  [[ -f $HERALD_TEST_POSTGRES/dsn ]] || fail "HERALD_TEST_POSTGRES=$HERALD_TEST_POSTGRES has no dsn: is the postgres fixture running?"
  ADMIN_DSN=$(cat "$HERALD_TEST_POSTGRES/dsn")
else
  OWN_CLUSTER=1
  bash "$PG_CLUSTER" start "$WORK/pg" >"$WORK/postgres-start.log" 2>&1 \
    || fail "postgres_cluster.sh start: $(cat "$WORK/postgres-start.log")"
  ADMIN_DSN=$(cat "$WORK/pg/dsn")
fi
psql -qX "$ADMIN_DSN" -c "CREATE DATABASE $DB" >/dev/null || fail "could not create database $DB"
DSN=$(sed -E "s/dbname=[^ ]+/dbname=$DB/" <<<"$ADMIN_DSN")

step "receivers: a real SMTP server, and an HTTP sink recording each webhook-id"
start_mail_sink
start_hook_sink 0.2  # slow enough to kill a sender mid-way

step "one config for every replica: hashed tokens, one component and rota per service, ack timeout 4s"
make_tokens
HOOK_SECRET=whsec_$(head -c 32 /dev/urandom | base64 -w0)
SECRETS+=("$HOOK_SECRET")
{
  echo "server: {page_name: Replicas E2E, public_url: 'http://127.0.0.1:${HTTP[a]}', webhook_token_file: $WORK/webhook-token}"
  echo "store: {postgres: {dsn: '$DSN', pool_size: 8}}"
  echo "smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@replicas.example, timeout_seconds: 5}"
  echo "intake: {default_component: ${SERVICES[0]}, severity_impact: {critical: critical}}"
  echo "delivery: {workers: 8, http_timeout_seconds: 5, claim_lease: 20s}"
  echo "components:"
  for s in "${SERVICES[@]}"; do echo "  - {id: $s, name: $s, matchers: ['service=\"$s\"']}"; done
  echo "people:"
  e2e_people alice carol
  for s in "${SERVICES[@]}"; do
    echo "  - {id: pp-$s, name: PP $s, email: pp-$s@replicas.example, roles: [comms]}"
    echo "  - {id: bk-$s, name: Backup $s, email: bk-$s@replicas.example, roles: [comms]}"
  done
  echo "rotas:"
  for s in "${SERVICES[@]}"; do
    echo "  - {id: rota-$s, component_ids: [$s], members: [pp-$s], backup: bk-$s, ack_timeout: 4s}"
  done
} >"$WORK/herald.yaml"
"$HERALDD" --config "$WORK/herald.yaml" --check-config >"$WORK/check-config.txt" 2>&1 \
  || fail "heraldd refused the config: $(cat "$WORK/check-config.txt")"

# start_replica R: heraldd R (a, b or c) on the shared config and database,
# with its own ports and data directory, logging to heraldd-R.log.
start_replica() {
  local r=$1
  "$HERALDD" --config "$WORK/herald.yaml" --data-dir "$WORK/data-$r" \
    --grpc-listen "127.0.0.1:${GRPC[$r]}" --http-listen "127.0.0.1:${HTTP[$r]}" \
    --log-level debug >>"$WORK/heraldd-$r.log" 2>&1 &
  PID[$r]=$!
  PIDS+=(${PID[$r]})
}
healthy() { curl -fsS "http://127.0.0.1:${HTTP[$1]}/healthz"; }
# on R TOKEN ARGS...: the CLI against replica R as the holder of TOKEN.
on() { local r=$1 token=$2; shift 2; HERALD_TOKEN=$token "$HERALD" --server "127.0.0.1:${GRPC[$r]}" "$@"; }

step "replicas A, B and C start at once on the empty database"
for r in "${REPLICAS[@]}"; do start_replica "$r"; done
for r in "${REPLICAS[@]}"; do wait_for 40 "replica ${r^^} /healthz" healthy "$r"; done

step "an Alertmanager HA pair: AM1 sends to A, AM2 to B"
AM_PORT=([1]=$(free_port) [2]=$(free_port))
AM_CLUSTER=([1]=$(free_port) [2]=$(free_port))
# start_am N REPLICA OTHER: Alertmanager N, gossiping with Alertmanager
# OTHER, sending every group to REPLICA. The short peer timeout makes the
# second Alertmanager wait only 0.5 s for the first's notification log, so
# both usually notify, and two replicas take the same groups at once.
start_am() {
  local n=$1 r=$2 other=$3
  alertmanager_config "$WORK/am$n.yml" \
    "http://127.0.0.1:${HTTP[$r]}/webhooks/alertmanager" "$WORK/webhook-token"
  prometheus-alertmanager --config.file="$WORK/am$n.yml" --storage.path="$WORK/am$n" \
    --web.listen-address="127.0.0.1:${AM_PORT[$n]}" \
    --cluster.listen-address="127.0.0.1:${AM_CLUSTER[$n]}" \
    --cluster.advertise-address="127.0.0.1:${AM_CLUSTER[$n]}" \
    --cluster.peer="127.0.0.1:${AM_CLUSTER[$other]}" \
    --cluster.peer-timeout=500ms --cluster.settle-timeout=5s \
    >"$WORK/alertmanager$n.log" 2>&1 &
  PIDS+=($!)
}
start_am 1 a 2
start_am 2 b 1
# am_clustered N: Alertmanager N is ready and sees both members.
am_clustered() {
  curl -fsS "http://127.0.0.1:${AM_PORT[$1]}/api/v2/status" | "$SYSTEM_PYTHON" -c '
import json, sys
sys.exit(0 if len(json.load(sys.stdin)["cluster"].get("peers") or []) == 2 else 1)'
}
wait_for 40 "Alertmanager 1 clustered with 2" am_clustered 1
wait_for 40 "Alertmanager 2 clustered with 1" am_clustered 2

step "1. an alert storm of $((${#SERVICES[@]} * PER_SERVICE)) alerts in ${#SERVICES[@]} groups," \
  "every alert sent to both Alertmanagers"
# post_batch FROM TO: alerts FROM..TO-1 of every service, to each Alertmanager.
post_batch() {
  local from=$1 to=$2 s i n body
  for s in "${SERVICES[@]}"; do
    body="["
    for ((i = from; i < to; i++)); do
      body+="{\"labels\":{\"alertname\":\"ReplicaStorm\",\"service\":\"$s\",\"instance\":\"$s-$i\","
      body+="\"severity\":\"critical\"},\"annotations\":{\"summary\":\"$s is failing\"}},"
    done
    body="${body%,}]"
    for n in 1 2; do
      curl -fsS -XPOST -H 'Content-Type: application/json' \
        "http://127.0.0.1:${AM_PORT[$n]}/api/v2/alerts" -d "$body" >/dev/null
    done
  done
}
for ((b = 0; b < PER_SERVICE; b += 5)); do post_batch $b $((b + 5)); sleep 0.5; done

# storm_state: "INCIDENTS ALERTS" as C reports them (ALERTS summed over
# every incident), and each incident's alerts in $WORK/alerts-INC-n.json.
storm_state() {
  local incs inc alerts=0
  on c "$ENGINEER_TOKEN" incidents --all -o json >"$WORK/incidents.json"
  incs=$(grep -o '"ref": "INC-[0-9]*"' "$WORK/incidents.json" | grep -o 'INC-[0-9]*' || true)
  for inc in $incs; do
    on c "$ENGINEER_TOKEN" alerts "$inc" -o json >"$WORK/alerts-$inc.json"
    alerts=$((alerts + $(grep -c '"fingerprint"' "$WORK/alerts-$inc.json" || true)))
  done
  echo "$(wc -w <<<"$incs") $alerts"
}
TOTAL=$((${#SERVICES[@]} * PER_SERVICE))
storm_arrived() { local s; s=$(storm_state); echo "incidents, alerts: $s"; (( ${s#* } >= TOTAL )); }
wait_seen 90 "all $TOTAL alerts in herald" storm_arrived
# Both Alertmanagers may still be sending the last groups (1 s apart): a
# duplicate incident opened by them must show too.
sleep 3
read -r n_incidents n_alerts <<<"$(storm_state)"
echo "C sees $n_incidents incidents holding $n_alerts alerts"
"$SYSTEM_PYTHON" - "$WORK" "$PER_SERVICE" "${SERVICES[@]}" <<'PY' \
  || fail "the storm did not give one incident per group with every alert attached once"
import collections, json, sys
work, per, services = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
incidents = json.load(open(f"{work}/incidents.json"))["incidents"]
by_component = collections.defaultdict(list)
for i in incidents:
    by_component[tuple(i["componentIds"])].append(i["ref"])
dups = {c: refs for c, refs in by_component.items() if len(refs) > 1}
if dups:
    sys.exit(f"duplicate incidents for one group: {dups}")
if sorted(by_component) != sorted((s,) for s in services):
    sys.exit(f"incidents' components {sorted(by_component)}, expected one per service {services}")
seen = collections.Counter()
for i in incidents:
    alerts = json.load(open(f"{work}/alerts-{i['ref']}.json")).get("alerts", [])
    fps = [a["fingerprint"] for a in alerts]
    seen.update(fps)
    if len(set(fps)) != per or len(fps) != per:
        sys.exit(f"{i['ref']} ({i['componentIds'][0]}) has {len(fps)} alerts, {len(set(fps))} distinct; expected {per}")
twice = [fp for fp, n in seen.items() if n > 1]
if twice:
    sys.exit(f"alerts attached more than once: {twice[:5]}")
if len(seen) != per * len(services):
    sys.exit(f"{len(seen)} distinct alerts, expected {per * len(services)}")
PY
inc_of() {  # inc_of SERVICE: the ref of SERVICE's incident
  "$SYSTEM_PYTHON" -c '
import json, sys
print([i["ref"] for i in json.load(open(sys.argv[1]))["incidents"] if i["componentIds"] == [sys.argv[2]]][0])' \
    "$WORK/incidents.json" "$1"
}

step "2. every incident's 4 s acknowledgement timeout fires exactly once across three replicas"
# show_all: each incident's `herald show -o json` in $WORK/show-INC-n.json.
show_all() {
  local inc
  for inc in $(grep -o '"ref": "INC-[0-9]*"' "$WORK/incidents.json" | grep -o 'INC-[0-9]*'); do
    on c "$ENGINEER_TOKEN" show "$inc" -o json >"$WORK/show-$inc.json" || return 1
  done
}
all_exhausted() {
  show_all && [[ $(cat "$WORK"/show-INC-*.json | grep -c '"kind": "escalation_exhausted"') -ge ${#SERVICES[@]} ]]
}
wait_for 40 "every incident escalated to its backup and then exhausted its path" all_exhausted
backup_mails() { grep -l "^To:.*bk-$1@" "$WORK"/mail/new/* 2>/dev/null | wc -l; }
all_backups_told() { local s; for s in "${SERVICES[@]}"; do (( $(backup_mails "$s") >= 1 )) || return 1; done; }
wait_for 40 "every backup's escalation email" all_backups_told
"$SYSTEM_PYTHON" - "$WORK" <<'PY' || fail "an acknowledgement timeout did not fire exactly once"
import glob, json, sys
for path in sorted(glob.glob(f"{sys.argv[1]}/show-INC-*.json")):
    got = json.load(open(path))
    inc = got["incident"]
    timeline = got.get("timeline", [])
    if int(got.get("timelineCount", len(timeline))) > len(timeline):
        sys.exit(f"{inc['ref']}: the timeline has more than one page; read them all")
    kinds = [e["kind"] for e in timeline]
    escalated = [e["text"] for e in timeline if e["kind"] == "escalated"]
    if len(escalated) != 1 or kinds.count("escalation_exhausted") != 1:
        sys.exit(f"{inc['ref']}: {len(escalated)} 'escalated' and {kinds.count('escalation_exhausted')} "
                 f"'escalation_exhausted' timeline events, expected 1 each: {escalated}")
    backup = "bk-" + inc["componentIds"][0]
    if backup not in escalated[0]:
        sys.exit(f"{inc['ref']}: escalated to someone else than {backup}: {escalated[0]}")
    if int(inc.get("escalationLevel", 0)) != 1:
        sys.exit(f"{inc['ref']}: escalation level {inc.get('escalationLevel')}, expected 1")
print("each incident escalated once, to its backup")
PY
for s in "${SERVICES[@]}"; do
  n=$(backup_mails "$s")
  [[ $n -eq 1 ]] || fail "bk-$s@replicas.example got $n escalation emails, expected exactly 1"
done

step "3. a $SUBSCRIBERS-recipient webhook fan-out from all three replicas, with B killed (SIGKILL) mid-way"
hook_subscribers_csv "$SUBSCRIBERS" "${SERVICES[0]}" "$HOOK_SECRET" >"$WORK/hooks.csv"
on a "$LEAD_TOKEN" subscribers import "$WORK/hooks.csv" >"$WORK/import.txt" \
  || fail "subscribers import through A: $(cat "$WORK/import.txt")"
grep -q "$SUBSCRIBERS added" "$WORK/import.txt" || fail "import through A did not add $SUBSCRIBERS: $(cat "$WORK/import.txt")"
FAN_INC=$(inc_of "${SERVICES[0]}")
FAN_MSG=$(on a "$ENGINEER_TOKEN" update "$FAN_INC" "payments failover finished, errors falling" -o json |
  "$SYSTEM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["draft"]["ref"])')
on a "$LEAD_TOKEN" approve --as-written "$FAN_MSG" >"$WORK/approve.txt" || fail "approve $FAN_MSG through A: $(cat "$WORK/approve.txt")"
grep -q "$SUBSCRIBERS recipient(s) queued" "$WORK/approve.txt" \
  || fail "approving $FAN_MSG did not queue $SUBSCRIBERS deliveries: $(cat "$WORK/approve.txt")"
# webhooks_sent_by R: R's count of webhooks delivered, from its /metrics.
webhooks_sent_by() {
  curl -fsS "http://127.0.0.1:${HTTP[$1]}/metrics" |
    awk '/^herald_deliveries_total\{.*channel="webhook".*result="delivered".*\}/ {n += $NF} END {print n + 0}'
}
b_sending() { (( $(webhooks_sent_by b) >= 30 )); }
wait_for 60 "replica B sending its share of the fan-out" b_sending
echo "A, B, C had sent $(webhooks_sent_by a), $(webhooks_sent_by b), $(webhooks_sent_by c) webhooks at the kill"
kill -KILL "${PID[b]}"
wait "${PID[b]}" 2>/dev/null || true
at_kill=$(wc -l <"$HOOKS")
(( at_kill < SUBSCRIBERS )) || fail "the fan-out finished before B was killed; nothing was tested"
echo "killed B with $at_kill POSTs received"
killed_at=$SECONDS
wait_seen 120 "every one of the $SUBSCRIBERS recipients POSTed to" hooks_reached "$SUBSCRIBERS"
echo "every recipient reached $((SECONDS - killed_at)) s after the kill (claim_lease 20s)"
wait_for 30 "herald reporting all $SUBSCRIBERS deliveries of $FAN_MSG delivered" \
  all_delivered "$FAN_MSG" "$SUBSCRIBERS"
check_fanout "$SUBSCRIBERS"

step "B restarts on the shared database"
start_replica b
wait_for 40 "replica B /healthz after the restart" healthy b

# Steps 4 and 5 need features still being written (LISTEN/NOTIFY, sessions
# in the database): each runs in a subshell of its own, so that both report.
STEP_FAILURES=()
run_check() {  # run_check NAME FUNCTION: FUNCTION in a subshell, set -e
  local rc=0
  set +e
  ( set -e; "$2" ); rc=$?
  set -e
  (( rc == 0 )) || STEP_FAILURES+=("$1")
}

step "4. herald watch on C shows an update posted through A"
timeout 20 "$HERALD" --server "127.0.0.1:${GRPC[c]}" --token "$ENGINEER_TOKEN" watch -o json \
  >"$WORK/watch.jsonl" 2>"$WORK/watch.err" &
PIDS+=($!)
watch_open() { cat "$WORK/watch.err"; grep -q '"watching"' "$WORK/watch.jsonl"; }
wait_seen 10 "herald watch on C to open its stream" watch_open
WATCH_INC=$(inc_of "${SERVICES[1]}")
WATCH_TEXT="search index rebuilt on replica A, note $RANDOM$RANDOM"
WATCH_MSG=$(on a "$ENGINEER_TOKEN" update "$WATCH_INC" "$WATCH_TEXT" -o json |
  "$SYSTEM_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["draft"]["ref"])')
watch_check() {
  c_saw_update() {
    tail -c 600 "$WORK/watch.jsonl"
    grep -F -- "$WATCH_TEXT" "$WORK/watch.jsonl" | grep -q '"update"'
  }
  wait_seen 10 "herald watch on replica C to print the update \"$WATCH_TEXT\" (kind update,\
 $WATCH_INC) posted through replica A: events must cross replicas (PostgreSQL LISTEN/NOTIFY);\
 what C printed" c_saw_update
}
run_check "4 (watch across replicas)" watch_check

step "5. a console session signed in on A approves $WATCH_MSG through B"
console_check() {
  local jar=$WORK/console-jar code csrf version
  code=$(curl -sS -c "$jar" -o /dev/null -w '%{http_code}' --data-urlencode "token=$LEAD_TOKEN" \
    "http://127.0.0.1:${HTTP[a]}/console/sign-in")
  [[ $code == 303 ]] || fail "signing in on replica A's console answered $code, expected 303"
  code=$(curl -sS -b "$jar" -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:${HTTP[a]}/console/messages/$WATCH_MSG")
  [[ $code == 200 ]] \
    || fail "replica A's own console refused its session: GET /console/messages/$WATCH_MSG answered $code"
  code=$(curl -sS -b "$jar" -o "$WORK/console-b.html" -w '%{http_code}' \
    "http://127.0.0.1:${HTTP[b]}/console/messages/$WATCH_MSG")
  [[ $code == 200 ]] || fail "replica B did not know the console session signed in on replica A:\
 GET /console/messages/$WATCH_MSG with A's cookie answered $code, expected 200\
 (console sessions must live in the shared database)"
  csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$WORK/console-b.html" | head -n 1)
  version=$(sed -n 's/.*name="version" value="\([0-9]*\)".*/\1/p' "$WORK/console-b.html" | head -n 1)
  [[ -n $csrf && -n $version ]] \
    || fail "replica B's page for $WATCH_MSG has no approve form (csrf \"$csrf\", version \"$version\")"
  code=$(curl -sS -b "$jar" -o "$WORK/console-approve.html" -w '%{http_code} %{redirect_url}' \
    --data-urlencode "csrf=$csrf" --data-urlencode "version=$version" --data-urlencode "as_written=yes" \
    "http://127.0.0.1:${HTTP[b]}/console/messages/$WATCH_MSG/approve")
  [[ $code == "303 "*"done=approved"* ]] || fail "approving $WATCH_MSG on replica B with A's session\
 and B's CSRF token answered \"$code\", expected 303 to ?done=approved:\
 $(sed 's/<[^>]*>//g' "$WORK/console-approve.html" | grep -v '^\s*$' | head -n 5)"
  on c "$LEAD_TOKEN" messages --state published -o json >"$WORK/published.json"
  grep -q "\"ref\": \"$WATCH_MSG\"" "$WORK/published.json" \
    || fail "$WATCH_MSG is not published after B's console approved it: $(cat "$WORK/published.json")"
}
run_check "5 (console session across replicas)" console_check

step "at the end: still exactly one escalation email per backup"
for s in "${SERVICES[@]}"; do
  n=$(backup_mails "$s")
  [[ $n -eq 1 ]] || fail "bk-$s@replicas.example got $n escalation emails by the end, expected exactly 1"
done

(( ${#STEP_FAILURES[@]} == 0 )) || fail "steps failed: ${STEP_FAILURES[*]}"
echo "1 passed, 0 failed"
