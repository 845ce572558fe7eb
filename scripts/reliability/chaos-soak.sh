#!/usr/bin/env bash
# Chaos soak (issue 10 section 3; not run by CI, which may run the 3-minute variant): N `layerswarm node`
# processes (through the launcher samples/daemon/target/layerswarm) in front of the real docker-registry
# holding the small corpus. Pull workers pull random corpus images with skopeo through random live
# nodes' mirrors while a seeded chaos loop kill -9s and restarts nodes (same cache directory), stops and
# restarts the registry (same storage and port) and flips a byte in a stored blob of one node (bit rot
# on disk). At the end: full re-hash of every node's store, commit/delete/evict log lines against the
# stores, RSS and open-fd min/max per node, one `invariant=NAME result=pass|fail detail=...` line each
# and a `summary` line. Exit status 1 if an invariant failed, 2 on bad usage or missing tools.
#
# Usage: scripts/reliability/chaos-soak.sh [--minutes 30] [--nodes 6] [--seed N] [--out DIR]
#            [--workers 2] [--retries 5] [--chaos-interval-s 20] [--rss-limit-mib 400] [--fd-limit 1000]
# Env: SKIP_BUILD=1 (reuse the built jar and classes), MVN_FLAGS (e.g. -o), JAVA, LAYERSWARM_JAVA_OPTS.
# Needs docker-registry and skopeo (scripts/install-system-packages.sh). Default --out:
# samples/daemon/target/chaos-soak-<UTC time>; node stores, logs, events.log and summary.txt stay there.
# Everything it starts listens on 127.0.0.1 and is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

OUT="$ROOT/samples/daemon/target/chaos-soak-$(date -u +%Y%m%dT%H%M%SZ)"
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

for tool in docker-registry skopeo; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/install-system-packages.sh)" >&2; exit 2; }
done

CP_FILE=target/chaos-soak.cp
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # shellcheck disable=SC2086 # MVN_FLAGS is a list of flags
  mvn -B -q ${MVN_FLAGS:-} -pl samples/daemon -am -DskipTests package \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
CP="samples/daemon/target/test-classes:samples/daemon/target/classes:$(cat "samples/daemon/$CP_FILE")"
mkdir -p "$OUT"

SOAK_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SOAK_PID" ] && kill -0 "$SOAK_PID" 2>/dev/null; then
    kill -TERM "$SOAK_PID" 2>/dev/null || true   # its shutdown hook stops the nodes and the registry
    for _ in $(seq 150); do kill -0 "$SOAK_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SOAK_PID" 2>/dev/null || true
  fi
  # safety net: node processes whose command line names the output directory
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -qF "$OUT/"; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
  done
  exit "$rc"
}
trap cleanup EXIT INT TERM

"${JAVA:-java}" -Xmx256m -cp "$CP" io.layerswarm.daemon.bench.ChaosSoak \
    --launcher "$ROOT/samples/daemon/target/layerswarm" --out "$OUT" "${ARGS[@]}" &
SOAK_PID=$!
wait "$SOAK_PID"
