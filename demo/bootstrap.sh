#!/bin/sh
# The demo's bootstrap step, as docker compose's `bootstrap` service and scripts/demo-local.sh run it:
# writes the savepoint, then installs the Kafka handoff (the module.yaml ingress statefun-bootstrap
# wrote next to the savepoint, starting at the offsets it read up to) as a statefun module.
#   bootstrap.sh JOB_YAML SAVEPOINT_DIR HANDOFF_MODULE_DIR
# STATEFUN_BOOTSTRAP: the CLI (default: statefun-bootstrap on the PATH).
set -eu
sfb=${STATEFUN_BOOTSTRAP:-statefun-bootstrap}
job=$1
savepoint=$2
handoff=$3

"$sfb" run "$job" --output "$savepoint" --overwrite
mkdir -p "$handoff"
if [ -f "$savepoint/kafka-ingress-events.yaml" ]; then
  cp "$savepoint/kafka-ingress-events.yaml" "$handoff/module.yaml"
  echo "bootstrap: Kafka handoff installed as $handoff/module.yaml:"
  grep -A4 'startupPosition' "$handoff/module.yaml"
else
  rm -f "$handoff/module.yaml"
  echo "bootstrap: no Kafka source in $job: no handoff module"
fi
# the statefun containers read both as another user
chmod -R a+rX "$savepoint" "$handoff"
"$sfb" inspect "$savepoint"
