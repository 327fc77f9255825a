#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root, or with sudo available):
#   ./run.sh train   install what is missing, build in Release, train the Example-3 model
#   ./run.sh test    install what is missing, build, run the whole test suite
#   ./run.sh build   install what is missing and build only
#   ./run.sh check   deeper checks: the test suite under ASan + UBSan (build-asan/), the thread
#                    team under ThreadSanitizer (build-tsan/), each libFuzzer harness for
#                    FUZZ_SECONDS (default 60) on its seed corpus (build-fuzz/), and a training
#                    run under valgrind memcheck (BUILD_DIR's normlab)
#   ./run.sh fuzz [SECONDS]   build the fuzz harnesses and run each for SECONDS (default 60)
# Environment: BUILD_DIR (default build), JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc)}"

# Debian packages the build and the tests need; only the missing ones are installed. libdnnl-dev
# adds oneDNN's GEMM beside OpenBLAS' (core/gemm_backend.h).
PACKAGES=(g++ cmake make pkg-config libopenblas-dev libdnnl-dev nlohmann-json3-dev doctest-dev
  libcli11-dev doxygen libopenmpi-dev openmpi-bin)
# The packaging test builds a .deb: CPack's dependency scan needs dpkg-shlibdeps and file; the
# figures test (docs/figures/make.sh --quick) plots with gnuplot.
TEST_PACKAGES=(dpkg-dev file gnuplot-nox)
# The deeper checks: clang and its libFuzzer runtime for the fuzz harnesses, valgrind.
CHECK_PACKAGES=(clang-14 libclang-rt-14-dev valgrind)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
  local missing=()
  local wanted=("${PACKAGES[@]}")
  case "${1:-}" in
    test) wanted+=("${TEST_PACKAGES[@]}") ;;
    check) wanted+=("${TEST_PACKAGES[@]}" "${CHECK_PACKAGES[@]}") ;;
    fuzz) wanted+=("${CHECK_PACKAGES[@]}") ;;
  esac
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js and npm run the TensorFlow.js compatibility tests; any install that provides the
  # commands will do (Debian's packages when neither is there).
  if [ "${1:-}" = test ] || [ "${1:-}" = check ]; then
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

# The whole test suite built with ASan and UBSan (gcc) into build-asan/.
sanitized_tests() {
  # -O1 -g1 (line tables only): ASan's recommended optimization, and a build half as long as
  # with full debug information, which a report does not need.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DNORMLAB_SANITIZE=ON -DNORMLAB_BUILD_BENCH=OFF
  cmake --build build-asan -j "$JOBS"
  echo "[run.sh] packaging.consumer is disabled under ASan: its plain consumer programs cannot" \
    "link a sanitized libnormlab"
  ctest --test-dir build-asan --output-on-failure -j "$JOBS"
}

# The thread team (core/parallel.h) under ThreadSanitizer: tests/tsan/team_stress.cpp with the two
# files it uses, built with clang into build-tsan/ (seconds, where a sanitized library would take
# half an hour here). ThreadSanitizer exits non-zero when it sees a data race.
team_under_tsan() {
  mkdir -p build-tsan
  # shellcheck disable=SC2046  # pkg-config's flags are words
  clang++-14 -std=c++20 -O1 -g -fsanitize=thread -I. tests/tsan/team_stress.cpp \
    core/parallel.cpp core/blas.cpp core/gemm_backend.cpp core/gemm_probe.cpp core/rng.cpp \
    core/openblas_fallback.cpp core/cpu_isa.cpp \
    -o build-tsan/team_stress $(pkg-config --cflags --libs openblas)
  build-tsan/team_stress
}

# The libFuzzer harnesses (tests/fuzz/), built with clang, ASan and UBSan into build-fuzz/.
build_fuzz() {
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DNORMLAB_FUZZ=ON -DNORMLAB_BUILD_TESTS=OFF -DNORMLAB_BUILD_APPS=OFF -DNORMLAB_BUILD_BENCH=OFF
  cmake --build build-fuzz -j "$JOBS" --target fuzz_config fuzz_model_file fuzz_csv
}

# Runs each harness for $1 seconds on a copy of its seed corpus in the scratch dir $2 (the
# repository is never written); a crash leaves its input in build-fuzz/artifacts/ and fails. The
# JSON harnesses get a dictionary of the formats' keys. libFuzzer's progress lines and its
# recommended dictionary are left out, its final stats kept.
run_fuzzers() {
  local seconds="$1" scratch="$2" dict
  mkdir -p build-fuzz/artifacts
  for name in config model_file csv; do
    cp -r "tests/fuzz/corpus/$name" "$scratch/$name"
    dict=()
    if [ "$name" != csv ]; then dict=(-dict=tests/fuzz/json.dict); fi
    echo "[run.sh] fuzz_$name for ${seconds}s"
    # rss_limit_mb: configs and models may ask for up to 1 GiB of floats by design.
    "build-fuzz/tests/fuzz/fuzz_$name" "$scratch/$name" -max_total_time="$seconds" "${dict[@]}" \
      -rss_limit_mb=4096 -timeout=60 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$name-" 2>&1 |
      grep -Ev '^(#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)|[[:space:]]+NEW_FUNC|"|######)'
  done
}

# Leaks and invalid accesses in a whole training run under valgrind memcheck, with the plain
# build's normlab (valgrind does not run ASan binaries); the model goes to the scratch dir $1.
# The OpenBLAS backend: oneDNN's JIT kernels read past the ends of their own packed buffers by
# design, which memcheck reports as invalid reads in code that is not normlab's.
valgrind_train() {
  echo "[run.sh] valgrind memcheck: normlab train configs/example_basic.json --epochs 2"
  NORMLAB_BLAS=openblas OPENBLAS_NUM_THREADS=1 valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    "$BUILD_DIR/apps/normlab" train configs/example_basic.json --epochs 2 --out "$1/model" \
    >/dev/null
}

# A scratch directory for the fuzz corpora and the valgrind run, removed on exit.
SCRATCH=""
trap '[ -z "$SCRATCH" ] || rm -rf "$SCRATCH"' EXIT
make_scratch() { SCRATCH="$(mktemp -d)"; }

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
  check)
    install_missing check
    build
    sanitized_tests
    team_under_tsan
    build_fuzz
    make_scratch
    run_fuzzers "${FUZZ_SECONDS:-60}" "$SCRATCH"
    valgrind_train "$SCRATCH"
    ;;
  fuzz)
    install_missing fuzz
    build_fuzz
    make_scratch
    run_fuzzers "${2:-60}" "$SCRATCH"
    ;;
  *)
    echo "usage: ./run.sh train | test | build | check | fuzz [SECONDS]" >&2
    exit 64
    ;;
esac
