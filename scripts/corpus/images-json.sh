#!/usr/bin/env bash
# images-json.sh — turns a corpus.json (written by build-corpus.sh) into the cache simulator's
# images file: {"<name:tag>": {"layers": [{"digest": "sha256:...", "size": <bytes>}, ...]}}, layers in
# image order (base first), sizes of the compressed blobs.
#
# Usage: scripts/corpus/images-json.sh OUT_DIR/corpus.json > images.json
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CORPUS_JSON" >&2; exit 2; }
[ -f "$1" ] || { echo "images-json: no such file: $1" >&2; exit 1; }
command -v jq >/dev/null || { echo "images-json: jq is required" >&2; exit 1; }
jq -S '.images | map({key: .ref, value: {layers: [.layers[] | {digest, size}]}}) | from_entries' "$1"
