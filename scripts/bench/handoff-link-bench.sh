#!/usr/bin/env bash
# Service handoff over an emulated edge link (issue 13): two `layerswarm node` processes, each with its own
# containerd (runc), the real docker-registry with the small corpus, a container from clock:2 holding
# STATE MiB of random state (plus a busybox copy, a counter and a log written every second). The target
# node reaches the source node only through the userspace UplinkEmulator relay (source -> target at RATE
# Mbit/s, +RTT ms round trip; a firewall in the bench's own network namespace lets only the relay reach the
# source and nothing reach the target), so the pre-sync and every writable-layer round cross the shaped link.
# Per rate, three modes on fresh nodes and containerds: presync (handoff prepare, then run), no-presync
# (run only) and stop-and-copy (stop, copy the image blobs + a tar of the writable layer over an identical
# relay; its restore is the presync run's restore stage). Prints one "handoff-bench:" line per run
# (HandoffLinkBench, samples/daemon). No CRIU on these machines: process memory is not moved.
#
# Usage: scripts/bench/handoff-link-bench.sh [--rates 5,10,20,50] [--rtt-ms 50] [--state-mib 8]
#            [--modes presync,no-presync,stop-and-copy] [--hot-kib 0] [--ns-prefix ls-handoff-bench]
# --hot-kib N: the container also rewrites an N KiB random file every 0.2 s (it is held back to the
# final diff, which it makes about N KiB: the downtime goal then has a real final diff to scale with).
# --ns-prefix P: the bench's network namespace is P-PID (several people benching on one machine).
# Needs root, containerd, runc, docker-registry (scripts/install-system-packages.sh). Full log in
# samples/daemon/target/handoff-link-bench.log.
set -euo pipefail
cd "$(dirname "$0")/../.."

RATES=5,10,20,50
RTT=50
STATE=8
MODES=presync,no-presync,stop-and-copy
HOT=0
NS_PREFIX=ls-handoff-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES="${2:?--rates needs a list}"; shift 2 ;;
    --rtt-ms) RTT="${2:?--rtt-ms needs a number}"; shift 2 ;;
    --state-mib) STATE="${2:?--state-mib needs a number}"; shift 2 ;;
    --modes) MODES="${2:?--modes needs a list}"; shift 2 ;;
    --hot-kib) HOT="${2:?--hot-kib needs a number}"; shift 2 ;;
    --ns-prefix) NS_PREFIX="${2:?--ns-prefix needs a name}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "error: containerd needs root" >&2; exit 2; }
for tool in containerd ctr runc docker-registry; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/install-system-packages.sh)" >&2; exit 2; }
done

mkdir -p samples/daemon/target
LOG=samples/daemon/target/handoff-link-bench.log
# everything runs in a network namespace of its own: the bench adds firewall rules (only the relay may
# reach the source node) that must not touch the host's loopback
NS="$NS_PREFIX-$$"
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT INT TERM
ip -n "$NS" link set lo up
# nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup mount runc needs
nsenter --net="/var/run/netns/$NS" mvn -B -o verify -pl samples/daemon -am -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
    -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=HandoffLinkBench -Dtest.reruns=0 \
    -Dtest.timeout.default="120 m" -Dtest.fork.timeout=7500 \
    -Dhandoff.bench.rates="$RATES" -Dhandoff.bench.rttMs="$RTT" -Dhandoff.bench.stateMiB="$STATE" \
    -Dhandoff.bench.modes="$MODES" -Dhandoff.bench.hotKiB="$HOT" -Dhandoff.bench.ownNetns=true > "$LOG" 2>&1 || { tail -50 "$LOG" >&2; exit 1; }
grep '^handoff-bench:' "$LOG"
