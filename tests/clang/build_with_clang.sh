#!/usr/bin/env bash
# The clang build beside the main (gcc) build. It serves two checks:
# -Wthread-safety over every library (lock annotations such as
# ABSL_GUARDED_BY are enforced, as errors), and the libFuzzer targets.
# Exit 77 (ctest: skipped) when clang or its libFuzzer runtime is missing.
#
# usage: build_with_clang.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$1 BUILD=$2

if ! command -v clang++ >/dev/null; then
  echo "clang++ is not installed: clang checks skipped"
  exit 77
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "clang's libFuzzer runtime (libclang-rt-dev) is missing: clang checks skipped"
  exit 77
fi
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS=-Wthread-safety -Werror=thread-safety-analysis" >/dev/null
cmake --build "$BUILD" --target \
  herald_core herald_store herald_delivery herald_runtime herald_http herald_api \
  herald_statuspage herald_config herald_webhooks herald_cli alertmanager_parser_fuzz
echo "clang build with -Wthread-safety: clean"
