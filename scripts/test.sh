#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the C++ unit tests (ctest), then the
# integration tests (pytest, tests/integration), which include the real-Flink checks through the
# Java harness in tests/flink-harness. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> installing dependencies"
./scripts/install-deps.sh
echo "==> building"
./scripts/build.sh
echo "==> unit tests"
(cd build && ctest --output-on-failure -j"$(nproc)")
echo "==> integration tests (CLI, examples, real Flink 1.16.2 + statefun 3.3.0)"
python3 -m pytest -q tests/integration "$@"
