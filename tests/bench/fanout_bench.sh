#!/usr/bin/env bash
# Fan-out benchmark (issue 5): enqueue against a raw batched SQLite insert,
# then delivery to a local HTTP sink and to a local SMTP sink (aiosmtpd
# discarding what it receives). Figures are printed; the run fails only when
# a delivery is lost or doubled.
#
# usage: fanout_bench.sh FANOUT_BENCH N
set -euo pipefail
BENCH=$(realpath "$1")
N=${2:-100000}
source "$(dirname "$0")/../e2e/lib.sh"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"
SMTP_PORT=$(free_port)
"$SYSTEM_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink \
  >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)
wait_for 20 "the SMTP sink" "$SYSTEM_PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT))"
"$BENCH" "$N" --smtp "$SMTP_PORT"
