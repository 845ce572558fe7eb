#!/usr/bin/env bash
# Runs the CI entry point (bash .ci/run) N times, each on a fresh `git clone` of the current HEAD in a
# temporary directory, optionally while `stress-ng --cpu 2` keeps two cores busy, and prints one line
# per run and a summary. Measures whether the suite is deterministic: correct code must be green every time.
#
#   scripts/reliability/repeat-ci.sh [--runs N] [--stress] [--keep] [--log-dir DIR]
#
#   --runs N       number of runs (default 5)
#   --stress       run `stress-ng --cpu 2` for the whole of each run (the CPU hog of the reliability goal)
#   --keep         keep each clone (default: deleted after its run; logs are always kept)
#   --log-dir DIR  where run logs go (default target/reliability/<UTC timestamp>)
#
# Exit status: 0 if every run passed, 1 otherwise. The summary line has the form
#   summary runs=5 passed=5 failed=0 runs_with_flakes=0 stress=no durations_s=412,398,405,401,399 min_s=398 max_s=412
set -euo pipefail

runs=5
stress=no
keep=no
log_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --stress) stress=yes; shift ;;
    --keep) keep=yes; shift ;;
    --log-dir) log_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "--runs needs a positive number, got '$runs'" >&2; exit 2; }

repo="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
head="$(git -C "$repo" rev-parse HEAD)"
if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]]; then
  echo "note: uncommitted changes are not tested; clones are of HEAD $head" >&2
fi
if [[ "$stress" == yes ]] && ! command -v stress-ng >/dev/null; then
  echo "stress-ng is missing: scripts/install-system-packages.sh installs it" >&2
  exit 2
fi
log_dir="${log_dir:-$repo/target/reliability/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$log_dir"
summary="$log_dir/summary.txt"
: > "$summary"

stress_pid=""
clone=""
cleanup() {
  if [[ -n "$stress_pid" ]]; then
    kill "$stress_pid" 2>/dev/null || true
    wait "$stress_pid" 2>/dev/null || true
  fi
  if [[ -n "$clone" && "$keep" == no ]]; then
    rm -rf "$clone"
  fi
}
trap cleanup EXIT

echo "repeat-ci: head=$head runs=$runs stress=$stress logs=$log_dir" | tee -a "$summary"
passed=0
failed=0
flaky=0
durations=()
for ((i = 1; i <= runs; i++)); do
  clone="$(mktemp -d /tmp/layerswarm-ci-run$i.XXXXXX)"
  git clone -q "$repo" "$clone/repo"
  git -C "$clone/repo" checkout -q "$head"
  if [[ "$stress" == yes ]]; then
    stress-ng --cpu 2 --timeout 0 --quiet &
    stress_pid=$!
  fi
  log="$log_dir/run$i.log"
  start=$(date +%s)
  if (cd "$clone/repo" && bash .ci/run) > "$log" 2>&1; then
    result=pass
    passed=$((passed + 1))
  else
    result=fail
    failed=$((failed + 1))
  fi
  secs=$(( $(date +%s) - start ))
  durations+=("$secs")
  if [[ -n "$stress_pid" ]]; then
    kill "$stress_pid" 2>/dev/null || true
    wait "$stress_pid" 2>/dev/null || true
    stress_pid=""
  fi
  # surefire/failsafe name each failing test; keep them in the summary
  failures=""
  if [[ "$result" == fail ]]; then
    failures="$(grep -E '^\[ERROR\] +[A-Za-z0-9_.]+[.:][A-Za-z0-9_]+' "$log" | grep -v 'Tests run' | sort -u | head -20 \
      | tr '\n' ';' || true)"
  fi
  # a test that failed once and passed on its rerun (pom: test.reruns) is listed after "Flakes:"
  flakes="$(awk '/\[WARNING\] Flakes:/{f=1; next} /Tests run:/{f=0} f && /^\[WARNING\] [A-Za-z0-9_.$]+\.[A-Za-z0-9_]+ *$/{print $2}' "$log" \
    | sort -u | tr '\n' ';' || true)"
  [[ -n "$flakes" ]] && flaky=$((flaky + 1))
  echo "run=$i result=$result duration_s=$secs log=$log${failures:+ failures=$failures}${flakes:+ flakes=$flakes}" \
    | tee -a "$summary"
  if [[ "$keep" == no ]]; then
    rm -rf "$clone"
  fi
  clone=""
done

sorted=($(printf '%s\n' "${durations[@]}" | sort -n))
joined=$(IFS=,; echo "${durations[*]}")
echo "summary runs=$runs passed=$passed failed=$failed runs_with_flakes=$flaky stress=$stress durations_s=$joined min_s=${sorted[0]} max_s=${sorted[-1]}" \
  | tee -a "$summary"
[[ "$failed" -eq 0 ]]
