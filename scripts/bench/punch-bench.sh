#!/usr/bin/env bash
# Hole punching per NAT combination (cone/cone, cone/symmetric, symmetric/symmetric) in network namespaces:
# success count and time to a direct QUIC connection over N attempts each. Needs root (ip netns, iptables, tc)
# and coturn's turnserver.
# With dcutr: cone/cone only, DCUtR (direct TCP) instead of ICE.
# Usage: sudo scripts/bench/punch-bench.sh [attempts per combination, default 20] [ice|dcutr]
set -euo pipefail
exec "$(dirname "$0")/nat-traversal-main.sh" io.layerswarm.nat.netns.PunchBench "${1:-20}" "${2:-ice}"
