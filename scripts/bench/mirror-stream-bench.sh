#!/usr/bin/env bash
# mirror-stream-bench.sh — time to first byte and pull time through one node's pull-through mirror
# for blobs nobody holds yet (every round starts a fresh node with an empty cache).
#
# Usage: [KEEP_LOGS=DIR] scripts/bench/mirror-stream-bench.sh JAR LAYOUT_DIR [ROUNDS] [MBPS] [RTT_MS]
#   JAR         the layerswarm.jar to measure (e.g. samples/daemon/target/layerswarm.jar)
#   LAYOUT_DIR  OCI layout of one corpus image (its first tag is pushed), e.g.
#               ~/.cache/layerswarm/bench-corpus-full/layouts/postgres_15
# The real docker-registry (loopback) holds the image behind our UplinkEmulator (MBPS, default 100,
# +RTT_MS, default 50). Per round, with a fresh node: curl the manifest, then the config blob and
# the largest layer through the mirror (time_starttransfer = first body byte, time_total), then
# skopeo copies the whole image through another fresh node's mirror. Direct rows: the same blobs
# straight from the emulated uplink (the registry RTT and transfer time to compare against).
set -euo pipefail
JAR="$(realpath "$1")"; LAYOUT="$(realpath "$2")"; ROUNDS="${3:-3}"; MBPS="${4:-100}"; RTT="${5:-50}"
W="$(mktemp -d /tmp/mirror-bench.XXXXXX)"
PIDS=()
# KEEP_LOGS=DIR keeps each node's logs there (with LAYERSWARM_LOG_LEVEL=DEBUG: where a first byte waits)
# NODE_JVM_OPTS adds JVM options to every node (e.g. -XX:ArchiveClassesAtExit=F.jsa, then -XX:SharedArchiveFile=F.jsa)
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS"; for d in "$W"/*/; do [ -f "$d/err.log" ] && cp "$d/err.log" "$KEEP_LOGS/$(basename "$d").log"; done; fi
  rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_line() { # FILE PATTERN
  for _ in $(seq 1 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1; }

REG=$(free_port)
mkdir -p "$W/reg"
cat > "$W/reg.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/reg
http:
  addr: 127.0.0.1:$REG
YML
docker-registry serve "$W/reg.yml" > "$W/reg.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$REG/v2/" >/dev/null && break; sleep 0.1; done
TAG=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$LAYOUT/index.json")
skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:$TAG" "docker://127.0.0.1:$REG/bench/img:$TAG"
UP=$(free_port)
java -cp "$JAR" io.layerswarm.daemon.demo.UplinkEmulator 127.0.0.1 "$UP" 127.0.0.1 "$REG" "$MBPS" "$RTT" > "$W/uplink.log" 2>&1 & PIDS+=($!)
wait_line "$W/uplink.log" listening
MF=$(jq -r '.manifests[0].digest' "$LAYOUT/index.json" | cut -d: -f2)
CONFIG=$(jq -r '.config.digest' "$LAYOUT/blobs/sha256/$MF")
LAYER=$(jq -r '.layers | max_by(.size) | .digest' "$LAYOUT/blobs/sha256/$MF")
LSIZE=$(jq -r '.layers | max_by(.size) | .size' "$LAYOUT/blobs/sha256/$MF")
TOTAL=$(jq -r '[.config.size] + [.layers[].size] | add' "$LAYOUT/blobs/sha256/$MF")
echo "image $(basename "$LAYOUT"):$TAG, blobs $TOTAL bytes, largest layer $LSIZE bytes; uplink $MBPS Mbit/s +$RTT ms"
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
# URL -> "headers body total bytes": seconds from the connect to the response headers (what curl calls
# time_starttransfer), to the first BODY byte (a streaming mirror sends its headers before it has any
# data), and to the last byte; then the body's size.
timing() {
  python3 - "$1" <<'PY'
import http.client, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
t0 = time.monotonic()
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("GET", u.path)
r = c.getresponse()
t1 = time.monotonic()
first = r.read(1)
t2 = time.monotonic()
n = len(first)
while True:
    b = r.read(1 << 16)
    if not b:
        break
    n += len(b)
t3 = time.monotonic()
print(f"{t1 - t0:.4f} {t2 - t0:.4f} {t3 - t0:.4f} {n}")
PY
}

start_node() { # NAME -> prints mirror URL
  local d="$W/$1" mp; mp=$(free_port); mkdir -p "$d"
  java ${NODE_JVM_OPTS:-} -jar "$JAR" node --listen /ip4/127.0.0.1/tcp/0 --cache-dir "$d/cache" --key "$d/node.key" \
    --upstream "http://127.0.0.1:$UP" --mirror-listen "127.0.0.1:$mp" > "$d/out.log" 2> "$d/err.log" & PIDS+=($!)
  echo $! > "$d/pid"
  wait_line "$d/out.log" "^mirror " >&2
  echo "http://127.0.0.1:$mp"
}
stop_node() { kill "$(cat "$W/$1/pid")"; wait "$(cat "$W/$1/pid")" 2>/dev/null || true; }

echo "| round | what | headers (s) | first body byte (s) | total (s) | bytes |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for r in $(seq 1 "$ROUNDS"); do
  read -r a f b c < <(timing "http://127.0.0.1:$UP/v2/bench/img/blobs/$CONFIG"); echo "| $r | direct config blob | $a | $f | $b | $c |"
  read -r a f b c < <(timing "http://127.0.0.1:$UP/v2/bench/img/blobs/$LAYER"); echo "| $r | direct largest layer | $a | $f | $b | $c |"
  M=$(start_node "n$r")
  curl -sf -o /dev/null -H "$ACCEPT" "$M/v2/bench/img/manifests/$TAG"
  read -r a f b c < <(timing "$M/v2/bench/img/blobs/$CONFIG"); echo "| $r | mirror config blob (cold) | $a | $f | $b | $c |"
  read -r a f b c < <(timing "$M/v2/bench/img/blobs/$LAYER"); echo "| $r | mirror largest layer (cold) | $a | $f | $b | $c |"
  stop_node "n$r"
  M=$(start_node "s$r")
  t0=$(date +%s.%N)
  skopeo copy -q --src-tls-verify=false "docker://${M#http://}/bench/img:$TAG" "oci:$W/s$r/pulled:$TAG"
  t1=$(date +%s.%N)
  echo "| $r | skopeo copy whole image through the mirror (cold) | | | $(echo "$t1 - $t0" | bc) | $TOTAL |"
  stop_node "s$r"
done
