#!/usr/bin/env bash
# The docker compose demo's story on this machine, without Docker (see README.md, "Demo"):
#
#   1. history: PostgreSQL seeded with a users table, Kafka with a history of events (demo/seed/);
#   2. bootstrap: demo/bootstrap.sh runs demo/job.yaml -> a savepoint, plus the Kafka handoff module
#      (the ingress that continues at the offsets the bootstrap read up to);
#   3. functions: the remote greeter (demo/functions, statefun Java SDK);
#   4. statefun: a statefun 3.3.0 application (StatefulFunctionsJob on Flink 1.16.2, in-process, the way
#      the tests start it: tests/restore) started from the savepoint with demo/module.yaml + the handoff;
#   5. live events arrive; the greeter greets each user with the counts that came from history.
#
#   scripts/demo-local.sh [--mode auto|services|files] [--keep]
#
# --mode services: PostgreSQL and Kafka sources, as docker compose. PostgreSQL: a throwaway cluster from
#   tests/postgres/cluster.sh, or the server PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE name. Kafka: a
#   throwaway single-node KRaft broker from tests/kafka/broker.sh (Apache Kafka jars from Maven Central,
#   cached in ~/.m2), or the broker KAFKA_BROKERS names (host:port). Needs a statefun-bootstrap built with
#   both connectors.
# --mode files: the same functions, states, routes and data from the seed files (demo/job-files.yaml);
#   the live events go in through the application's own ingress instead of Kafka.
# --mode auto (default): services when all of that is available, else files.
# --keep: keep the work directory (savepoint, logs) and print where it is.
#
# Uses $STATEFUN_BOOTSTRAP, else $SFB_BUILD_DIR/statefun-bootstrap, else build/statefun-bootstrap (built
# with scripts/build.sh when missing). Every process it starts is stopped when it ends, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=auto
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) MODE=${2:?--mode needs auto, services or files}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "demo-local: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $MODE == auto || $MODE == services || $MODE == files ]] || { echo "demo-local: --mode auto|services|files" >&2; exit 2; }

# The files the docker compose demo uses too (docker-compose.yml mounts the same ones).
JOB=demo/job.yaml
JOB_FILES=demo/job-files.yaml
MODULE=demo/module.yaml
BOOTSTRAP=demo/bootstrap.sh
USERS_CSV=demo/seed/users.csv
USERS_SQL=demo/seed/postgres.sql
EVENTS=demo/seed/events.jsonl
LIVE_EVENTS=demo/seed/live-events.jsonl
EXPECTED=demo/seed/expected-greetings.txt
TOPIC=events
RESTORE=tests/restore/restore.sh
PG_CLUSTER=tests/postgres/cluster.sh
KAFKA_BROKER_SH=tests/kafka/broker.sh

say() { printf '\n==> %s\n' "$*"; }
die() { echo "demo-local: $*" >&2; exit 1; }

SFB=${STATEFUN_BOOTSTRAP:-${SFB_BUILD_DIR:-build}/statefun-bootstrap}
if [[ ! -x $SFB ]]; then
  say "building statefun-bootstrap (scripts/build.sh)"
  ./scripts/build.sh
fi
SFB=$(cd "$(dirname "$SFB")" && pwd)/$(basename "$SFB")
# answers a metadata request when a broker is up (built with the Kafka connector, next to the CLI)
KAFKA_TOOL=$(dirname "$SFB")/sfb-kafka-tool

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sfb-demo.XXXXXX")
PIDS=()
PG_DIR=""
KAFKA_DIR=""
KAFKA_PID=""
# stop_kafka: ends the broker this script started (broker.sh stops its JVM on SIGTERM)
stop_kafka() {
  [[ -n $KAFKA_PID ]] || return 0
  kill -TERM "$KAFKA_PID" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$KAFKA_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$KAFKA_PID" 2>/dev/null || true
  wait "$KAFKA_PID" 2>/dev/null || true
  local jvm
  jvm=$(cat "$KAFKA_DIR/broker.pid" 2>/dev/null || true)
  [[ -n $jvm ]] && kill -KILL "$jvm" 2>/dev/null || true
  KAFKA_PID=""
}
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  stop_kafka
  if [[ -n $PG_DIR ]]; then "$PG_CLUSTER" stop "$PG_DIR" || true; fi
  if [[ $KEEP == 1 ]]; then
    echo "demo-local: work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# start_kafka: a throwaway single-node KRaft broker (tests/kafka/broker.sh) in $WORK/kafka on free local
