#!/usr/bin/env bash
# The events workload's data: N events over U users, as CSV with a header,
#   "user,amount,ts,page" = "user-<(i*7919) % U>,<(i*13) % 1000>,<1700000000000 + i>,/page/<(i*31) % 100>"
# so every user has about N/U events spread over the whole file (positions interleave across splits), and
# the users file beside it is bench/generate-users.sh U (the same "user-<i>" ids).
#   bench/generate-events.sh N U > events.csv
set -euo pipefail
awk -v n="${1:?usage: generate-events.sh N U}" -v u="${2:?usage: generate-events.sh N U}" \
  'BEGIN{print "user,amount,ts,page"; for(i=0;i<n;i++) printf "user-%d,%d,%.0f,/page/%d\n", (i*7919)%u, (i*13)%1000, 1700000000000+i, (i*31)%100}'
