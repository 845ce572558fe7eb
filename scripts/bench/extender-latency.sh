#!/usr/bin/env bash
# Scheduler extender per-call latency (issue 11): kube-scheduler's filter + prioritize over HTTP against
# the real extender stack (HTTP server, scheduling engine, registry layer resolver) with a view of N nodes
# and images of M layers, resolved from the real docker-registry behind an emulated uplink
# (UplinkEmulator: 100 Mbit/s, +50 ms round trip by default). Prints p50/p99/max of cold calls (image not
# resolved yet) and warm calls, and the first call of the JVM. No root needed.
#
# Usage: scripts/bench/extender-latency.sh [--nodes 100] [--layers 20] [--images 10] [--warm-calls 300]
#            [--resolve-budget-ms N] [--scoring layer-network] [--uplink-mbps 100] [--uplink-latency-ms 50]
#            [--churn-ms N]  (replace one node's status every N ms, as a live cluster's records do)
#            [--engine-calls N]  (then N calls straight into the scheduling engine: the scoring alone)
# Env: SKIP_BUILD=1 (reuse the built classes), JAVA. Needs docker-registry (scripts/install-system-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
command -v docker-registry >/dev/null || { echo "error: docker-registry is missing (scripts/install-system-packages.sh)" >&2; exit 2; }

CP_FILE=target/extender-latency.cp
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  mvn -B -q -o -pl samples/daemon -am -DskipTests test-compile \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
CP="samples/daemon/target/test-classes:samples/daemon/target/classes:$(cat "samples/daemon/$CP_FILE")"
exec "${JAVA:-java}" -Xmx512m -cp "$CP" io.layerswarm.daemon.bench.ExtenderLatencyBench "$@"
