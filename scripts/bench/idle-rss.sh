#!/usr/bin/env bash
# idle-rss.sh — settled RSS of N connected, idle `layerswarm node` processes started through a launcher.
#
# Usage: scripts/bench/idle-rss.sh [LAUNCHER] [N] [EXTRA_JVM_OPTS]
#   LAUNCHER        default samples/daemon/target/layerswarm (so its default JVM options apply)
#   N               nodes, default 3: the first listens, the others bootstrap to it
#   EXTRA_JVM_OPTS  passed as LAYERSWARM_JAVA_OPTS_EXTRA, e.g. "-XX:TrimNativeHeapInterval=5000"
# The upstream registry is an unreachable loopback port: an idle node never asks it. Prints one line:
# the options, the 1-minute load average, and each node's VmRSS 45 s after the last one started.
# Everything started here is stopped and its files deleted on exit.
set -euo pipefail
L="${1:-samples/daemon/target/layerswarm}"; N="${2:-3}"; EXTRA="${3:-}"
W=$(mktemp -d /tmp/idle-rss.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT INT TERM
first=""
for i in $(seq 0 $((N - 1))); do
  mkdir -p "$W/n$i"
  args=(node --listen /ip4/127.0.0.1/tcp/0 --mirror-listen 127.0.0.1:0 --cache-dir "$W/n$i/cache"
        --key "$W/n$i/node.key" --upstream http://127.0.0.1:9)
  if [ -n "$first" ]; then args+=(--bootstrap "$first"); fi
  LAYERSWARM_JAVA_OPTS_EXTRA="$EXTRA" "$L" "${args[@]}" > "$W/n$i/out.log" 2> "$W/n$i/err.log" & PIDS+=($!)
  if [ -z "$first" ]; then
    for _ in $(seq 1 300); do grep -q "^listening" "$W/n0/out.log" 2>/dev/null && break; sleep 0.2; done
    first=$(grep -o '/ip4/127.0.0.1/tcp/[0-9]*/p2p/[A-Za-z0-9]*' "$W/n0/out.log" | head -1)
    [ -n "$first" ] || { echo "error: node 0 did not start" >&2; cat "$W/n0/err.log" >&2; exit 1; }
  fi
done
sleep 45
out="EXTRA='$EXTRA' load=$(cut -d' ' -f1 /proc/loadavg) RSS MiB:"
for p in "${PIDS[@]}"; do out="$out $(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$p/status")"; done
echo "$out"
