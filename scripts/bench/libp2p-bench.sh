#!/usr/bin/env bash
# libp2p loopback throughput: plain TCP vs Noise+Yamux, TLS+Yamux (BoringSSL and JDK engines) and QUIC (1 and 64 streams) vs curl from docker-registry.
# Usage: [JAVA=/path/to/java] [JAVA_OPTS=...] scripts/bench/libp2p-bench.sh [MiB per transfer, default 512] [repetitions, default 3] [parts: tcp,yamux,noise,tls,tls-jdk,quic,curl,interleaved,cipher]
# (JAVA selects the runtime; the classes are built for Java 17 and run unchanged on newer JDKs.)
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -pl p2p-core -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/libp2p-bench.cp -Dmdep.includeScope=test >/dev/null
CP="p2p-core/target/classes:p2p-core/target/test-classes:$(cat p2p-core/target/libp2p-bench.cp)"
exec "${JAVA:-java}" ${JAVA_OPTS:-} -cp "$CP" io.layerswarm.libp2p.bench.Libp2pThroughputBench "${1:-512}" "${2:-3}" ${3:+"$3"}
