#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root, or with sudo available):
#   ./run.sh train   install what is missing, build in Release, train the Example-3 model
#   ./run.sh test    install what is missing, build, run the whole test suite
#   ./run.sh build   install what is missing and build only
# Environment: BUILD_DIR (default build), JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc)}"

# Debian packages the build and the tests need; only the missing ones are installed.
PACKAGES=(g++ cmake make pkg-config libopenblas-dev nlohmann-json3-dev doctest-dev libcli11-dev
  doxygen)
# The packaging test builds a .deb: CPack's dependency scan needs dpkg-shlibdeps and file.
TEST_PACKAGES=(dpkg-dev file)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
  local missing=()
  local wanted=("${PACKAGES[@]}")
  if [ "${1:-}" = test ]; then wanted+=("${TEST_PACKAGES[@]}"); fi
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js and npm run the TensorFlow.js compatibility tests; any install that provides the
  # commands will do (Debian's packages when neither is there).
  if [ "${1:-}" = test ]; then
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[run.sh] installing: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
}

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

case "${1:-}" in
  train)
    install_missing train
    build
    "$BUILD_DIR/apps/normlab" train
    ;;
  test)
    install_missing test
    build
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
    ;;
  build)
    install_missing build
    build
    ;;
  *)
    echo "usage: ./run.sh train | test | build" >&2
    exit 64
    ;;
esac
