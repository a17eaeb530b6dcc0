#!/usr/bin/env bash
# Benchmarks statefun-bootstrap against its baselines on the same generated data, in one run:
#   - reading the input file once (the source's limit), statefun-bootstrap from the file (1 and 2 threads),
#   - Flink's own StatefulFunctionsSavepointCreator (statefun 3.3.0 / Flink 1.16.2) writing the same state,
#   - the PostgreSQL and Kafka benchmarks (bench/postgres, bench/kafka: raw COPY and a plain librdkafka
#     consume against the connectors, on the same table/topic), unless --skip-connectors.
# Prints a table of wall time, records/s, CPU time, peak RSS and ratios, and writes bench/RESULTS.md.
#   bench/run.sh                      1M and 10M rows
#   bench/run.sh --rows 100000 --smoke   the quick run scripts/test.sh does
#   bench/run.sh --with-50m           also 50M rows
# It is not a test: numbers depend on the machine and what else runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/run.py "$@"
