#!/usr/bin/env bash
# The benchmarks' data: N users as CSV with a header, "id,name,visits" = "user-<i>,Name <i>,<(i*7) % 1000>".
# bench/run.py writes it once and hands it to the PostgreSQL (COPY) and Kafka (one message per user)
# benchmarks, so every source is measured on the same rows; run alone, those scripts call this too.
#   bench/generate-users.sh N > users.csv
set -euo pipefail
awk -v n="${1:?usage: generate-users.sh N}" \
  'BEGIN{print "id,name,visits"; for(i=0;i<n;i++) printf "user-%d,Name %d,%d\n", i, i, (i*7)%1000}'
