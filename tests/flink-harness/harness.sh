#!/usr/bin/env bash
# Runs the Flink 1.16.2 + StateFun 3.3.0 judge harness (see README.md).
#   harness.sh read  --backend hashmap|rocksdb|both --case SAVEPOINT_DIR PLAN_JSON OUT_JSONL [--case ...]
#   harness.sh write --output DIR --max-parallelism N [--parallelism P] --input RECORDS_JSONL
# Builds the Maven project first when target/ is missing or older than the sources.
# stdout carries only the command's output; build output and logs go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$HERE/target"
JAR="$TARGET/flink-harness-0.1.0.jar"
CLASSPATH_FILE="$TARGET/classpath.txt"
MAIN=io.statefunbootstrap.harness.Main

# shellcheck source=../lib/java.sh
source "$HERE/../lib/java.sh"

die() { echo "harness.sh: $*" >&2; exit 1; }

needs_build() {
  [[ -f "$JAR" && -s "$CLASSPATH_FILE" && -d "$TARGET/classes" ]] || return 0
  [[ -n "$(find "$HERE/src" "$FLINK_COMMON_SOURCES" "$HERE/pom.xml" -newer "$JAR" -print -quit)" ]] && return 0
  return 1
}

build() {
  command -v mvn >/dev/null || die "mvn not found (need Maven 3.8+ and a JDK 11+)"
  echo "harness.sh: building $HERE (mvn package)..." >&2
  # (explicit && chain: errexit is suspended inside a command tested by ||)
  # one Maven run: package, then write the runtime classpath
  if ! (cd "$HERE" &&
        mvn -q -B package dependency:build-classpath -DskipTests \
          -Dmdep.includeScope=runtime -Dmdep.outputFile="$CLASSPATH_FILE") >&2; then
    rm -f "$JAR"
    die "build failed (see the Maven output above)"
  fi
  touch "$JAR"
}

if needs_build; then
  # Serialise concurrent builds (several test processes may start at once).
  exec 9<"$HERE/pom.xml"
  command -v flock >/dev/null && flock -x 9
  if needs_build; then
    build
  fi
  exec 9<&-
fi

JVM_FLAGS=("${FLINK_JVM_FLAGS[@]}")
if [[ "${1:-}" == "read" ]]; then
  # read is start-up bound: the C1 JIT alone gets there sooner
  JVM_FLAGS+=(-XX:TieredStopAtLevel=1 -Xmx768m)
else
  JVM_FLAGS+=(-Xmx1g)
fi

# Flink extracts the RocksDB native library (11 MB), spill and blob directories under io.tmp.dirs,
# and Akka's jar under java.io.tmpdir: give every run its own directory and remove it afterwards.
RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/flink-harness-run.XXXXXX")"
cleanup() { rm -rf "$RUN_TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rc=0
# shellcheck disable=SC2086
"$JAVA" "${JVM_FLAGS[@]}" ${HARNESS_JAVA_OPTS:-} \
  -Djava.io.tmpdir="$RUN_TMP" -Dharness.tmpdir="$RUN_TMP" \
  -Dlog4j2.configurationFile=log4j2.properties \
  -cp "$TARGET/classes:$(cat "$CLASSPATH_FILE")" "$MAIN" "$@" || rc=$?
exit "$rc"
