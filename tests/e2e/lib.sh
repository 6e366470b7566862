# Shared helpers for herald's end-to-end tests. Source it after setting
# `set -euo pipefail`. It makes $WORK, stops every process in PIDS on exit
# and prints the logs in $WORK/*.log when a test fails. A test that passed
# still fails if heraldd's log holds a secret: a token from make_tokens or
# anything the test added to SECRETS.

SYSTEM_PYTHON=/usr/bin/python3  # Debian's, which can import aiosmtpd

# How many times slower than the product build the binaries under test
# run: 1, unless the sanitized suite (tests/clang/run_sanitized_suite.sh)
# says otherwise. A test that checks a promise of time (the mirror's 1 s)
# allows this many times as long; the promise itself is checked on the
# product build, where the test runs too.
HERALD_TEST_SLOWDOWN=${HERALD_TEST_SLOWDOWN:-1}
[[ $HERALD_TEST_SLOWDOWN =~ ^[1-9][0-9]?$ ]] ||
  { echo "FAIL: HERALD_TEST_SLOWDOWN must be a whole number from 1 to 99"; exit 1; }

WORK=$(mktemp -d -t herald-e2e.XXXXXX)
PIDS=()
SECRETS=()
e2e_cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -eq 0 ]] && ! no_secrets_logged; then rc=1; fi
  if [[ $rc -ne 0 ]]; then
    for log in "$WORK"/*.log; do
      [[ -f $log ]] || continue
      echo "---- $(basename "$log")"
      # A sanitizer's report starts well above the last 30 lines.
      grep -m 1 -A 6 -E 'runtime error|ERROR: (Address|Leak)Sanitizer' "$log" \
        | cut -c 1-300 || true
      tail -n 30 "$log"
    done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap e2e_cleanup EXIT

# no_secrets_logged: true when $WORK/heraldd.log holds none of the tokens
# make_tokens made nor anything in SECRETS. heraldd runs at debug level in
# these tests, so every request it serves has been logged.
no_secrets_logged() {
  local log=$WORK/heraldd.log secret
  [[ -f $log ]] || return 0
  for secret in "${SECRETS[@]}" "${ENGINEER_TOKEN:-}" "${COMMS_TOKEN:-}" \
      "${LEAD_TOKEN:-}" "${ADMIN_TOKEN:-}" "${WEBHOOK_TOKEN:-}"; do
    [[ -n $secret ]] || continue
    if grep -qF -- "$secret" "$log"; then
      echo "FAIL: heraldd logged a secret (it starts \"${secret:0:8}\"):"
      grep -nF -- "$secret" "$log" | head -n 3
      return 1
    fi
  done
}

step() { echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

require() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "missing $tool (see README: quick start)"
  done
}

free_port() {
  "$SYSTEM_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS WHAT CMD...: polls CMD every 0.2 s until it succeeds. These
# waits are for other processes (Alertmanager's group_wait, SMTP delivery,
# start-up). herald's own timers are tested on a fake clock in the unit
# tests; the one e2e exception is aftercare_test.sh, which sets the
# follow-up delay to 3 s so that a real heraldd's clock can pass it.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.2
  done
}

# start_heraldd: heraldd on $WORK/herald.yaml, listening on $GRPC_PORT and
# $HTTP_PORT, logging at debug level to $WORK/heraldd.log (appended across
# restarts); sets HERALDD_PID and returns once /healthz answers.
start_heraldd() {
  "$HERALDD" --config "$WORK/herald.yaml" --grpc-listen "127.0.0.1:$GRPC_PORT" \
    --http-listen "127.0.0.1:$HTTP_PORT" --log-level debug >>"$WORK/heraldd.log" 2>&1 &
  HERALDD_PID=$!
  PIDS+=($HERALDD_PID)
  wait_for 20 "heraldd /healthz" curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz"
}

# wait_seen SECONDS WHAT CMD...: wait_for, but a timeout's message ends with
# what CMD printed last (CMD prints what it saw).
wait_seen() {
  local timeout=$1 what=$2 seen=""; shift 2
  local deadline=$((SECONDS + timeout))
  until seen=$("$@" 2>&1); do
    (( SECONDS < deadline )) || fail "timed out after ${timeout}s waiting for $what; last seen: $seen"
    sleep 0.2
  done
}

sha256() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

# start_mail_sink: a real SMTP server (aiosmtpd) on a free port that keeps
# every email it gets in the Maildir $MAIL; sets SMTP_PORT and MAIL.
start_mail_sink() {
  SMTP_PORT=$(free_port)
  MAIL=$WORK/mail
  "$SYSTEM_PYTHON" "$(dirname "${BASH_SOURCE[0]}")/delivery_sinks.py" smtp "$SMTP_PORT" "$MAIL" 0 \
    >"$WORK/smtp.log" 2>&1 &
  PIDS+=($!)
}

# start_hook_sink DELAY: an HTTP server on a free port that logs path and
# webhook-id of every POST to $HOOKS (JSON lines) as it arrives and answers
# 200 after DELAY seconds; sets HOOK_PORT and HOOKS.
start_hook_sink() {
  HOOK_PORT=$(free_port)
  HOOKS=$WORK/hooks.jsonl
  touch "$HOOKS"
  "$SYSTEM_PYTHON" "$(dirname "${BASH_SOURCE[0]}")/delivery_sinks.py" hooks "$HOOK_PORT" "$HOOKS" "$1" \
    >"$WORK/hook_sink.log" 2>&1 &
  PIDS+=($!)
}

# hook_subscribers_csv N COMPONENT SECRET: a `herald subscribers import` CSV
# of N subscribers (hook0001...) to COMPONENT, each a webhook to its own path
# (/hook/0001...) of start_hook_sink's sink, signed with SECRET.
hook_subscribers_csv() {
  local i
  echo "id,components,name,contacts"
  for i in $(seq -w 1 "$1"); do
    echo "hook$i,$2,Hook $i,webhook:http://127.0.0.1:$HOOK_PORT/hook/$i|$3"
  done
}

# hooks_reached N: prints how many of the sink's paths were POSTed to; true
# when at least N.
hooks_reached() {
  local n
  n=$(grep -o '"path": "/hook/[0-9]*"' "$HOOKS" | sort -u | wc -l)
  echo "$n recipients reached"
  (( n >= $1 ))
}

# check_fanout N: the sink got a fan-out to N recipients: every one POSTed
# to, each recipient's POSTs all with one webhook-id, N distinct ids. Prints
# how many POSTs were repeats; fails the test otherwise.
check_fanout() {
  "$SYSTEM_PYTHON" - "$HOOKS" "$1" <<'PY' \
    || fail "the fan-out reached someone twice with different webhook-ids, or missed someone"
import collections, json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
want = int(sys.argv[2])
ids_by_path = collections.defaultdict(set)
posts_by_path = collections.Counter()
for p in posts:
    ids_by_path[p["path"]].add(p["id"])
    posts_by_path[p["path"]] += 1
if len(ids_by_path) != want:
    sys.exit(f"{len(ids_by_path)} recipients POSTed to, expected {want}")
mixed = {path: ids for path, ids in ids_by_path.items() if len(ids) != 1 or None in ids}
if mixed:
    sys.exit(f"recipients with different (or no) webhook-ids: {dict(list(mixed.items())[:3])}")
distinct = {p["id"] for p in posts}
if len(distinct) != want:
    sys.exit(f"{len(distinct)} distinct webhook-ids, expected {want}")
repeats = sum(n - 1 for n in posts_by_path.values())
print(f"{want} recipients reached, {want} distinct webhook-ids; {repeats} repeated POST(s) "
      f"to {sum(1 for n in posts_by_path.values() if n > 1)} recipient(s), each with its first webhook-id")
PY
}

# make_tokens: fresh API tokens for the test's people (ENGINEER_TOKEN,
# COMMS_TOKEN, LEAD_TOKEN, ADMIN_TOKEN) and the WEBHOOK_TOKEN Alertmanager
# sends, which is written to $WORK/webhook-token for the config.
make_tokens() {
  ENGINEER_TOKEN=e2e-engineer-$RANDOM$RANDOM
  COMMS_TOKEN=e2e-comms-$RANDOM$RANDOM
  LEAD_TOKEN=e2e-lead-$RANDOM$RANDOM
  ADMIN_TOKEN=e2e-admin-$RANDOM$RANDOM
  WEBHOOK_TOKEN=e2e-webhook-$RANDOM$RANDOM
  printf '%s\n' "$WEBHOOK_TOKEN" >"$WORK/webhook-token"
}

# pick_ports: free ports for heraldd's gRPC (GRPC_PORT, also HERALD_SERVER
# for the CLI) and HTTP (HTTP_PORT; PAGE is its address).
pick_ports() {
  GRPC_PORT=$(free_port); HTTP_PORT=$(free_port)
  export HERALD_SERVER=127.0.0.1:$GRPC_PORT
  PAGE=http://127.0.0.1:$HTTP_PORT
}

# e2e_server: the config's `server` line for a test's heraldd in $WORK.
e2e_server() {
  echo "server: {page_name: E2E Cloud, public_url: '$PAGE', data_dir: $WORK/data, webhook_token_file: $WORK/webhook-token}"
}

# e2e_people ID...: the config's `people` entries for the test's demo people
# (alice engineer, bob comms, carol comms_lead, dave admin), each with the
# hash of their make_tokens token.
e2e_people() {
  local id
  for id in "$@"; do
    case $id in
      alice) echo "  - {id: alice, name: Alice Okafor, email: alice@acme.example, roles: [engineer], token_sha256: $(sha256 "$ENGINEER_TOKEN")}" ;;
      bob) echo "  - {id: bob, name: Bob Lindqvist, email: bob@acme.example, roles: [comms], token_sha256: $(sha256 "$COMMS_TOKEN")}" ;;
      carol) echo "  - {id: carol, name: Carol Nakamura, email: carol@acme.example, roles: [comms_lead], token_sha256: $(sha256 "$LEAD_TOKEN")}" ;;
      dave) echo "  - {id: dave, name: Dave Mensah, email: dave@acme.example, roles: [admin], token_sha256: $(sha256 "$ADMIN_TOKEN")}" ;;
      *) fail "e2e_people: no demo person \"$id\"" ;;
    esac
  done
}

# e2e_checkout_org [ID...]: the config's components, people and rotas for
# the usual test organisation: one component, checkout, with the demo people
# ID... (default alice, engineer, and carol, comms lead); carol is its point
# person.
e2e_checkout_org() {
  local people=("$@")
  (( ${#people[@]} )) || people=(alice carol)
  cat <<YAML
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
people:
$(e2e_people "${people[@]}")
rotas:
  - {id: comms, component_ids: [checkout], members: [carol], time_zone: Europe/London}
YAML
}

# fire SERVICE: what Alertmanager would post for one firing alert of
# SERVICE, sent to heraldd on $HTTP_PORT with $WEBHOOK_TOKEN.
fire() {
  curl -fsS -XPOST -H "Authorization: Bearer $WEBHOOK_TOKEN" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$HTTP_PORT/webhooks/alertmanager" -d "{
      \"version\":\"4\",\"groupKey\":\"{}:{service=\\\"$1\\\"}\",\"status\":\"firing\",\"receiver\":\"herald\",
      \"groupLabels\":{\"service\":\"$1\"},\"commonLabels\":{},\"commonAnnotations\":{},\"externalURL\":\"http://am\",
      \"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Errors\",\"service\":\"$1\"},
        \"annotations\":{\"summary\":\"$1 is failing\"},\"startsAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",
        \"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"fp-$1\"}]}" >/dev/null
}

# publish_update SERVICE: an alert opens INC-1 on SERVICE, alice posts an
# update and carol approves the draft; sets MSG to its reference. Needs
# make_tokens' tokens and a started heraldd.
publish_update() {
  fire "$1"
  wait_for 10 "INC-1" env HERALD_TOKEN="$ENGINEER_TOKEN" "$HERALD" show INC-1
  HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" update INC-1 "rolled back the deploy" >/dev/null
  MSG=$(HERALD_TOKEN=$LEAD_TOKEN "$HERALD" messages -o json | "$SYSTEM_PYTHON" -c '
import json, sys
print(json.load(sys.stdin)["messages"][-1]["ref"])')
  HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve --as-written "$MSG" >/dev/null
}

# all_delivered MSG N: MSG has N deliveries and every one is delivered, as
# `herald deliveries` run with $LEAD_TOKEN reports.
all_delivered() {
  HERALD_TOKEN=$LEAD_TOKEN "$HERALD" deliveries "$1" -o json >"$WORK/deliveries.json" || return 1
  "$SYSTEM_PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1])).get("deliveries", [])
sys.exit(0 if len(d) == int(sys.argv[2]) and all(x["state"] == "DELIVERY_STATE_DELIVERED" for x in d) else 1)
' "$WORK/deliveries.json" "$2"
}

# alertmanager_config FILE WEBHOOK_URL TOKEN_FILE [CA_FILE]: writes an
# Alertmanager config that sends every group to herald, resolved
# notifications included; over HTTPS it trusts the CA in CA_FILE.
alertmanager_config() {
  local file=$1 url=$2 token_file=$3 ca_file=${4:-}
  cat >"$file" <<YAML
route:
  receiver: herald
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: herald
    webhook_configs:
      - url: $url
        send_resolved: true
        http_config:
          authorization:
            credentials_file: $token_file
YAML
  if [[ -n $ca_file ]]; then
    printf '          tls_config:\n            ca_file: %s\n' "$ca_file" >>"$file"
  fi
}

# start_alertmanager PORT WEBHOOK_URL TOKEN_FILE [CA_FILE]: a real
# Alertmanager with alertmanager_config's config, on its own.
start_alertmanager() {
  local port=$1
  alertmanager_config "$WORK/alertmanager.yml" "$2" "$3" "${4:-}"
  prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
    >"$WORK/alertmanager.log" 2>&1 &
  PIDS+=($!)
  wait_for 30 "Alertmanager ready" curl -fsS "http://127.0.0.1:$port/-/ready"
}
