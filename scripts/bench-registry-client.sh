#!/usr/bin/env bash
# Blob download throughput: RegistryClient vs curl from the same local docker-registry (BENCHMARKS.md).
# Usage: scripts/bench-registry-client.sh [MiB=256] [rounds=3]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl oci-core -am test-compile org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null
CP="oci-core/target/test-classes:oci-core/target/classes:test-fixtures/target/classes:$(cat oci-core/target/bench.cp)"
exec java -cp "$CP" io.layerswarm.registry.RegistryClientBench "${1:-256}" "${2:-3}"
