#!/usr/bin/env bash
# refactor-bench.sh — the "Refactoring and delta layers" benchmark of BENCHMARKS.md, in one run:
# builds (or reuses) the corpus, pushes it to a fresh docker-registry on a random loopback port with
# temp storage, then runs the real CLI:
#   layerswarm refactor analyze   (all images)
#   layerswarm refactor apply --mode path    --suffix -rf
#   layerswarm refactor apply --mode symlink --suffix -sl
#   layerswarm delta --from NAME:A --to NAME:B   for each version pair (same name, consecutive tags)
# and prints a Markdown summary. JSON of every step lands in --out.
#
# Usage: scripts/bench/refactor-bench.sh [--set small|full] [--out DIR] [--min-file-size N] [--verify]
#   --verify  also pull every path-mode image (skopeo) and compare its umoci-unpacked tree with the
#             original's (type, mode, owner, link target, sha256 of every file); slow on the full set.
# Needs: the shaded jar (mvn -B -q -pl samples/daemon -am package -DskipTests), docker-registry,
# skopeo, umoci, jq, python3 (free port). Network: apt (corpus build) and loopback only.
set -euo pipefail
SET=full
OUT=""
MIN=0
VERIFY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --set) SET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --min-file-size) MIN="$2"; shift 2 ;;
    --verify) VERIFY=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAR="$ROOT/samples/daemon/target/layerswarm.jar"
