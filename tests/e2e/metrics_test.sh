#!/usr/bin/env bash
# heraldd's /metrics, scraped live after a small flow (an alert, an approval,
# CLI calls, one refused), passes `promtool check metrics` (Prometheus's own
# linter: naming, units, _total on counters), and carries the series issue 7
# asks for with the values the flow implies. Then the real Prometheus
# scrapes heraldd: its query API gives the values the flow implies, herald's
# own alert rules load and evaluate cleanly, and every query of the Grafana
# dashboard evaluates on metrics heraldd really exports.
#
# usage: metrics_test.sh HERALDD HERALD SOURCE_DIR
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
SRC=$(realpath "$3")
require curl sha256sum promtool prometheus "$SYSTEM_PYTHON"

pick_ports
make_tokens
cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
$(e2e_checkout_org)
smtp: {url: 'smtp://127.0.0.1:9', from: status@acme.example}
intake: {default_component: checkout}
YAML
start_heraldd

step "a small flow touches the metrics"
fire checkout
[[ $(curl -s -o /dev/null -w '%{http_code}' -XPOST -H "Authorization: Bearer wrong" \
  -H 'Content-Type: application/json' "$PAGE/webhooks/alertmanager" -d '{}') == 401 ]] \
  || fail "a wrong webhook token was not refused"
wait_for 20 "first draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-1"
HERALD_TOKEN=$LEAD_TOKEN "$HERALD" approve --as-written MSG-1 >/dev/null
if HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" approve --as-written MSG-1 2>/dev/null; then
  fail "an engineer approved"
fi
# The gauges are refreshed every 5 s.
open_minor() { grep -q '^herald_open_incidents{impact="minor"} 1$' <<<"$(curl -fsS "$PAGE/metrics")"; }
wait_for 20 "the open-incident gauge" open_minor

step "promtool accepts the live scrape"
curl -fsS "$PAGE/metrics" >"$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.log" 2>&1 \
  || { cat "$WORK/promtool.log"; fail "promtool check metrics found problems"; }

step "the series the flow implies are there"
expect() { grep -qE "$1" "$WORK/metrics.txt" || fail "no line matching: $1"; }
expect '^herald_alerts_received_total\{status="firing"\} 1$'
expect '^herald_open_incidents\{impact="minor"\} 1$'
expect '^herald_time_to_first_update_seconds_count 1$'
expect '^herald_approval_latency_seconds_count 1$'
expect '^herald_oldest_open_incident_update_age_seconds [0-9.e+-]+$'
expect '^herald_grpc_requests_total\{code="OK",method="/herald.v1.MessageService/ApproveMessage"\} 1$'
expect '^herald_grpc_requests_total\{code="PERMISSION_DENIED",method="/herald.v1.MessageService/ApproveMessage"\} 1$'
expect '^herald_grpc_request_duration_seconds_count\{code="OK",method="/herald.v1.MessageService/ApproveMessage"\} 1$'
expect '^herald_sqlite_commit_duration_seconds_count [1-9][0-9]*$'
expect '^herald_outbox_deliveries [0-9]+$'
# No incident ids, emails or tokens in labels.
if grep -E '\{[^}]*(INC-|@|e2e-)' "$WORK/metrics.txt"; then
  fail "a label carries an id, an address or a token"
fi

step "the real Prometheus scrapes heraldd and evaluates herald's rules"
PROM_PORT=$(free_port)
PROM=http://127.0.0.1:$PROM_PORT
cat >"$WORK/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$SRC/deploy/prometheus/herald-alerts.yml']
scrape_configs:
  - job_name: herald
    static_configs: [{targets: ['127.0.0.1:$HTTP_PORT']}]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
wait_for 30 "Prometheus ready" curl -fsS "$PROM/-/ready"
query() { "$SYSTEM_PYTHON" "$(dirname "$0")/prom_query.py" "$PROM" "$@"; }
wait_for 30 "Prometheus to see the flow's one incident" \
  query value 'sum(herald_incidents_opened_total{job="herald"})' 1
query value 'herald_grpc_requests_total{code="PERMISSION_DENIED",method="/herald.v1.MessageService/ApproveMessage"}' 1 \
  || fail "Prometheus disagrees about the refused approval"
query value 'up{job="herald"}' 1 || fail "the scrape is not healthy"
rules=$(grep -c -- '- alert:' "$SRC/deploy/prometheus/herald-alerts.yml")
wait_for 30 "herald's $rules alert rules to evaluate" query rules "$rules"
query rules "$rules" || fail "herald's alert rules do not evaluate cleanly"
query dashboard "$SRC/deploy/grafana/herald-dashboard.json" || fail "the Grafana dashboard has a bad query"
echo PASS
