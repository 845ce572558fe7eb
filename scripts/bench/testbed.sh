#!/usr/bin/env bash
# Deployment testbed (issue 12), scaled to one machine: 2 clusters x 4 workers, each worker a network namespace
# holding a real containerd (own root/socket/hosts.toml, runc) and, in the LayerSwarm rows, a `layerswarm
# node` with a cache capacity that containerd pulls through. Each worker's veth to its cluster's bridge is
# shaped to 400 Mbit/s each way, the link between the two clusters' routers to 200 Mbit/s (tc tbf) with +10 ms
# round trip from scripts/bench/delay-line.py (this kernel has no netem); the real docker-registry behind an
# emulated uplink in the root namespace
# (UplinkEmulator: 100 Mbit/s shared by all connections, +50 ms round trip), routed from every worker.
# One 2-core machine cannot carry 8 workers' containerd + nodes at the seed's rates, so every rate (uplink,
# LAN, between clusters) is multiplied by --rate-scale (default 1/3: 33.3 / 133.3 / 66.7 Mbit/s); the ratios
# and the latencies stay the seed's.
# A trace-gen trace scaled to the testbed (bench/data/testbed-trace.jsonl) is replayed at its request times; each request is scheduled
# onto a worker of its cluster and deployed: `ctr images pull` + `ctr run --rm IMAGE /bin/true`.
# Deployment time = request time -> `ctr run` returned. Rows per cache size: baseline (registry pulls,
# ImageLocality + LeastAllocated, kubelet image GC 85/80 %), swarm (same scheduling, pulls through the
# nodes), full (swarm + the real `layerswarm scheduler-extender` over HTTP, filter + prioritize + bind),
# preheat (full, and the extender's bind preheats the chosen node at once, unless the node's cache cannot
# hold the image beside its queued pods' layers), refactored (preheat with the images rebuilt by
# `layerswarm refactor apply --mode path`: the full system). The driver reports each pod's start to the
# extender (its `started` verb), so a pod stops counting as queued on its node once it runs.
# Cache sizes are the seed's (0 / 500 MB / 1 GB / 2 GB per worker), scaled by --cache-scale because the
# corpus images are smaller than the seed's (BENCHMARKS.md); every mode runs at --grid-cache (500MB), the
# others only baseline and the full system (refactored). To fit the grid in 30 minutes here the first 29
# of the trace's 40 requests are replayed (0-81 s of its 120 s; --requests 40 for all of them), the baseline
# rows run two at a time, each pair with a registry and uplink of its own (bound by the uplink, they leave
# the CPU mostly idle; --baseline-lanes 1: one after the other), and the LayerSwarm rows' node JVMs map a
# CDS archive of the node's classes written once before the rows (--no-class-archive: without).
# Prints a Markdown table, writes target/testbed/results.tsv and target/testbed/deploy-time.png (gnuplot).
#
# Usage: scripts/bench/testbed.sh [--quick] [--seed N] [--caches 0,500MB,1GB,2GB] [--cache-scale F]
#            [--modes baseline,swarm,full,preheat,refactored] [--grid-cache 500MB] [--requests 29] [--clusters 2]
#            [--workers 4] [--rate-scale 0.3333333] [--uplink-mbps 100] [--uplink-latency-ms 50] [--lan-mbps 400]
#            [--inter-cluster-mbps 200] [--inter-cluster-rtt-ms 10] ...
#   --quick     the first 12 requests of the trace (8 within 4 s, then 4 within 3 s at 28-30 s), cache
#               500MB only
#   --seed N    a fresh trace from `layerswarm trace-gen --seed N` instead of the committed one (seed 42)
#   --warmup-mb N  before each LayerSwarm row's trace every worker pulls (then removes) a generated N MiB image
#               through its node, so the node JVMs start the trace compiled, as long-running daemons are
#               (default 8, ~15 s per row here; 0: fresh JVMs; BENCHMARKS.md "Warm nodes")
#   --no-class-archive  without the CDS archive of the node's classes that one node writes before the rows
#               (it pulls the warm-up image once); by default every row's node JVMs map it and start faster
# Other flags go to the driver (io.layerswarm.daemon.bench.TestbedBench --help).
# Env: SKIP_BUILD=1 (reuse the built jar and classes), JAVA, LAYERSWARM_JAVA_OPTS (node JVMs).
# Needs root, containerd, runc, docker-registry, skopeo, gnuplot, ip + tc (iproute2), nsenter, python3
# (scripts/install-system-packages.sh). The run's network namespaces are named lstbPID-* (--net-tag). The
# corpus images are built on first use (scripts/corpus/build-corpus.sh --only ...). Everything started
# here is stopped and its files deleted on exit, also on failure or Ctrl-C; node and extender logs are
# kept in samples/daemon/target/testbed-logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

CORPUS="${HOME}/.cache/layerswarm/testbed-corpus"
# most popular first: the trace's images map onto these by popularity rank (TestbedTrace)
IMAGES=(nginx:1.22 redis:7.0 python:3.11 flask-app:1 memcached:1.6 curl:7.88 haproxy:2.6 flask-app:2 nginx:1.22-r0
  redis:7.0-r0)