[ -f "$JAR" ] || { echo "missing $JAR: mvn -B -q -pl samples/daemon -am package -DskipTests" >&2; exit 1; }
for t in docker-registry skopeo jq python3 java; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
OUT="${OUT:-$(mktemp -d /tmp/refactor-bench-XXXXXX)}"
mkdir -p "$OUT"
CORPUS="${LAYERSWARM_BENCH_CORPUS:-$HOME/.cache/layerswarm/bench-corpus-$SET}"
WORK="$(mktemp -d /tmp/refactor-bench-work-XXXXXX)"
REG_PID=""
cleanup() {
  if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
log() { echo "refactor-bench: $*" >&2; }

t0=$(now)
if [ ! -f "$CORPUS/corpus.json" ]; then
  log "building the $SET corpus into $CORPUS"
  bash "$ROOT/scripts/corpus/build-corpus.sh" --set "$SET" --out "$CORPUS" >&2
fi
log "corpus ready ($(jq '.images | length' "$CORPUS/corpus.json") images) in $(echo "$(now) - $t0" | bc) s"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
  secret: bench-$RANDOM$RANDOM
YML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
REG_PID=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -fs "$URL/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$URL/v2/" >/dev/null || { cat "$WORK/registry.log" >&2; exit 1; }
bash "$ROOT/scripts/corpus/build-corpus.sh" --set "$SET" --out "$CORPUS" --push-only --push "$URL" >&2
STORAGE_BEFORE=$(du -sb "$WORK/storage/docker/registry/v2/blobs" | cut -f1)

mapfile -t REFS < <(jq -r '.images[].ref' "$CORPUS/corpus.json" | sort)
IMG=(); for r in "${REFS[@]}"; do IMG+=(--image "$r"); done
cli() { java -Xmx6g -jar "$JAR" "$@"; }

t=$(now); cli refactor analyze --registry "$URL" "${IMG[@]}" --json > "$OUT/analyze.json"
echo "$(now) - $t" | bc > "$OUT/analyze.seconds"
t=$(now); cli refactor apply --registry "$URL" "${IMG[@]}" --suffix -rf --mode path --min-file-size "$MIN" --json > "$OUT/apply-path.json"
echo "$(now) - $t" | bc > "$OUT/apply-path.seconds"
if [ "$VERIFY" = 1 ]; then
  # What a container sees: path, type, permission bits, owner, link target, then file hashes.
  snap() { (cd "$1" && find . -mindepth 1 -printf '%P\t%y\t%m\t%U:%G\t%l\n' | LC_ALL=C sort \
      && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
  : > "$OUT/verify.txt"
  for r in "${REFS[@]}"; do
    name="${r%%:*}"; tag="${r#*:}"
    layout="$CORPUS/$(jq -r --arg r "$r" '.images[] | select(.ref == $r) | .layout' "$CORPUS/corpus.json")"
    rm -rf "$WORK/v"; mkdir -p "$WORK/v"
    skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$PORT/$name:$tag-rf" "oci:$WORK/v/rf:rf" >&2
    umoci unpack --image "$layout:$tag" "$WORK/v/orig" >/dev/null
    umoci unpack --image "$WORK/v/rf:rf" "$WORK/v/new" >/dev/null
    snap "$WORK/v/orig/rootfs" > "$WORK/v/orig.txt"; snap "$WORK/v/new/rootfs" > "$WORK/v/new.txt"
    if cmp -s "$WORK/v/orig.txt" "$WORK/v/new.txt"; then
      echo "$r identical $(wc -l < "$WORK/v/orig.txt") lines" >> "$OUT/verify.txt"
    else
      echo "$r DIFFERENT" >> "$OUT/verify.txt"; diff "$WORK/v/orig.txt" "$WORK/v/new.txt" | head -20 >> "$OUT/verify.txt"
    fi
  done
  rm -rf "$WORK/v"
fi
STORAGE_PATH=$(du -sb "$WORK/storage/docker/registry/v2/blobs" | cut -f1)
t=$(now); cli refactor apply --registry "$URL" "${IMG[@]}" --suffix -sl --mode symlink --min-file-size "$MIN" --json > "$OUT/apply-symlink.json"
echo "$(now) - $t" | bc > "$OUT/apply-symlink.seconds"
STORAGE_BOTH=$(du -sb "$WORK/storage/docker/registry/v2/blobs" | cut -f1)
jq -n --argjson before "$STORAGE_BEFORE" --argjson path "$STORAGE_PATH" --argjson both "$STORAGE_BOTH" \
  '{registryStorageOriginals: $before, addedByPathMode: ($path - $before), addedBySymlinkMode: ($both - $path)}' > "$OUT/storage.json"

# Version pairs: security updates NAME:X-r0 -> NAME:X, and app versions NAME:1 -> NAME:2 (tags without '-').
: > "$OUT/pairs.txt"
for r in "${REFS[@]}"; do
  name="${r%%:*}"; tag="${r#*:}"
  if [[ "$tag" == *-r0 ]] && printf '%s\n' "${REFS[@]}" | grep -qx "$name:${tag%-r0}"; then
    echo "$r $name:${tag%-r0}" >> "$OUT/pairs.txt"
  fi
done
for name in $(printf '%s\n' "${REFS[@]}" | cut -d: -f1 | sort -u); do
  mapfile -t tags < <(printf '%s\n' "${REFS[@]}" | grep "^$name:" | cut -d: -f2 | grep -v -- - | sort -V)
  for ((i = 1; i < ${#tags[@]}; i++)); do echo "$name:${tags[i-1]} $name:${tags[i]}" >> "$OUT/pairs.txt"; done
done
n=0
while read -r from to; do
  cli delta --registry "$URL" --from "$from" --to "$to" --json > "$OUT/delta-$n.json"
  n=$((n + 1))
done < "$OUT/pairs.txt"

# ---- summary (Markdown)
a="$OUT/analyze.json"; p="$OUT/apply-path.json"; s="$OUT/apply-symlink.json"
echo "corpus: $SET, $(jq .images "$a") images, $(jq .files "$a") files; analysis $(cat "$OUT/analyze.seconds") s"
echo
echo "| | registry blob bytes | redundant bytes | redundancy removed | distinct layers | shared layers | refactor time (s) | apply incl. pull+push (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
jq -r '.summary | "| original | \(.before.registryBlobBytes) | \(.before.redundantBytes) | – | \(.before.layers) | – | – | – |"' "$p"
jq -r --arg t "$(cat "$OUT/apply-path.seconds")" '.summary | "| path mode | \(.after.registryBlobBytes) | \(.after.redundantBytes) | \((.redundancyRemoved*1000|round)/10)% | \(.after.layers) | \(.sharedLayers) | \(.millis/1000) | \($t) |"' "$p"
jq -r --arg t "$(cat "$OUT/apply-symlink.seconds")" '.summary | "| symlink mode | \(.after.registryBlobBytes) | \(.after.redundantBytes) | \((.redundancyRemoved*1000|round)/10)% | \(.after.layers) | \(.sharedLayers) | \(.millis/1000) | \($t) |"' "$s"
echo
echo "ideal bytes (distinct file contents): $(jq .idealBytes "$a"); total file bytes: $(jq .totalBytes "$a")"
echo "registry storage (du of blobs): originals $(jq .registryStorageOriginals "$OUT/storage.json"), added by path mode $(jq .addedByPathMode "$OUT/storage.json"), added by symlink mode $(jq .addedBySymlinkMode "$OUT/storage.json")"
echo
echo "| image | layers before | path: layers | path: shared layers | path: bytes in shared layers | symlink: shared layers | symlink: bytes in shared layers |"
echo "|---|---:|---:|---:|---:|---:|---:|"
jq -r -n --slurpfile p "$p" --slurpfile s "$s" '
  [$p[0].summary.perImage, $s[0].summary.perImage] | transpose[] |
  "| \(.[0].image) | \(.[0].layersBefore) | \(.[0].layersAfter) | \(.[0].sharedLayers) | \((.[0].sharedLayerShare*1000|round)/10)% | \(.[1].sharedLayers) | \((.[1].sharedLayerShare*1000|round)/10)% |"'
echo
echo "| from → to | update bytes (layers of B not in A) | duplicated bytes in them | delta bytes | delta / update |"
echo "|---|---:|---:|---:|---:|"
for f in "$OUT"/delta-*.json; do
  [ -f "$f" ] || continue
  jq -r '"| \(.from) → \(.to) | \(.updateBytes) | \(.duplicatedBytes) | \(.deltaBytes) | \(if .updateBytes > 0 then ((.deltaBytes/.updateBytes*1000|round)/10|tostring) + "%" else "–" end) |"' "$f"
done
if [ "$VERIFY" = 1 ]; then
  echo "umoci equivalence of path-mode images: $(grep -c ' identical ' "$OUT/verify.txt") of ${#REFS[@]} identical"
  grep DIFFERENT "$OUT/verify.txt" || true
fi
echo
log "results in $OUT; total $(echo "$(now) - $t0" | bc) s"
