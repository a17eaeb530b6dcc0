#!/usr/bin/env bash
# Configures and builds statefun-bootstrap into build/ (or $SFB_BUILD_DIR), warnings as errors.
#   scripts/build.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${SFB_BUILD_DIR:-build}"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${SFB_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
fi
cmake --build "$BUILD_DIR" -- -j"$(nproc)"
