# bench-cleanup.sh — sourced by the containerd benchmark scripts: `bench_cleanup` is their EXIT/INT/TERM
# trap. It stops the Java driver ($BENCH_PID: SIGTERM, whose shutdown hook stops what it started, SIGKILL
# after 30 s), then, as a safety net, kills every process whose command line names the work directory
# $WORK (containerd, shims, nodes), unmounts what is mounted under it (deepest first) and deletes it;
# with $NET_TAG set it deletes the run's network namespaces (NET_TAG-*) and root-side veths (NET_TAGu*).
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${BENCH_PID:-}" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$BENCH_PID" 2>/dev/null || true
  fi
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -qF "$WORK/"; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
  done
  awk -v w="$WORK/" 'index($5, w) == 1 { print length($5), $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2- |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK"
  if [ -n "${NET_TAG:-}" ]; then
    ip -o link show 2>/dev/null | awk -F': ' -v t="${NET_TAG}u" 'index($2, t) == 1 { sub(/@.*/, "", $2); print $2 }' |
      while read -r l; do ip link del "$l" 2>/dev/null || true; done
    ip netns list 2>/dev/null | awk -v t="${NET_TAG}-" 'index($1, t) == 1 { print $1 }' |
      while read -r n; do ip netns del "$n" 2>/dev/null || true; done
  fi
  exit "$rc"
}
