#!/usr/bin/env bash
# deploy/systemd/heraldd.service passes `systemd-analyze verify` without a
# single complaint (it only warns about unknown or malformed settings, so
# any output fails), with ExecStart pointed at the built heraldd. Skipped
# (77) where systemd-analyze is not installed.
#
# usage: systemd_unit_test.sh HERALDD UNIT
set -euo pipefail
HERALDD=$(realpath "$1")
UNIT=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
sed "s|/usr/local/bin/heraldd|$HERALDD|" "$UNIT" >"$WORK/heraldd.service"
if ! out=$(systemd-analyze verify "$WORK/heraldd.service" 2>&1) || [[ -n $out ]]; then
  echo "FAIL: systemd-analyze verify complains:"; echo "$out"; exit 1
fi
echo PASS
