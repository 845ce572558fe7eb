#!/usr/bin/env bash
# Runs the tests that used to be flaky (RELIABILITY.md) several rounds in a row while `stress-ng --cpu 2`
# keeps both cores busy, straight on the JUnit console launcher (no Maven per round), and prints one
# line per module and round plus a summary. A quicker check than scripts/reliability/repeat-ci.sh.
#
#   scripts/reliability/flaky-under-stress.sh [--rounds N] [--no-stress]
set -euo pipefail

rounds=3
stress=yes
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --no-stress) stress=no; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
# test classes and each module's test classpath (sibling modules resolve to their target/classes)
mvn -B -q -pl test-fixtures,p2p-core,layer-cache -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/test-cp.txt -Dmdep.includeScope=test
launcher="$(find ~/.m2/repository/org/junit/platform/junit-platform-console-standalone -name '*.jar' | sort | tail -1)"
if [[ -z "$launcher" ]]; then
  mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.3
  launcher="$(find ~/.m2/repository/org/junit/platform/junit-platform-console-standalone -name '*.jar' | sort | tail -1)"
fi

declare -A classes=(
  [p2p-core]="io.layerswarm.libp2p.kad.KadInteropIT io.layerswarm.libp2p.kad.KadHostBindingTest
    io.layerswarm.transfer.LayerExchangeTest io.layerswarm.libp2p.yamux.YamuxSessionTest
    io.layerswarm.libp2p.host.HostTest io.layerswarm.libp2p.identify.IdentifyTest
    io.layerswarm.node.LayerSwarmIT io.layerswarm.node.PullThroughMirrorIT
    io.layerswarm.registry.RegistryAuthIT io.layerswarm.registry.RegistryFaultIT
    io.layerswarm.swarm.BlobDownloadTest"
  [layer-cache]="io.layerswarm.cache.store.ContentStoreTest"
)

stress_pid=""
trap '[[ -n "$stress_pid" ]] && kill "$stress_pid" 2>/dev/null; true' EXIT
if [[ "$stress" == yes ]]; then
  stress-ng --cpu 2 --timeout 0 --quiet &
  stress_pid=$!
fi

log_dir="target/reliability/flaky-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$log_dir"
failed=0
for ((r = 1; r <= rounds; r++)); do
  for module in "${!classes[@]}"; do
    selects=()
    for c in ${classes[$module]}; do selects+=(--select-class "$c"); done
    log="$log_dir/$module-round$r.log"
    start=$(date +%s)
    if (cd "$module" && java -jar "$launcher" execute --disable-banner --details=summary \
          --class-path "target/test-classes:target/classes:$(cat target/test-cp.txt)" \
          --config 'junit.jupiter.execution.timeout.default=3 m' "${selects[@]}") > "$log" 2>&1; then
      result=pass
    else
      result=fail
      failed=$((failed + 1))
    fi
    counts="$(grep -E '^\[ +[0-9]+ tests (successful|failed)' "$log" | tr -s ' ' | tr '\n' ' ')"
    echo "round=$r module=$module result=$result duration_s=$(( $(date +%s) - start )) $counts"
  done
done
echo "summary rounds=$rounds stress=$stress failed_runs=$failed logs=$log_dir"
[[ "$failed" -eq 0 ]]
