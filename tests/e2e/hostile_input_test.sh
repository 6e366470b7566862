#!/usr/bin/env bash
# Issue 18, end to end: a real heraldd is sent every kind of hostile input a
# client without credentials, an Alertmanager, an engineer's terminal and an
# import file can carry: text that is not UTF-8, control characters and
# terminal escapes, lone surrogates, oversized fields, many fields. Each is
# refused with a 4xx that names the field, or kept harmless. Then an
# ordinary update must still reach every subscriber exactly once through a
# real SMTP server (aiosmtpd), and the Atom feed must still parse.
#
# usage: hostile_input_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl sha256sum "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd, feedparser' || fail "python3-aiosmtpd and python3-feedparser are needed"

pick_ports
start_mail_sink
make_tokens
cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
$(e2e_checkout_org)
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example}
intake: {default_component: checkout}
delivery: {workers: 2, retry_schedule: [200ms, 400ms, 800ms, 1s]}
YAML
lead() { HERALD_TOKEN=$LEAD_TOKEN "$HERALD" "$@"; }
engineer() { HERALD_TOKEN=$ENGINEER_TOKEN "$HERALD" "$@"; }
start_heraldd

# status_of METHOD PATH [curl args...]: the HTTP status heraldd answers;
# the body goes to $WORK/body.
status_of() {
  local method=$1 path=$2; shift 2
  curl -sS -o "$WORK/body" -w '%{http_code}' -X "$method" "$PAGE$path" "$@"
}
# expect_refused WHAT FIELD METHOD PATH [curl args...]: a 4xx whose page
# names FIELD and repeats none of what was sent.
expect_refused() {
  local what=$1 field=$2; shift 2
  local code; code=$(status_of "$@")
  [[ $code == 4* ]] || fail "$what: answered $code"
  grep -qF -- "$field" "$WORK/body" || fail "$what: the answer does not name $field"
  "$SYSTEM_PYTHON" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$WORK/body" \
    || fail "$what: the answer is not UTF-8"
  ! grep -q $'\x1b' "$WORK/body" || fail "$what: the answer echoes an escape"
}
form=(-H 'Content-Type: application/x-www-form-urlencoded')

lead subscribers add acme --name "Ada Lovelace" --email ada@e2e.example --component checkout >/dev/null
lead subscribers add globex --name "Grace Hopper" --email grace@e2e.example --component checkout >/dev/null

step "forms and query strings: no credentials needed, nothing stored"
expect_refused "the issue's reproduction" "name" POST /subscribe "${form[@]}" \
  --data 'email=x%40example.org&name=%ff'
expect_refused "an overlong sequence" "email" POST /subscribe "${form[@]}" --data 'email=x%C0%AF%40example.org'
expect_refused "a lone surrogate" "name" POST /subscribe "${form[@]}" --data 'email=y%40example.org&name=%ED%A0%80'
expect_refused "a terminal escape" "name" POST /subscribe "${form[@]}" --data 'email=z%40example.org&name=%1B%5B2J'
expect_refused "a NUL" "token" GET '/unsubscribe?token=a%00b'
expect_refused "a bad link token" "token" GET '/subscribe/confirm?token=%ff'
expect_refused "a bad follow-up token" "token" POST /follow-up "${form[@]}" --data 'token=%C3%28'
expect_refused "the console's sign-in" "token" POST /console/sign-in "${form[@]}" --data 'token=%ff'
many=$(printf 'a=1&%.0s' $(seq 1 300))
expect_refused "300 fields" "fields" POST /subscribe "${form[@]}" --data "$many"
{ printf 'email='; head -c 2000000 /dev/zero | tr '\0' a; } >"$WORK/big-form"
code=$(status_of POST /subscribe "${form[@]}" --data-binary @"$WORK/big-form")
[[ $code == 413 ]] || fail "a 2 MB form answered $code, not 413"
lead subscribers list --all -o json >"$WORK/subs.json"
"$SYSTEM_PYTHON" -c '
import json, sys
subs = json.load(open(sys.argv[1])).get("subscribers", [])
assert sorted(s["id"] for s in subs) == ["acme", "globex"], [s["id"] for s in subs]' "$WORK/subs.json" \
  || fail "a refused form stored a subscriber"

