#!/usr/bin/env bash
# Backup and restore (issue 7 §7), as an operator does them: `herald admin
# backup FILE` while heraldd keeps taking webhooks, then stop heraldd, wipe
# its data directory, put the copy in place of herald.db, start it again:
# everything from before the backup is there, and the copy passes SQLite's
# integrity check. The data directory, the database and the copy are the
# owner's alone (0700, 0600), a restored deployment's loose modes included
# (issue 18 §5).
#
# usage: backup_test.sh HERALDD HERALD
set -euo pipefail

HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
source "$(dirname "$0")/lib.sh"
require curl sha256sum "$SYSTEM_PYTHON"

GRPC_PORT=$(free_port); HTTP_PORT=$(free_port)
export HERALD_SERVER=127.0.0.1:$GRPC_PORT
make_tokens
cat >"$WORK/herald.yaml" <<YAML
server: {page_name: E2E Cloud, data_dir: $WORK/data, webhook_token_file: $WORK/webhook-token}
$(e2e_checkout_org carol dave)
smtp: {url: 'smtp://127.0.0.1:9', from: status@acme.example}
intake: {default_component: checkout, separate_incidents_per_group: true}
YAML
lead() { HERALD_TOKEN=$LEAD_TOKEN "$HERALD" "$@"; }
start_heraldd

step "state to keep: a published incident and a subscriber"
fire checkout
wait_for 20 "first draft" bash -c "HERALD_TOKEN=$LEAD_TOKEN '$HERALD' messages | grep -q MSG-1"
lead approve --as-written MSG-1 >/dev/null
lead subscribers add kept --email kept@e2e.example --name "Kept Customer" --component checkout >/dev/null
lead show INC-1 -o json >"$WORK/incident-before.json"

step "back up while webhooks keep arriving"
(for i in $(seq 1 200); do fire "load-$i" || true; done) &
LOAD=$!
PIDS+=($LOAD)
if HERALD_TOKEN=$LEAD_TOKEN "$HERALD" admin backup "$WORK/refused.db" 2>/dev/null; then
  fail "a comms lead took a backup"
fi
grep -q "Backed up" <<<"$(HERALD_TOKEN=$ADMIN_TOKEN "$HERALD" admin backup "$WORK/backup.db")" \
  || fail "the backup failed"
wait "$LOAD" || true
[[ $(stat -c %a "$WORK/backup.db") == 600 ]] \
  || fail "the backup is mode $(stat -c %a "$WORK/backup.db"), not 600"
[[ $(stat -c %a "$WORK/data") == 700 ]] || fail "the data directory is not 700"
for f in herald.db herald.db-wal herald.db-shm; do
  [[ $(stat -c %a "$WORK/data/$f") == 600 ]] || fail "$f is not 600"
done
"$SYSTEM_PYTHON" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"' "$WORK/backup.db" \
  || fail "the backup fails the integrity check"

step "stop, wipe, restore, start"
kill -TERM "$HERALDD_PID"
wait "$HERALDD_PID" || fail "heraldd did not exit cleanly on SIGTERM"
rm -rf "$WORK/data"
mkdir -p "$WORK/data"
cp "$WORK/backup.db" "$WORK/data/herald.db"
chmod 0755 "$WORK/data"; chmod 0644 "$WORK/data/herald.db"  # as an older heraldd left them
start_heraldd
[[ $(stat -c %a "$WORK/data") == 700 && $(stat -c %a "$WORK/data/herald.db") == 600 ]] \
  || fail "start did not tighten the data directory and database to 700 and 600"

step "everything from before the backup is there"
lead show INC-1 -o json >"$WORK/incident-after.json"
"$SYSTEM_PYTHON" - "$WORK/incident-before.json" "$WORK/incident-after.json" <<'PY' || fail "INC-1 changed"
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
assert before["incident"] == after["incident"], (before["incident"], after["incident"])
assert [m["state"] for m in before["messages"]] == [m["state"] for m in after["messages"]]
PY
lead subscribers list | grep -q "kept@e2e.example" || fail "the subscriber is gone"
grep -q '"INC-1"' <<<"$(curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v2/summary.json")" \
  || fail "the published incident is not on the status page"
echo PASS
