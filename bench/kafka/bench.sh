#!/usr/bin/env bash
# Kafka connector benchmark (not a test): statefun-bootstrap replaying a topic, next to plain consumers
# of the same topic, measured in one script on one broker. See bench/kafka/README.md.
#
#   bench/kafka/bench.sh [MESSAGES] [PARTITIONS] [USERS_CSV] [EVENTS_CSV EVENTS_USERS_CSV]
#                                                   default 10000000 messages, 6 partitions
#
# Starts a throwaway single-node broker (tests/kafka/broker.sh) in a temp directory and produces one
# message per user of USERS_CSV (the file benchmark's users, bench/run.py; generated the same way when
# not given): key "user-<i>", value {"id":"user-<i>","name":"Name <i>","visits":<(i*7) % 1000>}. Then:
#   1. plain librdkafka consume to /dev/null (sfb-kafka-tool consume: assign every partition, read to
#      the end offsets captured at start, discard),
#   2. kcat -C -e to /dev/null,
#   3. statefun-bootstrap, read only: the route drops every record after decoding (where: never true),
#   4. statefun-bootstrap run: every message routed to its user, visits and name set as embedded Long
#      and String states (the file benchmark's job), a parallelism-2 savepoint written.
# Then the same users as Avro through a schema registry (tests/registry/registry.sh, Apicurio, started
# here): topic bench-avro, produced with confluent-kafka's AvroSerializer (record bench.User {id, name:
# string, visits: int}), and rows 1, 3 and 4 again on it. SFB_BENCH_AVRO=0 skips this part.
# With EVENTS_CSV (bench/generate-events.sh) and the users file its ids refer to: the events workload of
# bench/run.py from Kafka: every event produced as JSON {"user","amount","ts","page"} into topic
# bench-events, a plain consume of it, and the events job (count, sum, max, last per user from the topic,
# plus a name set from EVENTS_USERS_CSV) replayed and --combine-early, which must give the same bytes.
# Uses SFB_BUILD_DIR (default build/) for statefun-bootstrap and sfb-kafka-tool.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
MESSAGES="${1:-10000000}"
PARTITIONS="${2:-6}"
USERS_CSV="${3:-}"
EVENTS_CSV="${4:-}"
EVENTS_USERS_CSV="${5:-}"
BUILD="${SFB_BUILD_DIR:-$ROOT/build}"
CLI="$BUILD/statefun-bootstrap"
TOOL="$BUILD/sfb-kafka-tool"
[[ -x "$CLI" && -x "$TOOL" ]] || { echo "build first: $CLI and $TOOL are needed" >&2; exit 1; }
command -v kcat >/dev/null || { echo "kcat is needed (scripts/install-deps.sh installs it)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/sfb-kafka-bench.XXXXXX)"
BROKER_PID=""
REGISTRY_PID=""
cleanup() {
  if [[ -n "$REGISTRY_PID" ]]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
  if [[ -n "$BROKER_PID" ]]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
BROKERS="127.0.0.1:$PORT"
bash tests/kafka/broker.sh run "$WORK/broker" "$PORT" "$(free_port)" "$(free_port)" "bench-$$" "$$" \
  > "$WORK/broker.sh.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 240); do
  "$TOOL" metadata --brokers "$BROKERS" --timeout-ms 1000 >/dev/null 2>&1 && break
  kill -0 "$BROKER_PID" 2>/dev/null || { cat "$WORK/broker.sh.log" >&2; exit 1; }
  sleep 0.5
done

now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }

echo "== producing $MESSAGES messages into $PARTITIONS partitions"
"$TOOL" create-topic --brokers "$BROKERS" --topic bench --partitions "$PARTITIONS"
if [[ -z "$USERS_CSV" ]]; then
  USERS_CSV="$WORK/users.csv"
  bench/generate-users.sh "$MESSAGES" > "$USERS_CSV"
fi
awk -F, -v n="$MESSAGES" 'NR > 1 && NR <= n + 1 {printf "{\"topic\":\"bench\",\"key\":\"%s\",\"value\":\"{\\\"id\\\":\\\"%s\\\",\\\"name\\\":\\\"%s\\\",\\\"visits\\\":%s}\"}\n", $1, $1, $2, $3}' \
  "$USERS_CSV" | "$TOOL" produce --brokers "$BROKERS"
BYTES="$(find "$WORK/broker/data" -name '*.log' -printf '%s\n' | awk '{s += $1} END {print s}')"
echo "   log segments: $((BYTES / 1048576)) MB (uncompressed record batches)"

# measure NAME COMMAND...: wall seconds, CPU seconds (user + system) and peak RSS of the command, by
# Python (no dependency on GNU time); its stdout goes to $WORK/NAME.out.
# The broker's CPU over the same command goes to BROKER_CPU[NAME] (its JVM's user + system time).
declare -A WALL CPU RSS BROKER_CPU
CLK_TCK="$(getconf CLK_TCK)"
BROKER_JVM="$(cat "$WORK/broker/broker.pid")"
cpu_of() { awk -v tck="$CLK_TCK" '{ sub(/^.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"; }
measure() {
  local name="$1" broker_before
  shift
  broker_before="$(cpu_of "$BROKER_JVM")"
  python3 - "$WORK/$name.time" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" <<'PY' || { cat "$WORK/$name.err" >&2; exit 1; }
import resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.call(sys.argv[2:])
wall = time.monotonic() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{wall} {r.ru_utime + r.ru_stime} {r.ru_maxrss}\n")
sys.exit(code)
PY
  local wall cpu rss
  read -r wall cpu rss < "$WORK/$name.time"
  WALL[$name]="$wall"
  CPU[$name]="$cpu"
  RSS[$name]="$rss"
  BROKER_CPU[$name]="$(python3 -c "print($(cpu_of "$BROKER_JVM") - $broker_before)")"
}

echo "== plain librdkafka consume to /dev/null"
measure librdkafka "$TOOL" consume --brokers "$BROKERS" --topic bench

echo "== kcat -C -e to /dev/null"
measure kcat bash -c "kcat -C -b $BROKERS -t bench -o beginning -e -q > /dev/null"

job() {  # job FILE ROUTE [TOPIC VALUE_FORMAT]
  cat > "$1" <<EOF
savepoint: { path: $WORK/savepoint, max_parallelism: 128, parallelism: 2 }
functions:
  bench/user:
    states:
      visits: { type: java.lang.Long }
      name: { type: java.lang.String }
sources:
  events: { kafka: { brokers: "$BROKERS", topics: [${3:-bench}], progress: 30s, value: ${4:-json} } }
routes:
$2
EOF
}

echo "== statefun-bootstrap, read only (records decoded, then dropped by the route)"
job "$WORK/read-only.yaml" '  - { from: events, to: bench/user, id: "{value.id}", where: "{offset} == -1", set: { visits: "{value.visits}" } }'
rm -rf "$WORK/savepoint"
measure read_only "$CLI" run "$WORK/read-only.yaml" --threads 2 --summary-json "$WORK/read_only.json"

echo "== statefun-bootstrap run (one address per user: visits and name set, parallelism 2)"
job "$WORK/run.yaml" '  - { from: events, to: bench/user, id: "{value.id}", set: { visits: "{value.visits}", name: "{value.name}" } }'
rm -rf "$WORK/savepoint"
measure run "$CLI" run "$WORK/run.yaml" --threads 2 --summary-json "$WORK/run.json"
grep -E "records read|addresses|time" "$WORK/run.out" | sed 's/^/   /'
READ_PHASE="$(python3 -c "import json; print(json.load(open('$WORK/run.json'))['read_seconds'])")"

AVRO="${SFB_BENCH_AVRO:-1}"
if [[ "$AVRO" == 1 ]]; then
  echo "== Avro through the schema registry: starting the registry (tests/registry/registry.sh)"
  REGISTRY_PORT="$(free_port)"
  REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
  bash tests/registry/registry.sh build > /dev/null
  bash tests/registry/registry.sh run "$REGISTRY_PORT" "$$" > "$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 1 240); do
    python3 -c "import urllib.request; urllib.request.urlopen('$REGISTRY_URL/subjects', timeout=2)" 2>/dev/null && break
    kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$WORK/registry.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "== producing the same $MESSAGES users as Avro (confluent-kafka AvroSerializer) into bench-avro"
  "$TOOL" create-topic --brokers "$BROKERS" --topic bench-avro --partitions "$PARTITIONS"
  python3 - "$USERS_CSV" "$MESSAGES" "$BROKERS" "$REGISTRY_URL" <<'PY'
import csv, json, sys
import confluent_kafka
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
users, n, brokers, url = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
schema = {"type": "record", "name": "User", "namespace": "bench", "fields": [
    {"name": "id", "type": "string"}, {"name": "name", "type": "string"}, {"name": "visits", "type": "int"}]}
serialize = AvroSerializer(SchemaRegistryClient({"url": url}), json.dumps(schema))
context = SerializationContext("bench-avro", MessageField.VALUE)
producer = confluent_kafka.Producer({"bootstrap.servers": brokers, "linger.ms": 50, "batch.num.messages": 10000,
                                     "queue.buffering.max.messages": 1000000})
with open(users, newline="") as f:
    rows = csv.reader(f)
    next(rows)
    for i, (uid, name, visits, *_) in enumerate(rows):
        if i >= n:
            break
        value = serialize({"id": uid, "name": name, "visits": int(visits)}, context)
        while True:
            try:
                producer.produce("bench-avro", key=uid.encode(), value=value)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
assert producer.flush(120) == 0
PY
  AVRO_VALUE="{ format: avro, registry: { url: \"$REGISTRY_URL\" } }"
  echo "== plain librdkafka consume of bench-avro to /dev/null"
  measure avro_librdkafka "$TOOL" consume --brokers "$BROKERS" --topic bench-avro
  echo "== statefun-bootstrap, read only, Avro"
  job "$WORK/avro-read-only.yaml" \
    '  - { from: events, to: bench/user, id: "{value.id}", where: "{offset} == -1", set: { visits: "{value.visits}" } }' \
    bench-avro "$AVRO_VALUE"
  rm -rf "$WORK/savepoint"
  measure avro_read_only "$CLI" run "$WORK/avro-read-only.yaml" --threads 2 --summary-json "$WORK/avro_read_only.json"
  echo "== statefun-bootstrap run, Avro"
  job "$WORK/avro-run.yaml" \
    '  - { from: events, to: bench/user, id: "{value.id}", set: { visits: "{value.visits}", name: "{value.name}" } }' \
    bench-avro "$AVRO_VALUE"
  rm -rf "$WORK/savepoint"
  measure avro_run "$CLI" run "$WORK/avro-run.yaml" --threads 2 --summary-json "$WORK/avro_run.json"
  # the same users, the same job: the same counts, or the comparison means nothing
  python3 - "$WORK/run.json" "$WORK/avro_run.json" <<'PY'
import json, sys
json_run, avro_run = (json.load(open(p)) for p in sys.argv[1:])
for key in ("records_read", "addresses"):
    if json_run.get(key) != avro_run.get(key):
        sys.exit(f"the Avro run's {key} {avro_run.get(key)} differs from the JSON run's {json_run.get(key)}")
PY
  AVRO_READ_PHASE="$(python3 -c "import json; print(json.load(open('$WORK/avro_run.json'))['read_seconds'])")"
fi

if [[ -n "$EVENTS_CSV" ]]; then
  EVENTS="$(($(wc -l < "$EVENTS_CSV") - 1))"
  echo "== producing the $EVENTS events of $EVENTS_CSV into bench-events ($PARTITIONS partitions)"
  "$TOOL" create-topic --brokers "$BROKERS" --topic bench-events --partitions "$PARTITIONS"
  awk -F, 'NR > 1 {printf "{\"topic\":\"bench-events\",\"key\":\"%s\",\"value\":\"{\\\"user\\\":\\\"%s\\\",\\\"amount\\\":%s,\\\"ts\\\":%s,\\\"page\\\":\\\"%s\\\"}\"}\n", $1, $1, $2, $3, $4}' \
    "$EVENTS_CSV" | "$TOOL" produce --brokers "$BROKERS"
  echo "== plain librdkafka consume of bench-events to /dev/null"
  measure events_librdkafka "$TOOL" consume --brokers "$BROKERS" --topic bench-events
  cat > "$WORK/events.yaml" <<JOB
savepoint: { path: $WORK/savepoint, max_parallelism: 128, parallelism: 2 }
functions:
  bench/user:
    states:
      events: { type: java.lang.Long }
      amount: { type: java.lang.Long }
      last_ts: { type: java.lang.Long }
      page: { type: java.lang.String }
      name: { type: java.lang.String }
sources:
  users: { file: { path: $EVENTS_USERS_CSV } }
  events: { kafka: { brokers: "$BROKERS", topics: [bench-events], progress: 30s, value: json } }
routes:
  - { from: users, to: bench/user, id: "{id}", set: { name: "{name}" } }
  - from: events
    to: bench/user
    id: "{value.user}"
    merge: { events: count, amount: sum(value.amount), last_ts: max(value.ts), page: last(value.page) }
JOB
  for mode in replayed combined; do
    flags=()
    [[ $mode == combined ]] && flags=(--combine-early)
    echo "== statefun-bootstrap run of the events job, $mode"
    rm -rf "$WORK/savepoint"
    measure "events_$mode" "$CLI" run "$WORK/events.yaml" --threads 2 "${flags[@]}" \
      --summary-json "$WORK/events_$mode.json"
    mv "$WORK/savepoint" "$WORK/events_$mode"
  done
  # replayed or combined early, the same state: the same bytes
  for f in "$WORK/events_replayed"/keyed-state-functions-*; do
    cmp -s "$f" "$WORK/events_combined/$(basename "$f")" ||
      { echo "the events job's $(basename "$f") differs between replayed and --combine-early" >&2; exit 1; }
  done
fi

echo
echo "Kafka replay of $MESSAGES messages ($PARTITIONS partitions), $(nproc) cores, librdkafka" \
     "$(pkg-config --modversion rdkafka), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "| %-46s | %8s | %11s | %8s | %10s | %8s | %8s | %13s |\n" "" "seconds" "messages/s" "CPU s" "CPU µs/msg" \
       "× plain" "peak RSS" "broker µs/msg"
printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n" "------------------------------------------------" "---------:" "------------:" \
       "---------:" "-----------:" "---------:" "---------:" "--------------:"
row() {  # row LABEL NAME PLAIN: "× plain" is CPU per message over that of plain consume PLAIN (same topic)
  printf "| %-46s | %8.2f | %11s | %8.2f | %10.2f | %8.1f | %5d MB | %13.2f |\n" "$1" "${WALL[$2]}" \
    "$(rate "$MESSAGES" "${WALL[$2]}")" "${CPU[$2]}" "$(python3 -c "print(${CPU[$2]} * 1e6 / $MESSAGES)")" \
    "$(python3 -c "print(${CPU[$2]} / ${CPU[$3]})")" "$(( ${RSS[$2]} / 1024 ))" \
    "$(python3 -c "print(${BROKER_CPU[$2]} * 1e6 / $MESSAGES)")"
}
phase() {  # phase LABEL SECONDS
  printf "| %-46s | %8.2f | %11s | %8s | %10s | %8s | %8s | %13s |\n" "$1" "$2" "$(rate "$MESSAGES" "$2")" "" "" "" "" ""
}
row "plain librdkafka consume to /dev/null" librdkafka librdkafka
row "kcat -C -e to /dev/null" kcat librdkafka
row "statefun-bootstrap, read only" read_only librdkafka
row "statefun-bootstrap run" run librdkafka
phase "statefun-bootstrap run, read phase" "$READ_PHASE"
if [[ "$AVRO" == 1 ]]; then
  row "Avro: plain librdkafka consume to /dev/null" avro_librdkafka avro_librdkafka
  row "Avro (registry): statefun-bootstrap, read only" avro_read_only avro_librdkafka
  row "Avro (registry): statefun-bootstrap run" avro_run avro_librdkafka
  phase "Avro (registry): run, read phase" "$AVRO_READ_PHASE"
fi
if [[ -n "$EVENTS_CSV" ]]; then
  # per event of the topic (the users file's rows, one per address, are read too)
  USERS_MESSAGES="$MESSAGES"
  MESSAGES="$EVENTS"
  row "Events: plain librdkafka consume to /dev/null" events_librdkafka events_librdkafka
  row "Events: statefun-bootstrap run, replayed" events_replayed events_librdkafka
  row "Events: statefun-bootstrap run, --combine-early" events_combined events_librdkafka
  MESSAGES="$USERS_MESSAGES"
fi
