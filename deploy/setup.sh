#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages only), builds reelfarm, and then
#   run   the main job on the embedded default: renders the sample
#         screenplay (examples/sample.fountain) to a film in ./reelfarm-out,
#         with the embedded PostgreSQL and Redis, a coordinator and 2 local
#         render nodes, all stopped again at the end
#   test  runs the whole test suite, then again under AddressSanitizer and
#         UndefinedBehaviorSanitizer (skip with REELFARM_SANITIZERS=0)
#   deps  only installs the packages
#   build only installs and builds
# Safe to run again: installed packages are skipped, builds are incremental.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="${REELFARM_JOBS:-2}"   # the reference machine has 2 cores; each CAF/Beast unit needs ~1.3 GB
# ccache keys on paths relative to the checkout, so a fresh clone of the same
# code reuses earlier compilations.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

packages=(
  # toolchain
  build-essential cmake pkg-config ccache
  # libraries named in the design card
  libcaf-dev libzmq3-dev cppzmq-dev libpqxx-dev libpq-dev libhiredis-dev nlohmann-json3-dev
  libcurl4-openssl-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev prometheus-cpp-dev libyaml-cpp-dev libsodium-dev libssl-dev libboost-dev
  # servers the embedded default starts, and media tools
  postgresql redis-server ffmpeg
  # the animatic renderer: a real font and a speech engine
  fonts-dejavu-core espeak-ng libfreetype-dev
  # tests and benchmarks
  catch2 libbenchmark-dev clang wrk
  # promtool and a real Prometheus for the observability tests (tests/dashboards)
  prometheus
  # the web console's browser tests (tests/web): playwright-core drives
  # Debian's headless Chromium (Node.js and npm: see below)
  chromium
  # the local Salesforce server the CRM tests start (standard library only)
  python3
  # the deploy/ checks (YAML) and the multi-host test (ip netns, veth, bridge)
  python3-yaml iproute2
)
# kubectl for the manifest checks (kustomize, client-side dry run): Debian's
# kubernetes-client, unless a kubectl is already installed (another package
# providing /usr/bin/kubectl would conflict with it).
if ! command -v kubectl >/dev/null; then
  packages+=(kubernetes-client)
fi
# Node.js and npm run playwright-core: Debian's, unless a Node.js with its npm
# is installed already (NodeSource's nodejs bundles npm and conflicts with
# Debian's npm package).
if ! command -v node >/dev/null; then
  packages+=(nodejs)
fi
if ! command -v npm >/dev/null; then
  packages+=(npm)
fi

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#packages[@]} packages are installed"
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake args...]
  local dir="$1"; shift
  log "building in $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

run_tests() {  # run_tests DIR
  log "testing in $1"
  ctest --test-dir "$1" --output-on-failure -j "$jobs" --timeout 900
}

case "${1:-}" in
  deps)
    install_packages
    tests/web/install.sh ;;
  build)
    install_packages
    build build ;;
  run)
    install_packages
    build build
    log "rendering examples/sample.fountain"
    ./build/apps/reelfarm/reelfarm render examples/sample.fountain --out reelfarm-out --nodes 2 ;;
  test)
    install_packages
    tests/web/install.sh
    build build
    run_tests build
    # CI has 90 minutes in all: the sanitizer pass (a second full build) runs
    # only when the first pass left it enough time.
    if [ "${CI:-}" = true ] && [ "$SECONDS" -gt 2400 ]; then
      log "skipping the sanitizer pass: the first pass took ${SECONDS}s of CI's 5400s"
    elif [ "${REELFARM_SANITIZERS:-1}" != 0 ]; then
      build build-asan -DREELFARM_SANITIZE=ON -DREELFARM_BUILD_BENCH=OFF
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0" \
        run_tests build-asan
    fi ;;
  *)
    echo "usage: deploy/setup.sh run|test|deps|build" >&2
    exit 2 ;;
esac
