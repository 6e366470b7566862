#!/usr/bin/env bash
# herald's quick start on Debian 12: installs what is missing (apt-get),
# builds with CMake and Ninja, then runs heraldd or the whole test suite.
#
#   deploy/quickstart.sh run [heraldd flags...]   build, then run heraldd (demo organisation)
#   deploy/quickstart.sh test                     build, then run every test (ctest)
#   deploy/quickstart.sh build                    install and build only
#   deploy/quickstart.sh deps                     install the build dependencies only
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${HERALD_BUILD_DIR:-build}

# Build dependencies, all from Debian 12.
PACKAGES=(
  g++ cmake ninja-build pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libre2-dev libssl-dev zlib1g-dev
  prometheus-cpp-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libcpp-httplib-dev libboost-dev
  libicu-dev
  libsimdjson-dev libgoogle-perftools-dev libdtl-dev
  libmstch-dev libyaml-cpp-dev libcli11-dev libfccp-dev
  libgtest-dev libgmock-dev
  tzdata ca-certificates curl
)
# What only the tests use: the real Alertmanager, Prometheus's promtool, an
# SMTP server, a feed parser, a browser, a web server (for the static
# mirror), PostgreSQL (the tests start their own clusters), a load
# generator, and clang (with LLVM's linker) for the sanitizer and
# thread-safety builds. `run` does not install them. Node.js and npm (for Playwright,
# which drives the browser, and for the Statuspage client test) are
# installed from Debian only when the machine has no `node` or `npm` at all.
TEST_PACKAGES=(
  clang libclang-rt-14-dev lld
  prometheus-alertmanager prometheus python3 python3-aiosmtpd python3-feedparser wrk
  chromium openssl python3-yaml nginx-light postgresql-15
)

# install_missing PACKAGE...: apt-get installs those not installed yet.
install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "quickstart: installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# browser_test_deps: Node.js and npm when missing, then the npm packages of
# the browser tests and of the Statuspage client test, exactly as
# tests/browser/package-lock.json and tests/statuspage_client/package-lock.json
# pin them.
browser_test_deps() {
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [[ ${#missing[@]} -eq 0 ]] || install_missing "${missing[@]}"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  npm ci --prefix tests/statuspage_client --no-audit --no-fund --loglevel=error
}

# build [CMAKE_ARGS...]: unity translation units (the clang build in CI
# took 394 s with them, 646-813 s without); configure a build of your own
# without them for quick incremental rebuilds. Debug info is line tables
# only (-g1): stack traces keep file and line, and compiling takes 30% less
# (herald_http's unit: 66 s to 46 s).
build() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
    -DCMAKE_UNITY_BUILD=ON "$@" >/dev/null
  cmake --build "$BUILD_DIR"
}

cmd=${1:-run}
[[ $# -gt 0 ]] && shift
case "$cmd" in
  run)
    install_missing "${PACKAGES[@]}"
    build
    echo "quickstart: starting heraldd (Ctrl-C stops it); demo tokens: source .herald-data/demo-tokens.env"
    exec "$BUILD_DIR/server/heraldd" "$@"
    ;;
  test)
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    browser_test_deps
    # The suite is built and run once, under the sanitizers, by the clang
    # build that ctest starts (tests/CMakeLists.txt, HERALD_SUITE); this
    # build makes heraldd, herald and the benchmarks.
    build -DHERALD_SUITE=OFF
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
    ;;
  build)
    install_missing "${PACKAGES[@]}"
    build
    ;;
  deps)
    install_missing "${PACKAGES[@]}"
    ;;
  *)
    echo "usage: deploy/quickstart.sh run|test|build|deps" >&2
    exit 2
    ;;
esac
