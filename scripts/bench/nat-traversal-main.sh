#!/usr/bin/env bash
# Runs a main class of nat-traversal's test sources (a benchmark) on this checkout's freshly compiled classes.
# Usage: scripts/bench/nat-traversal-main.sh CLASS [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o -pl nat-traversal -am test-compile >/dev/null
# the plugin pinned as in the other bench scripts: the unpinned default (2.8) is not in every offline ~/.m2
mvn -B -q -o -pl nat-traversal org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/nat-traversal-bench.cp -Dmdep.includeScope=test >/dev/null
# this checkout's modules first, ahead of their installed jars
CP="nat-traversal/target/classes:nat-traversal/target/test-classes:p2p-core/target/classes:layer-cache/target/classes"
CP="$CP:oci-core/target/classes:test-fixtures/target/classes:$(cat nat-traversal/target/nat-traversal-bench.cp)"
exec "${JAVA:-java}" ${JAVA_OPTS:-} -cp "$CP" "$@"
