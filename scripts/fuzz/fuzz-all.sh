#!/usr/bin/env bash
# Fuzzes every Jazzer @FuzzTest of the project for a set time and prints, per target, the executions and
# the findings (crash files Jazzer wrote). CI only runs the seed corpora (plain `mvn test`); this script
# is for finding new bugs.
#
#   scripts/fuzz/fuzz-all.sh [SECONDS_PER_TARGET=60] [FILTER]
#
# FILTER (optional) is a regular expression on "Class#method". Each target runs in a JVM of its own
# (JUnit's console launcher) with JAZZER_FUZZ=1, Jazzer's hooks on and a 1 GiB heap (an input that makes a decoder allocate more is a
# finding). Jazzer saves a crashing input as crash-<sha1> next to the target's seeds
# (src/test/resources/<package>/<Class>Inputs/<method>/), where it then runs as a regression test;
# the script lists those files. The inputs that grew coverage go to <module>/.cifuzz-corpus/ (not
# committed). FUZZ_SKIP_BUILD=1 reuses the previous build; FUZZ_INSTRUMENT (default io.layerswarm.**)
# chooses the classes Jazzer instruments: all classes would include Netty, Jackson and Bouncy Castle and
# take minutes to start. Logs: target/fuzz/<Class>#<method>.log; summary: target/fuzz/summary.tsv.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-60}
FILTER=${2:-.}
OUT=target/fuzz
mkdir -p "$OUT"
MODULES=(oci-core layer-cache p2p-core samples/daemon)
# the JUnit platform version of the parent pom's junit-bom (Jupiter 5.11.3)
JUNIT_PLATFORM=1.11.3
FUZZ_INSTRUMENT=${FUZZ_INSTRUMENT:-io.layerswarm.**}

targets() {
    for m in "${MODULES[@]}"; do
        grep -rl --include='*FuzzTest.java' '@FuzzTest' "$m/src/test/java" 2>/dev/null | while read -r f; do
            cls=$(sed -e "s|^$m/src/test/java/||" -e 's|\.java$||' -e 's|/|.|g' <<<"$f")
            # the method name follows each @FuzzTest annotation
            awk '/@FuzzTest/{want=1; next} want && /void [a-zA-Z0-9_]+\(/{match($0,/void [a-zA-Z0-9_]+\(/); print substr($0,RSTART+5,RLENGTH-6); want=0}' "$f" |
                while read -r meth; do echo "$m $cls $meth"; done
        done
    done
}

[[ -n "${FUZZ_SKIP_BUILD:-}" ]] || {
echo "compiling and resolving test classpaths (once) ..."
if ! mvn -B -q -o -pl "$(IFS=,; echo "${MODULES[*]}")" -am test-compile dependency:build-classpath \
        -Dmdep.includeScope=test -Dmdep.outputFile=target/fuzz.classpath >"$OUT/compile.log" 2>&1; then
    echo "compilation failed, see $OUT/compile.log" >&2
    exit 2
fi
# JUnit's console launcher runs one fuzz test per JVM without a Maven start-up per target.
if ! mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM" \
        -DoutputDirectory="$OUT" >>"$OUT/compile.log" 2>&1; then
    echo "cannot fetch junit-platform-console-standalone, see $OUT/compile.log" >&2
    exit 2
fi
}
LAUNCHER="$PWD/$OUT/junit-platform-console-standalone-$JUNIT_PLATFORM.jar"

printf 'target\tseconds\texecutions\texec_per_s\tfindings\tcrash_files\n' >"$OUT/summary.tsv"
total_findings=0
while read -r module cls meth; do
    short="${cls##*.}#$meth"
    [[ "$short" =~ $FILTER ]] || continue
    inputs="$module/src/test/resources/$(tr . / <<<"$cls")Inputs/$meth"
    mkdir -p "$inputs"
    marker=$(mktemp)
    log="$OUT/$short.log"
    echo "fuzzing $short for ${SECONDS_PER_TARGET}s ..."
    start=$(date +%s)
    # Jazzer finds the seeds and writes crash files relative to the module directory
    (cd "$module" && JAZZER_FUZZ=1 java -Xmx1g -Djazzer.hooks=true -Djazzer.instrument="$FUZZ_INSTRUMENT" -Djazzer.max_duration="${SECONDS_PER_TARGET}s" \
        -cp "target/test-classes:target/classes:$(cat target/fuzz.classpath):$LAUNCHER" \
        org.junit.platform.console.ConsoleLauncher --disable-banner --details=summary \
        --select-method "$cls#$meth(byte[])") >"$log" 2>&1
    took=$(( $(date +%s) - start ))
    # libFuzzer's last status line: "#<runs> DONE ..." on a clean end, or the last "#<runs> ..." before a crash
    runs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    runs=${runs:-0}
    rate=$(grep -aoE 'exec/s: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    crashes=$(find "$inputs" -maxdepth 1 -type f -newer "$marker" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
    rm -f "$marker"
    n=$(grep -c . <<<"$crashes")
    total_findings=$((total_findings + n))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$short" "$took" "$runs" "${rate:-?}" "$n" "$(tr '\n' ' ' <<<"$crashes")" >>"$OUT/summary.tsv"
    if (( n > 0 )); then
        echo "  FINDING in $short: $crashes (see $log)"
        grep -aE -m3 '== Java Exception|FuzzTestFinding|Exception:' "$log" | sed 's/^/    /'
    fi
done < <(targets)

echo
column -t -s $'\t' "$OUT/summary.tsv"
echo "findings: $total_findings"
(( total_findings == 0 ))
