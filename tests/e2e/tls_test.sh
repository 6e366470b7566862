#!/usr/bin/env bash
# TLS end to end, with a CA and a server certificate made by openssl for
# this run: heraldd serves HTTPS and gRPC over TLS from server.tls; curl,
# the built CLI (--ca-cert) and the real Alertmanager (tls_config.ca_file)
# reach it only when they trust that CA; plain text is refused. A key that
# is not the certificate's, or half a tls section, stops heraldd at start
# with the field named.
#
# usage: tls_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require openssl curl prometheus-alertmanager sha256sum "$SYSTEM_PYTHON"

GRPC_PORT=$(free_port); HTTP_PORT=$(free_port); AM_PORT=$(free_port)
export HERALD_SERVER=127.0.0.1:$GRPC_PORT
PKI=$WORK/pki
mkdir -p "$PKI"

step "make a CA and a server certificate for 127.0.0.1 and localhost"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=herald e2e CA" -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=heraldd" -keyout "$PKI/server.key" -out "$PKI/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$PKI/ext"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 1 -extfile "$PKI/ext" -out "$PKI/server.pem" 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/other.key" 2>/dev/null
SECRETS+=("$(sed -n 2p "$PKI/server.key")")  # a line of the private key

make_tokens
# config TLS_YAML: the test's herald.yaml with that server.tls section
config() {
  cat >"$WORK/herald.yaml" <<YAML
server:
  page_name: TLS Cloud
  data_dir: $WORK/data
  webhook_token_file: $WORK/webhook-token
  public_url: https://127.0.0.1:$HTTP_PORT
  tls: $1
$(e2e_checkout_org)
intake: {default_component: checkout}
YAML
}
# refused SNIPPET: heraldd exits 1 at start and says SNIPPET
refused() {
  local out rc=0
  out=$(timeout 20 "$HERALDD" --config "$WORK/herald.yaml" --grpc-listen 127.0.0.1:0 \
        --http-listen 127.0.0.1:0 2>&1) || rc=$?
  [[ $rc -eq 1 ]] || fail "heraldd exited $rc, not 1, for a bad tls section: $out"
  [[ $out == *"$1"* ]] || fail "heraldd's refusal does not say \"$1\": $out"
}

step "a key that is not the certificate's, or half a tls section, is refused by field"
config "{cert_file: $PKI/server.pem, key_file: $PKI/other.key}"
refused "server.tls.key_file: \"$PKI/other.key\" is not the key of the certificate"
config "{cert_file: $PKI/server.pem}"
refused "server.tls.key_file: required"
config "{cert_file: $PKI/server.csr, key_file: $PKI/server.key}"
refused "server.tls.cert_file: \"$PKI/server.csr\" holds no PEM certificate"

step "heraldd serves HTTPS and gRPC over TLS"
config "{cert_file: $PKI/server.pem, key_file: $PKI/server.key}"
"$HERALDD" --config "$WORK/herald.yaml" --grpc-listen "127.0.0.1:$GRPC_PORT" \
  --http-listen "127.0.0.1:$HTTP_PORT" --log-level debug >>"$WORK/heraldd.log" 2>&1 &
PIDS+=($!)
HTTPS=https://127.0.0.1:$HTTP_PORT
wait_for 20 "heraldd /readyz over HTTPS" curl -fsS --cacert "$PKI/ca.pem" "$HTTPS/readyz"
[[ $(curl -fsS --cacert "$PKI/ca.pem" "$HTTPS/readyz") == ready ]] || fail "/readyz is not ready"
grep -q "TLS Cloud" <<<"$(curl -fsS --cacert "$PKI/ca.pem" "$HTTPS/")" || fail "no status page over HTTPS"
rc=0; curl -sS --max-time 5 "$HTTPS/healthz" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 60 ]] || fail "curl without the CA should fail verification (60), got $rc"
rc=0; curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "plain HTTP was answered on the HTTPS port"
grep -q "tls=on" "$WORK/heraldd.log" || fail "heraldd does not log that TLS is on"

step "the CLI needs --ca-cert, and works with it"
[[ $("$HERALD" --ca-cert "$PKI/ca.pem" health) == SERVING ]] || fail "health over TLS"
rc=0; out=$("$HERALD" health 2>&1) || rc=$?
[[ $rc -eq 1 && $out == *"pass --ca-cert"* ]] || fail "plain-text CLI: rc $rc: $out"
[[ $(HERALD_CA_CERT=$PKI/ca.pem "$HERALD" health) == SERVING ]] || fail "HERALD_CA_CERT is not used"
rc=0; out=$("$HERALD" --ca-cert "$PKI/nope.pem" health 2>&1) || rc=$?
[[ $rc -eq 2 && $out == *"--ca-cert"* ]] || fail "a missing CA file is not a usage error: $out"

step "the real Alertmanager posts over HTTPS, trusting the CA"
start_alertmanager "$AM_PORT" "$HTTPS/webhooks/alertmanager" "$WORK/webhook-token" "$PKI/ca.pem"
curl -fsS -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:$AM_PORT/api/v2/alerts" -d '[{
  "labels":{"alertname":"CheckoutErrors","service":"checkout"},
  "annotations":{"summary":"Checkout 5xx above 5%"}}]' >/dev/null
incident_open() {
  local s
  s=$(HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" --ca-cert "$PKI/ca.pem" incidents -o json) &&
    [[ $s == *'"ref": "INC-1"'* ]]
}
wait_for 30 "INC-1 opened by Alertmanager over HTTPS" incident_open
HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" --ca-cert "$PKI/ca.pem" update INC-1 "rolled back" >/dev/null \
  || fail "an authenticated update over TLS failed"
echo "PASS"