TRACE=bench/data/testbed-trace.jsonl
SEED=""
ARGS=()
REQUESTS=29
CACHES="0,500MB,1GB,2GB"
CACHE_SCALE=0.1
GRID=500MB
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) REQUESTS=12; CACHES=500MB; shift ;;
    --requests) REQUESTS="${2:?--requests needs a number}"; shift 2 ;;
    --cache-scale) CACHE_SCALE="${2:?--cache-scale needs a factor}"; shift 2 ;;
    --grid-cache) GRID="${2:?--grid-cache needs a size}"; shift 2 ;;
    --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
    --caches) CACHES="${2:?--caches needs sizes}"; shift 2 ;;
    --corpus) CORPUS="${2:?--corpus needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "error: containerd needs root" >&2; exit 2; }
for tool in containerd ctr runc docker-registry skopeo jq gnuplot ip tc nsenter python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/install-system-packages.sh)" >&2; exit 2; }
done

missing=()
for i in "${IMAGES[@]}"; do
  if ! { [ -f "$CORPUS/corpus.json" ] && jq -e --arg r "$i" '.images[] | select(.ref == $r)' "$CORPUS/corpus.json" >/dev/null; }; then
    missing+=(--only "$i")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "building corpus images ${missing[*]} into $CORPUS" >&2
  bash scripts/corpus/build-corpus.sh --set full --out "$CORPUS" "${missing[@]}" >&2
fi

CP_FILE=target/testbed.cp
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  mvn -B -q -pl samples/daemon -am -DskipTests package \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
CP="samples/daemon/target/test-classes:samples/daemon/target/classes:$(cat "samples/daemon/$CP_FILE")"
OUT=samples/daemon/target/testbed
mkdir -p "$OUT"

WORK=$(mktemp -d /tmp/ls-testbed.XXXXXX)
NET_TAG="lstb$(( $$ % 100000 ))"   # this run's network namespaces NET_TAG-*, removed by bench_cleanup
BENCH_PID=""
. scripts/bench/bench-cleanup.sh
trap bench_cleanup EXIT INT TERM

if [ -n "$SEED" ]; then
  TRACE="$OUT/testbed-trace-seed$SEED.jsonl"
  "${JAVA:-java}" -jar samples/daemon/target/layerswarm.jar trace-gen --base-images bench/data/corpus-images.json \
      --seed "$SEED" --nodes 4 --requests 2000 --out-trace "$WORK/raw.jsonl" --out-images "$WORK/raw-images.json"
  "${JAVA:-java}" -cp "$CP" io.layerswarm.daemon.bench.TestbedTraceCommand --trace "$WORK/raw.jsonl" --out "$TRACE" \
      --requests 40 --span-s 120 --clusters 2 --images "$(IFS=,; echo "${IMAGES[*]}")"
fi

rm -f "$OUT/results.tsv" "$OUT"/results-*.tsv   # a failed run must not plot an earlier one
START=$(date +%s)
"${JAVA:-java}" -Xmx512m -cp "$CP" io.layerswarm.daemon.bench.TestbedBench \
    --corpus "$CORPUS" --trace "$TRACE" --caches "$CACHES" --cache-scale "$CACHE_SCALE" \
    --grid-cache "$GRID" --requests "$REQUESTS" --launcher "$ROOT/samples/daemon/target/layerswarm" \
    --net-tag "$NET_TAG" --delay-line "$ROOT/scripts/bench/delay-line.py" --work "$WORK" --logs "$ROOT/samples/daemon/target/testbed-logs" --results "$OUT/results.tsv" "${ARGS[@]}" &
BENCH_PID=$!
RC=0
wait "$BENCH_PID" || RC=$?   # 1: some deployment failed; the table and plot are still written
BENCH_PID=""
echo "run time: $(( $(date +%s) - START )) s"
[ -s "$OUT/results.tsv" ] || exit "$RC"

PLOTTED=""
for m in baseline swarm full preheat refactored; do
  # sorted by cache size: gnuplot joins the points in file order
  awk -F'\t' -v m="$m" '$2 == m' "$OUT/results.tsv" | sort -n -k1,1 > "$OUT/results-$m.tsv"
  if [ -s "$OUT/results-$m.tsv" ]; then PLOTTED="$PLOTTED $m"; fi
done
gnuplot <<GP
set terminal pngcairo size 800,500
set output "$OUT/deploy-time.png"
set title "Testbed: mean deployment time vs cache size per worker"
set xlabel "cache per worker, nominal (MB; the testbed gives x $CACHE_SCALE)"
set ylabel "mean deployment time (s)"
set key top right
set xtics ("0" 0, "500 MB" 500, "1 GB" 1000, "2 GB" 2000)
set grid
set offsets graph 0.05, graph 0.05, graph 0.05, 0
set yrange [0:*]
set datafile separator "\t"
plot for [m in "${PLOTTED# }"] "$OUT/results-".m.".tsv" using 1:3 with linespoints lw 2 title m
GP
echo "plot: $OUT/deploy-time.png"
exit "$RC"
