#!/usr/bin/env bash
# containerd fan-out (issue 16): N containerd instances pull one corpus image at once, (a) straight from
# the registry and (b) each through its own `layerswarm node` mirror (hosts.toml), the real
# docker-registry behind an emulated uplink (UplinkEmulator: 100 Mbit/s shared by all connections, +50 ms
# round trip). Both modes in one run; prints per-instance times (fetched = all content in containerd,
# pulled+unpacked = `ctr images pull` done), all-done times against S/B, registry blob bytes, and node
# RSS (settled before the pull, peak = VmHWM) from /proc. Nodes start through the launcher
# samples/daemon/target/layerswarm, so LAYERSWARM_JAVA_OPTS applies to them.
#
# Usage: scripts/bench/containerd-fanout.sh [--corpus DIR] [--image nginx:1.22] [--instances 4]
#            [--uplink-mbps 100] [--uplink-latency-ms 50] [--rounds 1] [--modes direct,swarm]
#            [--warmup | --warmup-image NAME:TAG]
# Env: SKIP_BUILD=1 (reuse the built jar and classes), JAVA, LAYERSWARM_JAVA_OPTS (node JVMs),
#      LAYERSWARM_CONTAINERD_SNAPSHOTTER (default: overlayfs where containerd can use it, else native).
# Needs root, containerd, runc, docker-registry, skopeo (scripts/install-system-packages.sh). The corpus
# image is built on first use (scripts/corpus/build-corpus.sh --only). Everything started here is stopped
# and its files deleted on exit, also on failure or Ctrl-C; node logs are kept in
# samples/daemon/target/containerd-fanout-logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

CORPUS="${HOME}/.cache/layerswarm/bench-corpus-full"
IMAGE="nginx:1.22"
WARM=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) CORPUS="${2:?--corpus needs a directory}"; shift 2 ;;
    --image) IMAGE="${2:?--image needs NAME:TAG}"; ARGS+=(--image "$2"); shift 2 ;;
    --warmup-image) WARM="${2:?--warmup-image needs NAME:TAG}"; ARGS+=(--warmup-image "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "error: containerd needs root" >&2; exit 2; }
for tool in containerd ctr runc docker-registry skopeo; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/install-system-packages.sh)" >&2; exit 2; }
done

for img in "$IMAGE" ${WARM:+"$WARM"}; do
  if ! { [ -f "$CORPUS/corpus.json" ] && jq -e --arg r "$img" '.images[] | select(.ref == $r or (.name + ":" + .tag) == $r)' \
      "$CORPUS/corpus.json" >/dev/null; }; then
    echo "building corpus image $img into $CORPUS" >&2
    bash scripts/corpus/build-corpus.sh --set full --out "$CORPUS" --only "$img" >&2
  fi
done

CP_FILE=target/containerd-fanout.cp
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  mvn -B -q -pl samples/daemon -am -DskipTests package \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
CP="samples/daemon/target/test-classes:samples/daemon/target/classes:$(cat "samples/daemon/$CP_FILE")"

WORK=$(mktemp -d /tmp/ls-ctrd-bench.XXXXXX)
BENCH_PID=""
. scripts/bench/bench-cleanup.sh
trap bench_cleanup EXIT INT TERM

"${JAVA:-java}" -Xmx512m -cp "$CP" io.layerswarm.daemon.bench.ContainerdFanOutBench \
    --corpus "$CORPUS" --launcher "$ROOT/samples/daemon/target/layerswarm" --work "$WORK" \
    --logs "$ROOT/samples/daemon/target/containerd-fanout-logs" "${ARGS[@]}" &
BENCH_PID=$!
wait "$BENCH_PID"
