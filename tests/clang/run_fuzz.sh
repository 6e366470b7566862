#!/usr/bin/env bash
# Runs the libFuzzer target from the clang build for a bounded time, seeded
# with the captured Alertmanager payloads. Exit 77 (ctest: skipped) when the
# clang build was skipped.
#
# usage: run_fuzz.sh SOURCE_DIR BUILD_DIR SECONDS
set -euo pipefail
SRC=$1 BUILD=$2 SECONDS_TO_RUN=$3
FUZZER="$BUILD/tests/fuzz/alertmanager_parser_fuzz"
if [[ ! -x $FUZZER ]]; then
  echo "no clang build with the fuzz target: fuzzing skipped"
  exit 77
fi
corpus="$BUILD/corpus/alertmanager"
mkdir -p "$corpus"
for f in "$SRC"/tests/testdata/alertmanager/*.json; do
  # The first byte selects the Content-Type (0: application/json).
  { printf '\0'; cat "$f"; } >"$corpus/$(basename "$f")"
done
# A fixed seed keeps what CI explores reproducible; run by hand without it to explore more.
"$FUZZER" -seed=1 -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=5 \
  -print_final_stats=1 "$corpus"