# ports, as the tests start one (tests/kafka/kafka_broker.py); sets KAFKA_BROKERS. broker.sh also stops
# the broker by itself once this script is gone, even after a SIGKILL.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  while :; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_free "$port" && { echo "$port"; return; }
  done
}
kafka_answers() { "$KAFKA_TOOL" metadata --brokers "$KAFKA_BROKERS" --timeout-ms 1000 >/dev/null 2>&1; }
kafka_up() {
  kafka_answers && return 0
  kill -0 "$KAFKA_PID" 2>/dev/null || return 2
  return 1
}
start_kafka() {
  # resolve the jars first (Maven, the first time), so a download does not count against the start
  "$KAFKA_BROKER_SH" classpath >/dev/null
  local attempt port sasl_port controller_port rc
  for attempt in 1 2 3; do
    KAFKA_DIR=$WORK/kafka
    rm -rf "$KAFKA_DIR"
    mkdir -p "$KAFKA_DIR"
    port=$(free_port) sasl_port=$(free_port) controller_port=$(free_port)
    KAFKA_BROKERS=127.0.0.1:$port
    "$KAFKA_BROKER_SH" run "$KAFKA_DIR" "$port" "$sasl_port" "$controller_port" "pw-$RANDOM$RANDOM" $$ \
      >"$KAFKA_DIR/broker.sh.log" 2>&1 &
    KAFKA_PID=$!
    local deadline=$((SECONDS + 180))
    while :; do
      rc=0
      kafka_up || rc=$?
      ((rc == 0)) && return 0
      ((rc == 2)) && break                 # it exited: a port was taken meanwhile? new ports
      if ((SECONDS >= deadline)); then
        tail -n 40 "$KAFKA_DIR"/broker.sh.log "$KAFKA_DIR"/format.log "$KAFKA_DIR"/broker.out >&2 2>/dev/null || true
        die "the Kafka broker did not answer within 180 s"
      fi
      sleep 0.3
    done
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=""
    echo "demo-local: the Kafka broker exited at start (attempt $attempt):" >&2
    tail -n 20 "$KAFKA_DIR"/broker.sh.log "$KAFKA_DIR"/format.log "$KAFKA_DIR"/broker.out >&2 2>/dev/null || true
  done
  die "could not start a Kafka broker ($KAFKA_BROKER_SH)"
}

