#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded time, after replaying every
# saved regression input. Seeds come from the bundled example (a real savepoint, the job spec, the data).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20; longer runs: e.g. 3600)
# A crash leaves its input in build-fuzz/crashes/<target>/; copy it to fuzz/regressions/<target>/ with
# the fix, so it is replayed forever after.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-20}"
BUILD=build-fuzz

if ! command -v clang++ >/dev/null 2>&1 || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
if [[ ! -f "$BUILD/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSFB_FUZZ=ON \
    -DSFB_WERROR=OFF >/dev/null
fi
cmake --build "$BUILD" --target savepoint_reader_fuzzer job_spec_fuzzer record_parser_fuzzer -- -j"$(nproc)"

# Seed corpora from the bundled example.
SEEDS="$BUILD/seeds"
rm -rf "$SEEDS" && mkdir -p "$SEEDS"/{savepoint_reader,job_spec,record_parser}
cp examples/greeter/job.yaml "$SEEDS/job_spec/"
cp examples/greeter/data/* "$SEEDS/record_parser/"
CLI="${SFB_BUILD_DIR:-build}/statefun-bootstrap"
if [[ -x "$CLI" ]]; then
  "$CLI" run examples/greeter/job.yaml --output "$SEEDS/sp" --parallelism 1 --quiet >/dev/null
  python3 - "$SEEDS" <<'PY'
import pathlib, struct, sys
seeds = pathlib.Path(sys.argv[1])
meta = (seeds / "sp" / "_metadata").read_bytes()
state = (seeds / "sp" / "keyed-state-functions-0").read_bytes()
(seeds / "savepoint_reader" / "greeter").write_bytes(struct.pack(">H", len(meta)) + meta + state)
PY
  rm -rf "$SEEDS/sp"
fi
# A base real Flink wrote with snapshot compression on: snappy-framed key groups (savepoint/snappy_framed.h).
python3 - "$SEEDS" savepoint/testdata/flink116-rocksdb-compressed <<'PY'
import pathlib, struct, sys
seeds, base = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
meta = (base / "_metadata").read_bytes()
keyed = [p.read_bytes() for p in sorted(base.iterdir()) if p.read_bytes()[:5] == b"\0\0\0\x06\x01"]
(seeds / "savepoint_reader" / "compressed-base").write_bytes(struct.pack(">H", len(meta)) + meta + keyed[0])
PY

status=0
for target in savepoint_reader job_spec record_parser; do
  bin="$BUILD/fuzz/${target}_fuzzer"
  corpus="$BUILD/corpus/$target"
  crashes="$BUILD/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  if compgen -G "fuzz/regressions/$target/*" >/dev/null; then
    echo "==> $target: replaying regressions"
    "$bin" fuzz/regressions/$target/* >/dev/null 2>&1 || { echo "regression input crashes $target"; status=1; }
  fi
  echo "==> $target: fuzzing for ${SECONDS_PER_TARGET}s"
  if ! "$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
      -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "$SEEDS/$target" > "$BUILD/$target.log" 2>&1; then
    echo "FAILED: $target found a crash; see $BUILD/$target.log and $crashes/"
    tail -40 "$BUILD/$target.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD/$target.log" | tr '\n' ' '; echo
  fi
done
exit $status
