#!/usr/bin/env bash
# Benchmark (not a test): `statefun-bootstrap run` reading a PostgreSQL table, next to a plain
# `COPY (SELECT ...) TO STDOUT` of the same columns to /dev/null, with 1 and 2 workers.
#
#   bench/postgres/bench.sh [ROWS] [USERS_CSV]        (default 10000000)
#
# Starts a throwaway cluster (tests/postgres/cluster.sh), loads ROWS users with COPY from USERS_CSV (the
# file benchmark's users, bench/run.py; generated the same way when not given: id text primary key,
# name text, visits bigint), and prints rows/s for:
#   copy-text       psql COPY ... TO STDOUT (text format) > /dev/null; 2 workers = two ctid halves at once
#   copy-binary     the same in binary format (the connector reads text: see README.md, "COPY format")
#   read-only       statefun-bootstrap run whose route drops every row: the connector's reading alone
#   run             statefun-bootstrap run of the file benchmark's job (one address per user, visits and
#                   name as embedded Long and String) writing the savepoint (rows/s over the whole run,
#                   and over its read phase)
# Environment: SFB_BUILD_DIR (default build), BENCH_KEEP=1 keeps the cluster and prints its directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-10000000}
USERS_CSV=${2:-}
BUILD=${SFB_BUILD_DIR:-build}
CLI="$BUILD/statefun-bootstrap"
CLUSTER=tests/postgres/cluster.sh
[[ -x "$CLI" ]] || { echo "build first: $CLI is missing" >&2; exit 1; }