# ---------------------------------------------------------------------------------- mode
services_missing() {
  local missing=()
  if "$SFB" validate "$JOB" >"$WORK/validate.txt" 2>&1; then :; else
    missing+=("this statefun-bootstrap cannot run $JOB ($(grep -m1 error "$WORK/validate.txt" || true))")
  fi
  [[ -n ${PGHOST:-} || -x $PG_CLUSTER ]] || missing+=("PostgreSQL: set PGHOST etc. or provide $PG_CLUSTER")
  if [[ -z ${KAFKA_BROKERS:-} ]]; then
    if [[ ! -x $KAFKA_BROKER_SH ]] || ! command -v java >/dev/null; then
      missing+=("Kafka: set KAFKA_BROKERS=host:port of a broker, or provide $KAFKA_BROKER_SH and a JDK")
    elif [[ ! -x $KAFKA_TOOL ]]; then
      missing+=("Kafka: set KAFKA_BROKERS=host:port of a broker, or build $KAFKA_TOOL (scripts/build.sh)")
    fi
  fi
  ((${#missing[@]} == 0)) || printf '  - %s\n' "${missing[@]}"
}
if [[ $MODE != files ]]; then
  why=$(services_missing)
  if [[ -n $why ]]; then
    [[ $MODE == services ]] && die "--mode services needs:"$'\n'"$why"
    MODE=files
    echo "demo-local: PostgreSQL/Kafka sources not available here, running the same story from the seed files:"
    echo "$why"
  else
    MODE=services
  fi
fi
echo "demo-local: mode $MODE, work directory $WORK"

# ---------------------------------------------------------------------------------- 1. history
if [[ $MODE == services ]]; then
  say "1/5 history: PostgreSQL users table, Kafka topic $TOPIC"
  if [[ -z ${PGHOST:-} ]]; then
    PG_DIR=$("$PG_CLUSTER" start)
    export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGPASSWORD PGDATABASE=postgres
    PGPORT=$(cat "$PG_DIR/port")
    PGPASSWORD=$(cat "$PG_DIR/superuser.pw")
    "$PG_CLUSTER" psql "$PG_DIR" -v users_csv="$ROOT/$USERS_CSV" -f "$ROOT/$USERS_SQL"
  else
    psql -X -q -v ON_ERROR_STOP=1 -v users_csv="$ROOT/$USERS_CSV" -f "$ROOT/$USERS_SQL"
  fi
  echo "users: $(wc -l <"$USERS_CSV") lines of $USERS_CSV loaded into PostgreSQL $PGHOST:${PGPORT:-5432}"
  if [[ -z ${KAFKA_BROKERS:-} ]]; then
    start_kafka
    echo "kafka: a single-node KRaft broker ($KAFKA_BROKER_SH) on $KAFKA_BROKERS"
  fi
  "$RESTORE" app produce --brokers "$KAFKA_BROKERS" --topic "$TOPIC" --file "$EVENTS" --key-field user --partitions 2
  export KAFKA_BROKERS
  BOOT_JOB=$JOB
else
  say "1/5 history: $USERS_CSV and $EVENTS (what docker compose loads into PostgreSQL and Kafka)"
  BOOT_JOB=$JOB_FILES
fi

# ---------------------------------------------------------------------------------- 2. bootstrap
say "2/5 bootstrap: $BOOTSTRAP $BOOT_JOB"
STATEFUN_BOOTSTRAP=$SFB sh "$BOOTSTRAP" "$BOOT_JOB" "$WORK/savepoint" "$WORK/handoff"

# ---------------------------------------------------------------------------------- 3. functions
say "3/5 functions: the remote greeter (demo/functions, statefun Java SDK)"
FN=demo/functions
if [[ ! -d $FN/target/lib || -n "$(find "$FN/src" "$FN/pom.xml" -newer "$FN/target/classes" -print -quit 2>/dev/null)" ]]; then
  (cd "$FN" && mvn -q -B package -DskipTests) >&2 || die "building $FN failed"
  touch "$FN/target/classes"
fi
PORT=0 BIND=127.0.0.1 java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -cp "$FN/target/classes:$FN/target/lib/*" demo.GreeterServer >"$WORK/greeter.log" 2>&1 &
PIDS+=($!)
greeter_port() { grep -so 'serving demo/greeter on http://127.0.0.1:[0-9]*' "$WORK/greeter.log" | grep -o '[0-9]*$'; }
wait_for 60 "the greeter" greeter_port >/dev/null || { cat "$WORK/greeter.log" >&2; die "the greeter did not start"; }
GREETER_PORT=$(greeter_port)
cat "$WORK/greeter.log"

# ---------------------------------------------------------------------------------- 4. statefun
say "4/5 statefun: statefun 3.3.0 on Flink 1.16.2 from the savepoint, $MODULE (+ the Kafka handoff)"
sed "s#http://functions:8000/#http://127.0.0.1:$GREETER_PORT/#" "$MODULE" >"$WORK/module.yaml"
ARGS=(app serve --module "$WORK/module.yaml" --savepoint "$WORK/savepoint" --parallelism 1
      --ready-file "$WORK/ready")
if [[ $MODE == services ]]; then
  [[ -f $WORK/handoff/module.yaml ]] || die "the bootstrap wrote no Kafka handoff module"
  ARGS+=(--module "$WORK/handoff/module.yaml")
else
  ARGS+=(--messages "$LIVE_EVENTS" --messages-to demo/greeter --messages-type demo/Event --messages-id-field user)
fi
"$RESTORE" "${ARGS[@]}" >"$WORK/statefun.log" 2>&1 &
STATEFUN_PID=$!
PIDS+=("$STATEFUN_PID")
statefun_up() {
  [[ -f $WORK/ready ]] && return 0
  kill -0 "$STATEFUN_PID" 2>/dev/null || { cat "$WORK/statefun.log" >&2; die "the statefun application failed"; }
  return 1
}
wait_for 600 "the statefun application" statefun_up || { cat "$WORK/statefun.log" >&2; die "the statefun application did not start in time"; }
cat "$WORK/ready"

# ---------------------------------------------------------------------------------- 5. live events
if [[ $MODE == services ]]; then
  say "5/5 live events: $LIVE_EVENTS to Kafka topic $TOPIC; the greeter greets"
  "$RESTORE" app produce --brokers "$KAFKA_BROKERS" --topic "$TOPIC" --file "$LIVE_EVENTS" --key-field user
else
  say "5/5 live events: $LIVE_EVENTS through the application's ingress; the greeter greets"
fi
want=$(grep -c . "$LIVE_EVENTS")
greetings() { grep -c '^greeter: Hello' "$WORK/greeter.log" || true; }
enough() { (($(greetings) >= want)); }
if ! wait_for 120 "greetings" enough; then
  cat "$WORK/statefun.log" "$WORK/greeter.log" >&2
  die "only $(greetings) of $want greetings after 120 s"
fi
grep '^greeter: Hello' "$WORK/greeter.log"

missing=0
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  if ! grep -qF -- "$line" "$WORK/greeter.log"; then
    echo "demo-local: expected a greeting containing: $line" >&2
    missing=$((missing + 1))
  fi
done <"$EXPECTED"
((missing == 0)) || die "$missing expected greeting(s) missing"
echo
echo "demo-local: OK (mode $MODE): the statefun application started from the bootstrapped savepoint and"
echo "the greeter saw the state that came from history ($want greetings, as $EXPECTED expects)."
