#!/usr/bin/env bash
# Runs every test: installs what is missing, builds (warnings are errors here, not in a user's build), then
#   1. C++ unit tests (ctest) in the Release build users, the .deb and the Dockerfile make (build-release/,
#      which every later stage and the integration tests use too: one build, not a second configuration);
#   2. hardening: unit and CLI tests under ASan+UBSan, the multithreaded writer under TSan, a bounded
#      fuzzing run of every libFuzzer target, the real-Flink harness's self-test, a 100k-row benchmark
#      smoke run (set SFB_QUICK=1 to skip this stage while iterating);
#   3. the integration tests (pytest, tests/integration): CLI, examples, PostgreSQL and Kafka against
#      real servers the tests start, and real Flink 1.16.2 + statefun 3.3.0 reading and restoring our
#      savepoints; and what users build, built for real: the bootstrap and demo-function images (rootful
#      podman), the .deb installed into a bookworm-slim container, the installed C++ API used from outside.
# .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CTEST_OUTPUT_ON_FAILURE=1
export SFB_WERROR=ON
# Every stage line carries the time, so a CI log shows where its minutes went.
stage() { echo "==> $(date -u +%H:%M:%S) $*"; }

stage "installing dependencies"
./scripts/install-deps.sh
stage "Release build and unit tests"
# The stages below (fuzz seeds, bench smoke, integration tests) take their binaries from $SFB_BUILD_DIR; the
# sanitizer stages name their own directories.
export SFB_BUILD_DIR=build-release
SFB_BUILD_TYPE=Release ./scripts/build.sh
(cd build-release && ctest -j"$(nproc)")

if [[ "${SFB_QUICK:-0}" != 1 ]]; then
  stage "ASan+UBSan: unit tests and CLI tests"
  SFB_BUILD_DIR=build-asan ./scripts/build.sh -DSFB_SANITIZE=address
  # No allocator_may_return_null: Avro lengths are checked against the bytes left before libavro reads
  # them (formats/avro_binary.h), so a corrupt datum never asks the allocator for ~2^64 bytes.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp"
  (cd build-asan && ctest -j"$(nproc)")
  SFB_BUILD_DIR=build-asan python3 -m pytest -q -p no:cacheprovider \
    tests/integration/test_cli.py tests/integration/test_cli_errors.py tests/integration/test_reliability.py \
    tests/integration/test_dead_letter.py -k "not sigkill"

  stage "TSan: the multithreaded reader/writer"
  # Only the CLI: the stage runs no unit test under TSan, and building the test binary too would double it.
  SFB_BUILD_DIR=build-tsan SFB_BUILD_TARGET=statefun-bootstrap ./scripts/build.sh -DSFB_SANITIZE=thread
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$(pwd)/scripts/tsan.supp"
  # Not a librdkafka client under TSan: librdkafka starts its threads with C11 thrd_create, which glibc
  # 2.34+ implements without the pthread_create symbol GCC 12's TSan intercepts, so those threads have no
  # TSan state and the first malloc in one crashes (SIGSEGV in the sanitizer's allocator, seen in
  # rdk:broker's getaddrinfo). So the Kafka paths are checked by the ASan stage above, not by TSan.
  SFB_BUILD_DIR=build-tsan python3 -m pytest -q -p no:cacheprovider tests/integration/test_cli.py \
    tests/integration/test_dead_letter.py -k "(byte_identical or interrupt or every_bad_record or budget) and not kafka"
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS

  stage "fuzzing (bounded; longer runs: scripts/fuzz.sh 3600)"
  ./scripts/fuzz.sh "${SFB_FUZZ_SECONDS:-20}"

  stage "real-Flink harness self-test"
  bash tests/flink-harness/selftest/run.sh

  stage "benchmark smoke run (100k rows; not a timed test)"
  python3 bench/run.py --rows 100000 --threads 1,2 --smoke
fi

stage "integration tests (CLI, examples, connectors, real Flink 1.16.2 + statefun 3.3.0)"
python3 -m pytest -q --durations=15 tests/integration "$@"
stage "all tests passed"