DIR=$("$CLUSTER" start)
WORK=$(mktemp -d /tmp/sfb-pg-bench.XXXXXX)
cleanup() {
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "cluster kept in $DIR"; else "$CLUSTER" stop "$DIR"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(cat "$DIR/port")
export SFB_BENCH_PASSWORD=$(cat "$DIR/superuser.pw")
psql_() { "$CLUSTER" psql "$DIR" -d bench "$@"; }

if [[ -z "$USERS_CSV" ]]; then
  USERS_CSV="$WORK/users.csv"
  bench/generate-users.sh "$ROWS" > "$USERS_CSV"
fi
echo "== loading $ROWS users with COPY from $USERS_CSV"
"$CLUSTER" psql "$DIR" -c "CREATE DATABASE bench"
t0=$(date +%s.%N)
psql_ -c "CREATE TABLE users (id text, name text, visits bigint)"
head -n "$((ROWS + 1))" "$USERS_CSV" | psql_ -c "COPY users FROM STDIN WITH (FORMAT csv, HEADER true)"
psql_ -c "ALTER TABLE users ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE users"
echo "   loaded in $(python3 -c "print(round($(date +%s.%N) - $t0))") s; $(psql_ -At -c "SELECT pg_size_pretty(pg_relation_size('users'))") heap"
PAGES=$(psql_ -At -c "SELECT pg_relation_size('users') / current_setting('block_size')::int")
HALF=$((PAGES / 2))
COLS="id, name, visits"
psql_ -c "COPY (SELECT $COLS FROM users) TO STDOUT" >/dev/null  # warm the cache

rate() { python3 -c "print(f'{$ROWS / $1:,.0f}')"; }
# CPU seconds (user + system) a process has used with its reaped children: the postmaster reaps every
# backend, so its count grows by what the server spent on a command's connections.
CLK_TCK=$(getconf CLK_TCK)
POSTMASTER=$(head -n 1 "$DIR/data/postmaster.pid")
cpu_of() { awk -v tck="$CLK_TCK" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / tck }' "/proc/$1/stat"; }
sleep 1  # the warm-up's backend exits
BACKGROUND=$(pgrep -c -P "$POSTMASTER")  # checkpointer, walwriter, autovacuum launcher, ...
timed() {  # timed NAME COMMAND...: prints the seconds COMMAND takes; $WORK/NAME.cpu gets our and the server's µs per row
  local name=$1 me=$BASHPID s e c0 c1 p0 p1
  shift
  c0=$(cpu_of "$me"); p0=$(cpu_of "$POSTMASTER"); s=$(date +%s.%N)
  "$@"
  e=$(date +%s.%N); c1=$(cpu_of "$me")
  # A backend exits after its client has gone, and counts for the postmaster only once it is reaped:
  # wait (up to 5 s) until the postmaster has no more children than its background processes.
  for _ in $(seq 1 50); do
    (( $(pgrep -c -P "$POSTMASTER") <= BACKGROUND )) && break
    sleep 0.1
  done
  p1=$(cpu_of "$POSTMASTER")
  echo "$(python3 -c "print(($c1 - $c0) * 1e6 / $ROWS)") $(python3 -c "print(($p1 - $p0) * 1e6 / $ROWS)")" \
    > "$WORK/$name.cpu"
  python3 -c "print($e - $s)"
}
cpu_cells() {  # cpu_cells NAME1 NAME2: "ours / server" µs per row for the 1- and 2-worker runs
  local a b c d
  read -r a b < "$WORK/$1.cpu"; read -r c d < "$WORK/$2.cpu"
  printf '%12s %12s' "$(printf '%.2f / %.2f' "$a" "$b")" "$(printf '%.2f / %.2f' "$c" "$d")"
}
copy_one() { psql_ -c "COPY (SELECT $COLS FROM users) TO STDOUT $1" >/dev/null; }
copy_two() {
  psql_ -c "COPY (SELECT $COLS FROM users WHERE ctid < '($HALF,0)'::tid) TO STDOUT $1" >/dev/null &
  psql_ -c "COPY (SELECT $COLS FROM users WHERE ctid >= '($HALF,0)'::tid) TO STDOUT $1" >/dev/null &
  wait
}

job() {  # job WORKERS ROUTE_FILTER
  cat >"$WORK/job.yaml" <<JOB
savepoint: { path: $WORK/sp, max_parallelism: 128, parallelism: 2 }
functions:
  bench/user:
    states:
      visits: { type: java.lang.Long }
      name: { type: java.lang.String }
sources:
  users:
    postgres:
      host: 127.0.0.1
      port: $PORT
      database: bench
      user: postgres
      password: \${SFB_BENCH_PASSWORD}
      table: public.users
      columns: [id, name, visits]
      workers: $1
routes:
  - from: users
    to: bench/user
    id: "{id}"
    where: "$2"
    set: { visits: "{visits}", name: "{name}" }
JOB
}
ours() {  # ours NAME WORKERS FILTER -> "total_seconds read_seconds"
  job "$2" "$3"
  timed "$1" "$CLI" run "$WORK/job.yaml" --threads "$2" --overwrite --quiet --summary-json "$WORK/summary.json" >/dev/null
  python3 -c "import json; s = json.load(open('$WORK/summary.json')); print(s['seconds'], s['read_seconds'])"
}

printf '\n%-34s %12s %12s\n' "rows/s ($ROWS rows)" "1 worker" "2 workers"
for fmt in text binary; do
  opt=""; [[ $fmt == binary ]] && opt="(FORMAT binary)"
  one=$(timed "copy-$fmt-1" copy_one "$opt"); two=$(timed "copy-$fmt-2" copy_two "$opt")
  printf '%-34s %12s %12s\n' "COPY ($fmt) to /dev/null" "$(rate "$one")" "$(rate "$two")"
done
read -r t1 r1 < <(ours read-1 1 "{visits} == -1")
read -r t2 r2 < <(ours read-2 2 "{visits} == -1")
printf '%-34s %12s %12s\n' "statefun-bootstrap, read only" "$(rate "$t1")" "$(rate "$t2")"
read -r t1 r1 < <(ours run-1 1 "{visits} != -1")
read -r t2 r2 < <(ours run-2 2 "{visits} != -1")
printf '%-34s %12s %12s\n' "statefun-bootstrap run (whole run)" "$(rate "$t1")" "$(rate "$t2")"
printf '%-34s %12s %12s\n' "statefun-bootstrap run (read phase)" "$(rate "$r1")" "$(rate "$r2")"
echo "(machine: $(nproc) cores; server and client share them)"
printf '\nCPU µs per row, client / server    %12s %12s\n' "1 worker" "2 workers"
printf '%-34s %s\n' "COPY (text) to /dev/null (psql)" "$(cpu_cells copy-text-1 copy-text-2)"
printf '%-34s %s\n' "COPY (binary) to /dev/null (psql)" "$(cpu_cells copy-binary-1 copy-binary-2)"
printf '%-34s %s\n' "statefun-bootstrap, read only" "$(cpu_cells read-1 read-2)"
printf '%-34s %s\n' "statefun-bootstrap run" "$(cpu_cells run-1 run-2)"
echo "(server: the postmaster and the backends it reaped during each command)"
