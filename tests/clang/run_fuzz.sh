#!/usr/bin/env bash
# Runs one libFuzzer target from the clang build for a bounded time, seeded
# with its corpus (tests/fuzz/seeds/NAME, or the captured Alertmanager
# payloads, or the embedded default config). Exit 77 (ctest: skipped) when
# the clang build was skipped.
#
# usage: run_fuzz.sh SOURCE_DIR BUILD_DIR TARGET SECONDS
set -euo pipefail
SRC=$1 BUILD=$2 TARGET=$3 SECONDS_TO_RUN=$4
FUZZER="$BUILD/tests/fuzz/${TARGET}_fuzz"
if [[ ! -x $FUZZER ]]; then
  echo "no clang build with the fuzz target $TARGET: fuzzing skipped"
  exit 77
fi
corpus="$BUILD/corpus/$TARGET"
mkdir -p "$corpus"
case "$TARGET" in
  alertmanager_parser)
    for f in "$SRC"/tests/testdata/alertmanager/*.json; do
      # The first byte selects the Content-Type (0: application/json).
      { printf '\0'; cat "$f"; } >"$corpus/$(basename "$f")"
    done
    ;;
  config_loader)
    cp "$SRC/server/config/default_config.yaml" "$corpus/"
    ;;
  *)
    cp "$SRC/tests/fuzz/seeds/$TARGET"/* "$corpus/"
    ;;
esac
# A fixed seed keeps what CI explores reproducible; run by hand without it
# (and with -runs=N instead of the time) to explore more. A crash, leak or
# timeout exits 1: libFuzzer's own 77 would read as "skipped" to ctest.
"$FUZZER" -seed=1 -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=5 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$BUILD/corpus/$TARGET-" \
  -print_final_stats=1 "$corpus"
