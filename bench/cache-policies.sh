#!/usr/bin/env bash
# cache-policies.sh — the "Layer cache policies" benchmark of BENCHMARKS.md.
# Derives the benchmark images and trace from the real corpus (seeded, deterministic), then replays
# the trace with every policy at 0, 500 MB, 1 GB and 2 GB per node on 8 nodes, in one run.
# Usage: bench/cache-policies.sh [--json]   (after: mvn -B -q -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=samples/daemon/target/layerswarm.jar
[ -f "$JAR" ] || { echo "cache-policies: build first: mvn -B -q -DskipTests package" >&2; exit 1; }
java -jar "$JAR" trace-gen --base-images bench/data/corpus-images.json --seed 42 --nodes 8 --requests 40000 \
  --out-trace bench/data/cache-trace.jsonl --out-images bench/data/cache-images.json
java -jar "$JAR" cache-sim --trace bench/data/cache-trace.jsonl --images bench/data/cache-images.json \
  --nodes 8 --capacity 0,500MB,1GB,2GB --policy all "$@"
