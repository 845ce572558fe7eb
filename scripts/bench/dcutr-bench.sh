#!/usr/bin/env bash
# DCUtR on loopback (a relay and two hosts in one JVM): success count and time from the upgrade's start to the
# direct TCP connection over N attempts.
# Usage: scripts/bench/dcutr-bench.sh [attempts, default 20]
set -euo pipefail
exec "$(dirname "$0")/nat-traversal-main.sh" io.layerswarm.nat.dcutr.DcutrBench "${1:-20}"
