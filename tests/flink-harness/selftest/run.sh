#!/usr/bin/env bash
# Self-test of the Flink judge harness (tests/flink-harness). Exits non-zero on any mismatch.
#  (1) `harness.sh write`: StateFun's own savepoint creator writes a savepoint from
#      cases/roundtrip.records.jsonl (all six embedded types; ids "Zoë", "中文", "😀", "").
#      inspect_savepoint.py checks its bytes against docs/flink-savepoint-format.md and
#      compare_entries.py checks the decoded entries against the records.
#  (2) `harness.sh read --backend both` reads it back with cases/roundtrip.plan.json.
#  (3) section8.py builds the format doc's section-8 worked example byte for byte (checked against
#      the doc's hex dumps when the doc is found), plus variants (V4 metadata, inline stream, TTL,
#      parallelism 2, max parallelism 256, every value codec); real Flink must read them all.
#  (4) Negative cases: savepoints / plans that Flink (or the harness) must reject.
# Set KEEP=1 to keep the work directory.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HARNESS="$HERE/../harness.sh"
CASES="$HERE/cases"
REPO="$(cd "$HERE/../../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flink-harness-selftest.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "selftest: work directory $WORK" >&2
else
  trap 'rm -rf "$WORK"' EXIT
fi

failures=0
passed=0
fail() { echo "selftest: FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "selftest: ok: $*" >&2; passed=$((passed + 1)); }
same() { # expected actual label
  if [[ -f "$2" ]] && cmp -s "$1" "$2"; then
    ok "$3"
  else
    fail "$3: output differs from $1"
    [[ -f "$2" ]] && diff "$1" "$2" | head -20 >&2 || echo "  (no output file $2)" >&2
  fi
}

DOC="${FLINK_FORMAT_DOC:-}"
for d in "$REPO/docs/flink-savepoint-format.md" "$REPO/../shared/docs/flink-savepoint-format.md" \
         /work/shared/docs/flink-savepoint-format.md; do
  [[ -z "$DOC" && -f "$d" ]] && DOC="$d"
done

t0=$(date +%s)

# ---- (1) Flink writes a savepoint of its own
out=$("$HARNESS" write --output "$WORK/flink-written" --max-parallelism 128 --parallelism 2 \
        --input "$CASES/roundtrip.records.jsonl") || fail "harness write exited non-zero"
if [[ "$out" == "$WORK/flink-written" ]]; then ok "write printed the directory"; else fail "write printed '$out'"; fi
if python3 "$HERE/inspect_savepoint.py" "$WORK/flink-written" --quiet --entries "$WORK/flink-written.entries" &&
   python3 "$HERE/compare_entries.py" "$CASES/roundtrip.records.jsonl" "$WORK/flink-written.entries"; then
  ok "Flink-written savepoint has the documented layout and the records' values"
else
  fail "Flink-written savepoint deviates from the format doc or from the records"
fi

# ---- (3) section 8 and variants, built byte for byte
S8=(python3 "$HERE/section8.py")
if [[ -n "$DOC" ]]; then
  if "${S8[@]}" "$WORK/s8" --check-doc "$DOC"; then ok "section 8 bytes equal the doc's hex dumps"; else fail "section 8 bytes differ from $DOC"; fi
else
  echo "selftest: note: format doc not found; section 8 bytes not compared with its hex dumps" >&2
  "${S8[@]}" "$WORK/s8"
fi
"${S8[@]}" "$WORK/s8-v4" --metadata-version 4
"${S8[@]}" "$WORK/s8-inline" --inline
"${S8[@]}" "$WORK/s8-ttl" --ttl-ts 1700000000000
P2_ENTRIES=(--entry alice=3 --entry bob=1 --entry carol=-5 --entry dave=0 --entry "Zoë=7" --entry "中文=8" --entry "😀=9")
"${S8[@]}" "$WORK/s8-p2" --parallelism 2 "${P2_ENTRIES[@]}"
"${S8[@]}" "$WORK/s8-mp256" --max-parallelism 256 --parallelism 3 "${P2_ENTRIES[@]}"
"${S8[@]}" "$WORK/codecs" --spec "$CASES/codecs.spec.json"
[[ $(stat -c %s "$WORK/s8-ttl/keyed-state-functions-0") == 671 ]] && ok "TTL variant is 671 bytes (doc 8.3)" || fail "TTL variant size"

python3 - "$CASES/section8.plan.json" "$WORK" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
def variant(name, **kw):
    p = json.loads(json.dumps(plan))
    for k, v in kw.items():
        if k == "max_parallelism":
            p[k] = v
        else:
            p["states"][0][k] = v
    json.dump(p, open("%s/%s.plan.json" % (sys.argv[2], name), "w"))
variant("ttl", ttl={"mode": "after_write", "millis": 100 * 365 * 86400000})
variant("mp256", max_parallelism=256)
variant("long", type="io.statefun.types/long")
variant("ttl-missing", ttl={"mode": "after_write", "millis": 60000})
variant("embedded", kind="embedded", type="java.lang.Integer")
variant("string", type="io.statefun.types/string")
PY

# ---- (2)+(3) one read invocation for every positive case (both backends)
"$HARNESS" read --backend both \
  --case "$WORK/flink-written" "$CASES/roundtrip.plan.json" "$WORK/o-roundtrip.jsonl" \
  --case "$WORK/s8" "$CASES/section8.plan.json" "$WORK/o-s8.jsonl" \
  --case "$WORK/s8-v4" "$CASES/section8.plan.json" "$WORK/o-s8-v4.jsonl" \
  --case "$WORK/s8-inline" "$CASES/section8.plan.json" "$WORK/o-s8-inline.jsonl" \
  --case "$WORK/s8-ttl" "$WORK/ttl.plan.json" "$WORK/o-s8-ttl.jsonl" \
  --case "$WORK/s8-p2" "$CASES/section8.plan.json" "$WORK/o-s8-p2.jsonl" \
  --case "$WORK/s8-mp256" "$WORK/mp256.plan.json" "$WORK/o-s8-mp256.jsonl" \
  --case "$WORK/codecs" "$CASES/codecs.plan.json" "$WORK/o-codecs.jsonl" \
  || fail "harness read of the positive cases exited non-zero"
same "$CASES/roundtrip.expected.jsonl" "$WORK/o-roundtrip.jsonl" "read of the Flink-written savepoint"
same "$CASES/section8.expected.jsonl" "$WORK/o-s8.jsonl" "section 8 example (alice=3, bob=1)"
same "$CASES/section8.expected.jsonl" "$WORK/o-s8-v4.jsonl" "section 8, metadata V4"
same "$CASES/section8.expected.jsonl" "$WORK/o-s8-inline.jsonl" "section 8, inline stream handle"
same "$CASES/section8.expected.jsonl" "$WORK/o-s8-ttl.jsonl" "section 8, TTL state"
same "$CASES/variants.expected.jsonl" "$WORK/o-s8-p2.jsonl" "parallelism-2 savepoint"
same "$CASES/variants.expected.jsonl" "$WORK/o-s8-mp256.jsonl" "max parallelism 256, parallelism 3"
same "$CASES/codecs.expected.jsonl" "$WORK/o-codecs.jsonl" "every value codec"

# re-read with 2 reader subtasks: Flink intersects the stored key-group ranges with new ones
"$HARNESS" read --backend both --parallelism 2 \
  --case "$WORK/flink-written" "$CASES/roundtrip.plan.json" "$WORK/o2-roundtrip.jsonl" \
  --case "$WORK/s8-mp256" "$WORK/mp256.plan.json" "$WORK/o2-s8-mp256.jsonl" \
  --case "$WORK/s8" "$CASES/section8.plan.json" "$WORK/o2-s8.jsonl" \
  || fail "harness read --parallelism 2 exited non-zero"
same "$CASES/roundtrip.expected.jsonl" "$WORK/o2-roundtrip.jsonl" "rescaled read of the Flink-written savepoint"
same "$CASES/variants.expected.jsonl" "$WORK/o2-s8-mp256.jsonl" "rescaled read, max parallelism 256"
same "$CASES/section8.expected.jsonl" "$WORK/o2-s8.jsonl" "rescaled read of section 8"

# ---- (4) negative cases: every one must fail, and leave no output file
"${S8[@]}" "$WORK/neg-misplaced" --misplace bob
mkdir -p "$WORK/neg-truncated" && cp "$WORK/s8/_metadata" "$WORK/neg-truncated/" &&
  head -c 450 "$WORK/s8/keyed-state-functions-0" > "$WORK/neg-truncated/keyed-state-functions-0"
cat > "$WORK/neg-values.spec.json" <<'JSON'
{"states": [{"flink_name": "example.greeter.seen_count", "serializer": "remote:io.statefun.types/int"}],
 "entries": [{"state": 0, "id": "alice", "payload_hex": "0a03616263"}]}
JSON
"${S8[@]}" "$WORK/neg-wrong-payload" --spec "$WORK/neg-values.spec.json"
cat > "$WORK/neg-short.spec.json" <<'JSON'
{"states": [{"flink_name": "example.greeter.seen_count", "serializer": "long"}],
 "entries": [{"state": 0, "id": "alice", "record_hex": "00000003"}]}
JSON
"${S8[@]}" "$WORK/neg-short" --spec "$WORK/neg-short.spec.json"
cat > "$WORK/neg-short.plan.json" <<'JSON'
{"max_parallelism": 128, "states": [{"function": "example/greeter", "state": "seen_count",
 "flink_name": "example.greeter.seen_count", "kind": "embedded", "type": "java.lang.Long"}]}
JSON
NEG=(
  "$WORK/neg-misplaced|$CASES/section8.plan.json|value stored under the wrong key group"
  "$WORK/neg-truncated|$CASES/section8.plan.json|truncated keyed-state file"
  "$WORK/s8|$WORK/long.plan.json|plan type io.statefun.types/long vs int in the savepoint"
  "$WORK/s8|$WORK/ttl-missing.plan.json|plan has TTL, savepoint has none"
  "$WORK/s8-ttl|$CASES/section8.plan.json|savepoint has TTL, plan has none"
  "$WORK/s8|$WORK/mp256.plan.json|max parallelism 128 vs plan 256"
  "$WORK/s8|$WORK/embedded.plan.json|embedded Integer plan vs remote state"
  "$WORK/neg-wrong-payload|$CASES/section8.plan.json|StringWrapper bytes in an int state"
  "$WORK/neg-short|$WORK/neg-short.plan.json|4-byte value under a Long serializer"
  "$WORK/does-not-exist|$CASES/section8.plan.json|missing savepoint directory"
)
args=()
for n in "${!NEG[@]}"; do
  IFS='|' read -r dir plan _ <<<"${NEG[$n]}"
  args+=(--case "$dir" "$plan" "$WORK/neg-$n.jsonl")
done
set +e
"$HARNESS" read --backend both "${args[@]}" 2>"$WORK/neg.stderr"
rc=$?
set -e
[[ $rc == 1 ]] && ok "negative read exits 1" || fail "negative read exited $rc (want 1)"
total=${#NEG[@]}
for n in "${!NEG[@]}"; do
  IFS='|' read -r _ _ label <<<"${NEG[$n]}"
  if grep -q "^harness: case $((n + 1))/$total .*: FAILED: " "$WORK/neg.stderr" && [[ ! -e "$WORK/neg-$n.jsonl" ]]; then
    ok "rejected: $label"
  else
    fail "not rejected: $label"
  fi
done
if [[ $failures -gt 0 || "${VERBOSE:-0}" == 1 ]]; then
  grep "^harness: case .*: FAILED: " "$WORK/neg.stderr" | cut -c1-300 >&2 || true
fi

echo "selftest: $(( $(date +%s) - t0 ))s" >&2
echo "$passed passed, $failures failed"
[[ $failures == 0 ]]
