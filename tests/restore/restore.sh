#!/usr/bin/env bash
# Runs the restore harness (see README.md): a real statefun 3.3.0 application on Flink 1.16.2, and
# remote functions on statefun's Java SDK.
#   restore.sh app probe|serve ...           the statefun application (MiniCluster + StatefulFunctionsJob)
#   restore.sh probe-functions --plan PLAN   the remote probe function server (prints its port)
#   restore.sh build                         builds only (mvn package), e.g. before timing-sensitive runs
# Builds the Maven project first when a module's jar is missing or older than its sources.
# stdout carries only the command's output; build output and logs go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=../lib/java.sh
source "$HERE/../lib/java.sh"

die() { echo "restore.sh: $*" >&2; exit 1; }

needs_build() {
  local m
  for m in app functions; do
    [[ -f "$HERE/$m/target/restore-$m-0.1.0.jar" && -s "$HERE/$m/target/classpath.txt" ]] || return 0
    [[ -n "$(find "$HERE/$m/src" "$FLINK_COMMON_SOURCES" "$HERE/$m/pom.xml" "$HERE/pom.xml" -newer "$HERE/$m/target/restore-$m-0.1.0.jar" -print -quit)" ]] && return 0
  done
  return 1
}

build() {
  command -v mvn >/dev/null || die "mvn not found (need Maven 3.8+ and a JDK 11+)"
  echo "restore.sh: building $HERE (mvn package)..." >&2
  if ! (cd "$HERE" &&
        mvn -q -B package dependency:build-classpath -DskipTests \
          -Dmdep.includeScope=runtime -Dmdep.outputFile=target/classpath.txt) >&2; then
    rm -f "$HERE"/*/target/restore-*-0.1.0.jar
    die "build failed (see the Maven output above)"
  fi
  touch "$HERE"/app/target/restore-app-0.1.0.jar "$HERE"/functions/target/restore-functions-0.1.0.jar
}

if needs_build; then
  # serialise concurrent builds (several test processes may start at once)
  exec 9<"$HERE/pom.xml"
  command -v flock >/dev/null && flock -x 9
  if needs_build; then
    build
  fi
  exec 9<&-
fi

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  build)
    exit 0
    ;;
  probe-functions)
    exec "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 ${RESTORE_FUNCTIONS_JAVA_OPTS:-} \
      -cp "$HERE/functions/target/classes:$(cat "$HERE/functions/target/classpath.txt")" \
      io.statefunbootstrap.restore.functions.ProbeServer "$@"
    ;;
  app)
    ;;
  *)
    echo "usage: restore.sh app probe|serve ... | restore.sh probe-functions --plan PLAN_JSON ... | restore.sh build" >&2
    exit 2
    ;;
esac

JVM_FLAGS=("${FLINK_JVM_FLAGS[@]}" -XX:TieredStopAtLevel=1 -Xmx768m)

# Flink extracts the RocksDB native library, spill and blob directories under io.tmp.dirs: give
# every run its own directory and remove it afterwards.
RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/restore-run.XXXXXX")"
child=""
cleanup() {
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086
"$JAVA" "${JVM_FLAGS[@]}" ${RESTORE_JAVA_OPTS:-} \
  -Djava.io.tmpdir="$RUN_TMP" -Drestore.tmpdir="$RUN_TMP" \
  -Dlog4j2.configurationFile=log4j2.properties \
  -cp "$HERE/app/target/classes:$(cat "$HERE/app/target/classpath.txt")" \
  io.statefunbootstrap.restore.Main "$@" &
child=$!
rc=0
wait "$child" || rc=$?
# a signal interrupts wait: pass it on and wait for the JVM's shutdown hooks (job cancel, cleanup)
while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done
child=""
exit "$rc"
