# The organisations the benchmarks run heraldd with, shared by
# webhook_ingest_bench.sh, update_rpc_bench.sh and store_bench.sh so that
# each figure is measured on the same one. Source it after lib.sh.

# store_line DSN: the config's store; SQLite in data_dir when DSN is empty.
store_line() {
  [[ -n $1 ]] && echo "store: {postgres: {dsn: '$1', pool_size: 8}}"
  return 0
}

# ingest_config FILE DATA_DIR [DSN]: every request is one new alert in the
# same storm, so the incident's cap on stored alerts (50,000 by default,
# beyond which alerts are counted, not stored) is raised: the benchmark
# measures durable intake of every alert.
ingest_config() {
  cat >"$1" <<YAML
server: {data_dir: $2, webhook_token_file: $WORK/webhook-token}
$(store_line "${3:-}")
smtp: {url: 'smtp://127.0.0.1:1', from: bench@herald.example}
components:
  - {id: services, name: Services, matchers: ['service=~"svc-.*"']}
  - {id: other, name: Other}
intake: {default_component: other, limits: {max_alerts_per_incident: 100000000}}
people:
  - {id: pp, name: Point Person, email: pp@herald.example, roles: [comms]}
rotas:
  - {id: comms, component_ids: [services, other], members: [pp]}
YAML
}

# update_config FILE DATA_DIR [DSN]: an engineer (ENGINEER_TOKEN) posting
# updates to one component's incident.
update_config() {
  cat >"$1" <<YAML
server: {data_dir: $2, webhook_token_file: $WORK/webhook-token}
$(store_line "${3:-}")
smtp: {url: 'smtp://127.0.0.1:1', from: bench@herald.example}
components:
  - {id: checkout, name: Checkout, matchers: ['service="checkout"']}
intake: {default_component: checkout}
people:
  - {id: alice, name: Alice, email: alice@herald.example, roles: [engineer], token_sha256: $(printf %s "$ENGINEER_TOKEN" | sha256sum | cut -d' ' -f1)}
  - {id: bob, name: Bob, email: bob@herald.example, roles: [comms]}
  - {id: carol, name: Carol, email: carol@herald.example, roles: [comms_lead]}
rotas:
  - {id: comms, component_ids: [checkout], members: [bob], backup: carol}
YAML
}
