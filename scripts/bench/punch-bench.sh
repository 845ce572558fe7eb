#!/usr/bin/env bash
# Hole punching per NAT combination (cone/cone, cone/symmetric, symmetric/symmetric) in network namespaces:
# success count and time to a direct QUIC connection over N attempts each. Needs root (ip netns, iptables, tc)
# and coturn's turnserver.
# Usage: sudo scripts/bench/punch-bench.sh [attempts per combination, default 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o -pl nat-traversal -am test-compile >/dev/null
mvn -B -q -o -pl nat-traversal dependency:build-classpath \
    -Dmdep.outputFile=target/punch-bench.cp -Dmdep.includeScope=test >/dev/null
# this checkout's modules first, ahead of their installed jars
CP="nat-traversal/target/classes:nat-traversal/target/test-classes:p2p-core/target/classes:layer-cache/target/classes"
CP="$CP:oci-core/target/classes:test-fixtures/target/classes:$(cat nat-traversal/target/punch-bench.cp)"
exec "${JAVA:-java}" ${JAVA_OPTS:-} -cp "$CP" io.layerswarm.nat.netns.PunchBench "${1:-20}"
