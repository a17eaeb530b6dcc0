#!/usr/bin/env bash
# A Confluent-compatible schema registry for the Kafka connector's tests: Apicurio Registry 2.4.2.Final
# (pom.xml here: jars from Maven Central, cached in ~/.m2; built once into target/), in-memory storage,
# the Confluent API under /apis/ccompat/v7.
#
#   registry.sh build
#       builds the registry (mvn package; the first build downloads ~220 MB); prints the jar to run.
#   registry.sh run PORT [WATCH_PID]
#       runs the registry in the foreground on 127.0.0.1:PORT. Stops on SIGTERM/SIGINT, and by itself
#       once process WATCH_PID is gone, so a test run that dies never leaves a registry behind.
#       Ready once GET http://127.0.0.1:PORT/apis/ccompat/v7/subjects answers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$HERE/target"
JAR="$TARGET/schema-registry-test-server-0.1.0-runner.jar"

# shellcheck source=../lib/java.sh
source "$HERE/../lib/java.sh"

die() { echo "registry.sh: $*" >&2; exit 1; }

build() {
  if [[ -s "$JAR" && -d "$TARGET/lib" && "$JAR" -nt "$HERE/pom.xml" &&
        "$JAR" -nt "$HERE/src/main/resources/application.properties" ]]; then
    echo "$JAR"
    return
  fi
  command -v mvn >/dev/null || die "mvn not found (need Maven 3.8+ and a JDK 17)"
  mkdir -p "$TARGET"
  # Serialise concurrent builds (several test processes may start at once).
  exec 9>"$HERE/.build.lock"
  command -v flock >/dev/null && flock -x 9
  if [[ ! ( -s "$JAR" && "$JAR" -nt "$HERE/pom.xml" ) ]]; then
    echo "registry.sh: building Apicurio Registry (mvn package)..." >&2
    (cd "$HERE" && mvn -q -B package -DskipTests) >&2 || die "could not build the registry (see the Maven output above)"
  fi
  exec 9>&-
  echo "$JAR"
}

run() {
  [[ $# -ge 1 ]] || die "usage: registry.sh run PORT [WATCH_PID]"
  local port="$1" watch="${2:-}"
  local jar
  jar="$(build)"
  "$JAVA" -Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" -Dquarkus.log.level=WARN \
      -jar "$jar" &
  local registry=$!
  trap 'kill "$registry" 2>/dev/null; wait "$registry" 2>/dev/null; exit 0' TERM INT
  while kill -0 "$registry" 2>/dev/null; do
    if [[ -n "$watch" ]] && ! kill -0 "$watch" 2>/dev/null; then
      kill "$registry" 2>/dev/null || true
      break
    fi
    sleep 1 &
    wait $! || true
  done
  wait "$registry" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$registry" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$registry" 2>/dev/null || true
}

case "${1:-}" in
  build) build ;;
  run) shift; run "$@" ;;
  *) die "usage: registry.sh build | run PORT [WATCH_PID]" ;;
esac
