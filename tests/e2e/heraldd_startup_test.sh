#!/usr/bin/env bash
# heraldd refuses to start on a bad config, naming the file, line, field and
# what was expected, and exits non-zero without serving. --check-config
# says the same without starting, and exits 0 on a good config.
# usage: heraldd_startup_test.sh HERALDD
set -euo pipefail
HERALDD=$(realpath "$1")
WORK=$(mktemp -d -t herald-startup.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

expect_refusal() {  # expect_refusal NAME EXPECTED-TEXT ARGS...
  local name=$1 expected=$2; shift 2
  local rc=0
  timeout 20 "$HERALDD" --data-dir "$WORK/data" --grpc-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    "$@" >"$WORK/out" 2>&1 || rc=$?
  if [[ $rc -eq 0 || $rc -eq 124 ]]; then echo "FAIL $name: heraldd did not refuse (rc=$rc)"; exit 1; fi
  if ! grep -qF -- "$expected" "$WORK/out"; then
    echo "FAIL $name: expected \"$expected\" in: $(cat "$WORK/out")"; exit 1
  fi
  [[ $(wc -l <"$WORK/out") -eq 1 ]] || { echo "FAIL $name: expected one line: $(cat "$WORK/out")"; exit 1; }
  echo "ok $name"
}

printf 'people:\n  - id: a\n    roles: [boss]\n' >"$WORK/bad-enum.yaml"
expect_refusal bad_enum "$WORK/bad-enum.yaml:3:13: people[0].roles[0]: expected one of engineer, comms, comms_lead, admin, got \"boss\"" \
  --config "$WORK/bad-enum.yaml"

printf 'server:\n  grpc_lisen: x\n' >"$WORK/typo.yaml"
expect_refusal unknown_field "$WORK/typo.yaml:2:3: server.grpc_lisen: unknown field" --config "$WORK/typo.yaml"

printf 'components:\n  - {id: web, name: Web}\nrotas:\n  - {component_ids: [web], members: [zed]}\n' >"$WORK/ref.yaml"
expect_refusal unknown_person "$WORK/ref.yaml: rotas[0].members[0]: unknown person \"zed\"" --config "$WORK/ref.yaml"

printf 'components:\n  - {id: web, name: Web}\n' >"$WORK/no-default.yaml"
expect_refusal missing_default_component "intake.default_component: required" --config "$WORK/no-default.yaml"

printf 'components:\n  - {id: web, name: Web}\nintake: {default_component: web}\n' >"$WORK/no-token.yaml"
expect_refusal missing_webhook_token "server.webhook_token_file: required" --config "$WORK/no-token.yaml"

: >"$WORK/empty-token"
expect_refusal empty_webhook_token "is empty" --config "$WORK/no-token.yaml" --webhook-token-file "$WORK/empty-token"

expect_refusal check_config_names_the_field "$WORK/ref.yaml: rotas[0].members[0]: unknown person" \
  --config "$WORK/ref.yaml" --check-config

out=$(timeout 20 "$HERALDD" --config "$WORK/no-token.yaml" --data-dir "$WORK/check-data" --check-config) \
  || { echo "FAIL check_config_accepts: $out"; exit 1; }
[[ $out == "$WORK/no-token.yaml: OK: 1 component(s), 0 person(s), 0 rota(s), 0 subscriber(s)."* ]] \
  || { echo "FAIL check_config_accepts: $out"; exit 1; }
[[ ! -e $WORK/check-data ]] || { echo "FAIL check_config_accepts: it made the data dir"; exit 1; }
echo "ok check_config_accepts"

echo "8 passed, 0 failed"
