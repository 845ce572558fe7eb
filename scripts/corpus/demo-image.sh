#!/usr/bin/env bash
# demo-image.sh — (re)builds the daemon's embedded demo image: the small set's demo-httpd:1
# (busybox-static + netbase layer, web config layer; ~1.3 MB) as an OCI image layout in
# samples/daemon/src/main/resources/demo-image/ (reference "1" in its index.json).
#
# Usage: scripts/corpus/demo-image.sh [DEST_DIR]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="${1:-$HERE/../../samples/daemon/src/main/resources/demo-image}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
"$HERE/build-corpus.sh" --set small --only demo-httpd:1 --out "$TMP/out"
rm -rf "$DEST.new"; mkdir -p "$DEST.new"
cp -a "$TMP/out/layouts/demo-httpd_1/." "$DEST.new/"
jq '.images[0] | {ref, manifestDigest, totalSize, layers: [.layers[] | {digest, size, diffId, createdBy, packages}]}' \
  "$TMP/out/corpus.json" > "$DEST.new/image.json"
[ ! -f "$DEST/README.md" ] || cp "$DEST/README.md" "$DEST.new/README.md"
rm -rf "$DEST"; mv "$DEST.new" "$DEST"
echo "demo image -> $DEST ($(du -sb "$DEST" | cut -f1) bytes)"