step "the webhook: text that is not UTF-8 is a 400; control characters are harmless"
hook() {
  curl -sS -o "$WORK/body" -w '%{http_code}' -XPOST -H "Authorization: Bearer $WEBHOOK_TOKEN" \
    -H 'Content-Type: application/json' "$PAGE/webhooks/alertmanager" --data-binary @-
}
payload() {  # payload GROUP SUMMARY_JSON_TEXT
  printf '{"version":"4","groupKey":"%s","status":"firing","receiver":"herald","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"Errors","service":"checkout"},"annotations":{"summary":"%s"},"startsAt":"2026-11-29T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"fp-%s"}]}' "$1" "$2" "$1"
}
[[ $(payload bad1 $'raw \xff byte' | hook) == 400 ]] || fail "raw invalid UTF-8 was accepted"
[[ $(payload bad2 'lone \udc00 surrogate' | hook) == 400 ]] || fail "a lone surrogate was accepted"
[[ $(payload ok1 'disk \u001b[31mfull\u0007 \ufffe \u0000 nul' | hook) == 200 ]] || fail "control characters were refused"

step "the CLI refuses before sending, and prints no escapes"
set +e
lead subscribers add initech --account $'ini\xfftech' --email i@e2e.example --component checkout \
  >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "herald exited $rc on an invalid --account"
grep -q -- "--account: not valid UTF-8" "$WORK/err" || fail "the CLI did not name --account: $(cat "$WORK/err")"
printf 'id,name,email,components\nx,X\xffY,x@e2e.example,checkout\n' >"$WORK/import.csv"
set +e
lead subscribers import "$WORK/import.csv" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[[ $rc != 0 ]] || fail "an import with invalid UTF-8 succeeded"
grep -q "import.csv:2: name: not valid UTF-8" "$WORK/err" || fail "the import error: $(cat "$WORK/err")"
engineer show INC-1 >"$WORK/show.txt"
! grep -q $'\x1b' "$WORK/show.txt" || fail "herald show printed an escape from alert text"
! grep -q $'\x07' "$WORK/show.txt" || fail "herald show printed a bell from alert text"

step "an ordinary update still reaches every subscriber exactly once"
engineer update INC-1 "rolled back the deploy" --status identified >/dev/null
MSG=$(lead messages -o json | "$SYSTEM_PYTHON" -c '
import json, sys
ms = [m for m in json.load(sys.stdin).get("messages", []) if m.get("state") == "MESSAGE_STATE_PENDING_APPROVAL" or m.get("state") == "MESSAGE_STATE_DRAFT"]
print(ms[-1]["ref"])')
echo "We rolled back a faulty deploy; checkout works again for most customers." >"$WORK/body.txt"
lead messages edit "$MSG" --title "Checkout errors" --body-file "$WORK/body.txt" >/dev/null
lead approve --as-written "$MSG" >/dev/null
wait_for 60 "$MSG delivered" all_delivered "$MSG" 2
for address in ada@e2e.example grace@e2e.example; do
  n=$("$SYSTEM_PYTHON" - "$MAIL" "$address" <<'PY'
import email, email.policy, pathlib, sys
n = 0
for p in pathlib.Path(sys.argv[1], "new").glob("*"):
    m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
    if sys.argv[2] in [a.addr_spec for a in m["To"].addresses] and "Checkout errors" in str(m["Subject"]):
        n += 1
print(n)
PY
)
  [[ $n == 1 ]] || fail "$address got the update $n times"
done

step "the Atom feed still parses"
curl -fsS "$PAGE/history.atom" >"$WORK/history.atom"
"$SYSTEM_PYTHON" -c '
import feedparser, sys
f = feedparser.parse(sys.argv[1])
assert not f.bozo, f.bozo_exception
assert any("Checkout errors" in e.title for e in f.entries), [e.title for e in f.entries]' "$WORK/history.atom" \
  || fail "the Atom feed is broken"
echo "PASS"
