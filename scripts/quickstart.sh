#!/usr/bin/env bash
# The one command to try statefun-bootstrap on a fresh machine: installs what is missing, builds, and
# bootstraps a savepoint from the bundled sample data (examples/greeter), then shows what is in it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> installing dependencies (Debian packages; skipped when present)"
SFB_SKIP_JAVA=1 ./scripts/install-deps.sh
echo "==> building"
./scripts/build.sh
SFB="${SFB_BUILD_DIR:-build}/statefun-bootstrap"
echo "==> bootstrapping examples/greeter/job.yaml"
"$SFB" run examples/greeter/job.yaml --output out/greeter-savepoint --overwrite
echo
echo "==> the savepoint is at $(pwd)/out/greeter-savepoint; what is in it:"
"$SFB" inspect out/greeter-savepoint
echo
echo "==> state of one address:"
"$SFB" get out/greeter-savepoint example/greeter/alice --spec examples/greeter/job.yaml
echo
echo "Start the application from it with: flink run -s $(pwd)/out/greeter-savepoint ..."
