#!/usr/bin/env bash
# Builds the fuzz targets with clang in their own build directory and runs
# each for a bounded time, seeded with the captured Alertmanager payloads.
# Exit 77 (ctest: skipped) when clang or its libFuzzer runtime is missing.
#
# usage: run_fuzz.sh SOURCE_DIR BUILD_DIR SECONDS
set -euo pipefail
SRC=$1 BUILD=$2 SECONDS_TO_RUN=$3

if ! command -v clang++ >/dev/null; then
  echo "clang++ is not installed: fuzzing skipped"
  exit 77
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "clang's libFuzzer runtime (libclang-rt-dev) is missing: fuzzing skipped"
  exit 77
fi

cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target alertmanager_parser_fuzz

corpus="$BUILD/corpus/alertmanager"
mkdir -p "$corpus"
for f in "$SRC"/tests/testdata/alertmanager/*.json; do
  # The first byte selects the Content-Type (0: application/json).
  { printf '\0'; cat "$f"; } >"$corpus/$(basename "$f")"
done
"$BUILD/tests/fuzz/alertmanager_parser_fuzz" -max_total_time="$SECONDS_TO_RUN" \
  -max_len=65536 -timeout=5 -print_final_stats=1 "$corpus"
