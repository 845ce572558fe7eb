#!/usr/bin/env bash
# Start-up cost of N `layerswarm node` JVMs started at once on loopback, as the testbed starts a row's 8
# workers: wall time until every node logged event=node_started, and the JVMs' CPU time (utime + stime) at
# that moment. With --archive FILE the nodes map a CDS archive of the node's classes; when FILE does not
# exist, one node first starts and stops with -XX:ArchiveClassesAtExit=FILE to write it (start-up classes
# only; the testbed's archive also holds those of one pull). No upstream traffic: the upstream is a closed port.
#
# Usage: scripts/bench/node-start.sh [--nodes 8] [--runs 2] [--archive FILE]
# Needs samples/daemon/target/layerswarm (mvn -B -q -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/../.."
LAUNCHER=samples/daemon/target/layerswarm
NODES=8
RUNS=2
ARCHIVE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES="${2:?--nodes needs a number}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
    --archive) ARCHIVE="${2:?--archive needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$LAUNCHER" ] || { echo "error: $LAUNCHER missing (mvn -B -q -DskipTests package)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/ls-node-start.XXXXXX)
PIDS=()
cleanup() {
  if [ ${#PIDS[@]} -gt 0 ]; then kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# starts node $1 in $WORK/$1 with extra JVM options $2; its pid (the JVM: the launcher execs java) in PIDS
start_node() {
  mkdir -p "$WORK/$1"
  LAYERSWARM_JAVA_OPTS_EXTRA="$2" LAYERSWARM_LOG_LEVEL=INFO "$LAUNCHER" node --listen /ip4/127.0.0.1/tcp/0 \
      --mirror-listen 127.0.0.1:0 --cache-dir "$WORK/$1/cache" --key "$WORK/$1/node.key" \
      --upstream http://127.0.0.1:1 > "$WORK/$1/out" 2> "$WORK/$1/err" &
  PIDS+=($!)
}

# waits (60 s at most) until $2 nodes under $WORK/$1* logged node_started
await_started() {
  local deadline=$(( $(date +%s) + 60 ))
  while [ "$(grep -l "event=node_started" "$WORK"/$1*/err 2>/dev/null | wc -l)" -lt "$2" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      # the work directory goes with the exit trap: show the end of each log now
      echo "error: nodes did not start in 60 s" >&2
      tail -n 5 "$WORK"/$1*/err >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

OPTS=""
if [ -n "$ARCHIVE" ]; then
  if [ ! -f "$ARCHIVE" ]; then
    start_node archive "-XX:ArchiveClassesAtExit=$ARCHIVE"
    await_started archive 1
    kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()   # the JVM writes the archive as it exits
    [ -s "$ARCHIVE" ] || { echo "error: no archive written to $ARCHIVE" >&2; exit 1; }
    echo "archive: $ARCHIVE, $(stat -c %s "$ARCHIVE") bytes"
  fi
  OPTS="-XX:SharedArchiveFile=$ARCHIVE -Xlog:disable -Xlog:all=warning:stderr"
fi

TICK=$(getconf CLK_TCK)
for run in $(seq 1 "$RUNS"); do
  t0=$(date +%s%N)
  for i in $(seq 1 "$NODES"); do start_node "r$run-n$i" "$OPTS"; done
  await_started "r$run-n" "$NODES"
  t1=$(date +%s%N)
  ticks=0
  for p in "${PIDS[@]}"; do
    # fields 14 and 15 of /proc/PID/stat (after the parenthesised command name): utime, stime
    read -r ut st < <(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12, $13}')
    ticks=$(( ticks + ut + st ))
  done
  kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()
  awk -v n="$NODES" -v w="$(( (t1 - t0) / 1000000 ))" -v t="$ticks" -v hz="$TICK" -v a="${ARCHIVE:-none}" \
      'BEGIN { printf "run: %d nodes started in %.2f s wall, %.1f CPU-s, archive %s\n", n, w / 1000, t / hz, a }'
done
