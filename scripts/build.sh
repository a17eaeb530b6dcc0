#!/usr/bin/env bash
# Configures and builds statefun-bootstrap into build/ (or $SFB_BUILD_DIR).
#   scripts/build.sh [extra cmake arguments]
# SFB_BUILD_TYPE (default RelWithDebInfo) and SFB_WERROR (default OFF; scripts/test.sh turns it ON, so
# warnings fail CI but never a user's build) choose the configuration of a new build directory;
# SFB_BUILD_TARGET builds one target instead of all (scripts/test.sh's TSan stage needs only the CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${SFB_BUILD_DIR:-build}"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${SFB_BUILD_TYPE:-RelWithDebInfo}" \
    -DSFB_WERROR="${SFB_WERROR:-OFF}" "$@" >/dev/null
fi
cmake --build "$BUILD_DIR" ${SFB_BUILD_TARGET:+--target "$SFB_BUILD_TARGET"} -- -j"$(nproc)"
