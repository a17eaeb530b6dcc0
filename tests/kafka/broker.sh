#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft mode: broker and controller in one JVM) for the Kafka
# connector's tests and benchmark. Jars come from Maven Central (pom.xml here), cached in ~/.m2; the
# resolved classpath is cached in tests/kafka/target/ (gitignored).
#
#   broker.sh classpath
#       resolves the jars; prints the classpath file.
#   broker.sh run DIR PORT SASL_PORT CONTROLLER_PORT SASL_PASSWORD [WATCH_PID]
#       formats DIR (data, config, logs) and runs the broker in the foreground, bound to 127.0.0.1:
#       PLAINTEXT on PORT, SASL_PLAINTEXT (mechanism PLAIN, user "alice", SASL_PASSWORD) on SASL_PORT.
#       Stops the broker on SIGTERM/SIGINT, and by itself once process WATCH_PID is gone, so a test run
#       that dies never leaves a broker behind. Ready once a metadata request on PORT is answered.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$HERE/target"
CLASSPATH_FILE="$TARGET/classpath.txt"

# shellcheck source=../lib/java.sh
source "$HERE/../lib/java.sh"

die() { echo "broker.sh: $*" >&2; exit 1; }

classpath() {
  if [[ -s "$CLASSPATH_FILE" && "$CLASSPATH_FILE" -nt "$HERE/pom.xml" ]]; then
    local ok=1
    for jar in $(tr ':' ' ' < "$CLASSPATH_FILE"); do [[ -f "$jar" ]] || ok=0; done
    (( ok )) && { echo "$CLASSPATH_FILE"; return; }
  fi
  command -v mvn >/dev/null || die "mvn not found (need Maven 3.8+ and a JDK 11+)"
  mkdir -p "$TARGET"
  # Serialise concurrent resolutions (several test processes may start at once).
  exec 9>"$TARGET/.lock"
  command -v flock >/dev/null && flock -x 9
  echo "broker.sh: resolving Apache Kafka jars (mvn dependency:build-classpath)..." >&2
  if ! (cd "$HERE" && mvn -q -B dependency:build-classpath -Dmdep.includeScope=runtime \
          -Dmdep.outputFile="$CLASSPATH_FILE.tmp") >&2; then
    die "could not resolve the Kafka jars from Maven Central (see the Maven output above)"
  fi
  mv "$CLASSPATH_FILE.tmp" "$CLASSPATH_FILE"
  exec 9>&-
  echo "$CLASSPATH_FILE"
}

run() {
  [[ $# -ge 5 ]] || die "usage: broker.sh run DIR PORT SASL_PORT CONTROLLER_PORT SASL_PASSWORD [WATCH_PID]"
  local dir="$1" port="$2" sasl_port="$3" controller_port="$4" password="$5" watch="${6:-}"
  local cp
  cp="$(cat "$(classpath)")"
  mkdir -p "$dir/data"
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sasl_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sasl_port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="$password";
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=500
num.network.threads=2
num.io.threads=2
EOF
  cat > "$dir/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  local jvm=(-Xms256m -Xmx768m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
             -Dlog4j.configuration="file:$dir/log4j.properties")
  # A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.
  local cluster_id
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  "$JAVA" "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      > "$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "kafka-storage format failed"; }

  "$JAVA" "${jvm[@]}" -cp "$cp" kafka.Kafka "$dir/server.properties" > "$dir/broker.out" 2>&1 &
  local broker=$!
  echo "$broker" > "$dir/broker.pid"
  trap 'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null; exit 0' TERM INT
  while kill -0 "$broker" 2>/dev/null; do
    if [[ -n "$watch" ]] && ! kill -0 "$watch" 2>/dev/null; then
      kill "$broker" 2>/dev/null || true
      break
    fi
    sleep 1 &
    wait $! || true
  done
  wait "$broker" 2>/dev/null || true
  # Give the JVM a few seconds to shut down cleanly, then make sure it is gone.
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$broker" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$broker" 2>/dev/null || true
}

case "${1:-}" in
  classpath) classpath ;;
  run) shift; run "$@" ;;
  *) die "usage: broker.sh classpath | run DIR PORT SASL_PORT CONTROLLER_PORT SASL_PASSWORD [WATCH_PID]" ;;
esac
