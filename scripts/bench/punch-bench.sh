#!/usr/bin/env bash
# Hole punching per NAT combination (cone/cone, cone/symmetric, symmetric/symmetric) in network namespaces:
# success count and time to a direct QUIC connection over N attempts each. Needs root (ip netns, iptables, tc)
# and coturn's turnserver.
# With dcutr: cone/cone only, DCUtR (direct TCP) instead of ICE.
# With throughput: cone/cone, the inter-cloud path through a userspace delay line (scripts/bench/delay-line.py) adding
# ADDED-RTT-MS (default 10) at 200 Mbit/s; per attempt a MIB-sized blob (default 32) over the relay, the ICE-punched
# QUIC path and the DCUtR-punched TCP path.
# Usage: sudo scripts/bench/punch-bench.sh [attempts per combination, default 20] [ice|dcutr]
#        sudo scripts/bench/punch-bench.sh ATTEMPTS throughput [ADDED-RTT-MS] [MIB] [PATHS, default relay,quic,tcp]
# QUIC knobs for comparisons go to the nodes as system properties, e.g.
#        sudo JAVA_OPTS="-Dlayerswarm.quic.cc=BBR -Dlayerswarm.quic.writeAhead=0" scripts/bench/punch-bench.sh 6 throughput 10 32 quic
set -euo pipefail
exec "$(dirname "$0")/nat-traversal-main.sh" io.layerswarm.nat.netns.PunchBench "${1:-20}" "${2:-ice}" "${@:3}"
