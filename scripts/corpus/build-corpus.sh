#!/usr/bin/env bash
# build-corpus.sh — builds LayerSwarm's real OCI image corpus from real Debian (bookworm) packages.
#
# Usage:
#   scripts/corpus/build-corpus.sh --set small|full --out DIR [--push http://127.0.0.1:PORT]
#                                  [--only NAME:TAG]... [--push-only] [--images-json FILE]
#
#   --set small   3 tiny images (busybox-static, base-files, netbase, tzdata, media-types; a few MB),
#                 for unit/integration tests. No dependency closure is needed: every package used is
#                 statically linked or architecture-independent data.
#   --set full    20 application images shaped like real Dockerfiles (~1.35 GB), for benchmarks.
#   --out DIR     output directory (created; must be empty or hold an earlier corpus of the same set).
#   --push URL    after building, push every image with skopeo to a LOOPBACK registry
#                 (http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT) as URLHOST/NAME:TAG.
#   --push-only   do not build; push the corpus already in --out.
#   --only REF    build only the named image(s) (repeatable), e.g. --only nginx:1.22-min.
#   --images-json FILE  also write the cache-simulator images file
#                 {"name:tag": {"layers": [{"digest": ..., "size": ...}]}} (see images-json.sh).
#
# Output (one OCI image layout per image, so each image is built independently and its blobs never
# leak into another image's layout):
#   DIR/layouts/<name>_<tag>/     OCI image layout (oci-layout, index.json, blobs/sha256/...), ref <tag>
#   DIR/corpus.json               {"set", "sourceDateEpoch", "images": [{name, tag, ref, layout,
#                                  manifestDigest, manifestSize, configDigest, totalSize,
#                                  layers: [{digest, size, diffId, mediaType, createdBy, packages}]}]}
#
# How images are built (like `FROM scratch` + `RUN apt-get install` Dockerfiles, without a daemon):
#   * package sets are resolved with the real apt solver against an EMPTY dpkg status
#     (`apt-get -s install --no-install-recommends`), so every layer holds the true dependency closure
#     of its packages minus the packages already present in lower layers of THAT image;
#   * only Debian archive versions are eligible (an apt preferences file pins origin Debian and
#     forbids third-party sources configured on the machine); "-r0" images are resolved against the
#     bookworm point release only (no -security/-updates), giving realistic security-update pairs;
#   * .debs are fetched with `apt-get download` (through apt only) into the deb cache
#     ${LAYERSWARM_DEB_CACHE:-$HOME/.cache/layerswarm/debs}, reused between runs;
#   * each layer = files of its packages extracted with `dpkg-deb` into a staging dir, /bin /sbin /lib*
#     folded into /usr (merged-usr, as bookworm images are; the base layer holds the bin -> usr/bin
#     symlinks), plus small config files written by this script (passwd from base-passwd's masters,
#     app configs, entrypoints);
#   * layer tars are written by GNU tar with sorted names, mtimes clamped to SOURCE_DATE_EPOCH and
#     numeric owners, then added with `umoci raw add-layer` (gzip) with fixed history dates; the image
#     config gets `created` = SOURCE_DATE_EPOCH.
#
# Determinism: with the same apt package lists (i.e. the same `apt-get update` state), the same deb
# files and running as root, rebuilding yields bit-identical layers and manifests (checked with
# `--only` twice; see BENCHMARKS.md). NOT deterministic: (1) package versions follow the apt lists, so
# a later `apt-get update` that brings security updates changes the "current" images (the -r0 images
# only move with bookworm point releases); (2) running as non-root cannot preserve package file
# ownership, so owners are forced to 0:0 and digests differ from a root build.
#
# Network: only `apt-get download` (Debian mirrors configured in apt) and, with --push, the loopback
# registry given. Needs: apt-get, apt-cache, dpkg-deb, GNU tar, umoci, jq, sha256sum (+ skopeo to push).
set -euo pipefail
umask 022
export LC_ALL=C

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SET=""
OUT=""
PUSH=""
PUSH_ONLY=0
IMAGES_JSON=""
ONLY=()
DEB_CACHE="${LAYERSWARM_DEB_CACHE:-$HOME/.cache/layerswarm/debs}"
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1735689600}" # 2025-01-01T00:00:00Z
export SOURCE_DATE_EPOCH
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"

die() { echo "build-corpus: error: $*" >&2; exit 1; }
log() { echo "build-corpus: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --set) SET="${2:-}"; shift 2 ;;
    --out) OUT="${2:-}"; shift 2 ;;
    --push) PUSH="${2:-}"; shift 2 ;;
    --push-only) PUSH_ONLY=1; shift ;;
    --only) ONLY+=("${2:-}"); shift 2 ;;
    --images-json) IMAGES_JSON="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$SET" in small|full) ;; *) die "--set must be 'small' or 'full' (got '${SET}')" ;; esac
[ -n "$OUT" ] || die "--out DIR is required"
if [ -n "$PUSH" ]; then
  # Pushes only ever go to a registry on this machine's loopback interface.
  [[ "$PUSH" =~ ^http://(127\.0\.0\.1|localhost|\[::1\]):([0-9]{1,5})/?$ ]] \
    || die "--push must be http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT (got '$PUSH')"
  [ "${BASH_REMATCH[2]}" -le 65535 ] || die "--push port out of range: $PUSH"
  PUSH_HOST="${PUSH#http://}"; PUSH_HOST="${PUSH_HOST%/}"
fi
[ "$PUSH_ONLY" = 0 ] || [ -n "$PUSH" ] || die "--push-only needs --push URL"

need() { command -v "$1" >/dev/null 2>&1 || die "required tool '$1' not found on PATH (install it: $2)"; }
need jq "apt-get install jq"
need umoci "scripts/install-system-packages.sh"
need sha256sum "coreutils"
if [ "$PUSH_ONLY" = 0 ]; then
  need apt-get "Debian apt"; need apt-cache "Debian apt"; need dpkg-deb "dpkg"
  tar --version 2>/dev/null | grep -q "GNU tar" || die "GNU tar is required"
fi
[ -z "$PUSH" ] || need skopeo "scripts/install-system-packages.sh"

OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/layerswarm-corpus.XXXXXX")"
chmod 0711 "$WORK" # lets apt's _apt sandbox user reach the download dir
trap 'rm -rf "$WORK"' EXIT
if [ "$(id -u)" = 0 ]; then OWNER_OPTS=(--numeric-owner); else OWNER_OPTS=(--owner=0 --group=0 --numeric-owner); fi

# ---------------------------------------------------------------- apt resolution (no root needed)
mkdir -p "$WORK/apt/prefs.d"
: > "$WORK/apt/status"
# "current": every Debian bookworm suite (point release + -updates + -security).
cat > "$WORK/apt/prefs-current" <<'EOF'
Package: *
Pin: release o=Debian
Pin-Priority: 900

Package: *
Pin: release o=Debian Security
Pin-Priority: 900

Package: *
Pin: origin "deb.debian.org"
Pin-Priority: 900

Package: *
Pin: origin "*"
Pin-Priority: -1
EOF
# "r0": the bookworm point release only, as an image built before the latest security updates.
cat > "$WORK/apt/prefs-r0" <<'EOF'
Package: *
Pin: release o=Debian,n=bookworm
Pin-Priority: 900

Package: *
Pin: origin "*"
Pin-Priority: -1
EOF

apt_opts() {
  printf '%s\n' -o "Dir::State::status=$WORK/apt/status" -o "Dir::Etc::Preferences=$WORK/apt/prefs-$1" \
    -o "Dir::Etc::PreferencesParts=$WORK/apt/prefs.d" -o APT::Install-Recommends=false \
    -o APT::Install-Suggests=false -o Debug::NoLocking=true
}

# resolve VARIANT PKG... -> "name version" lines: the closure apt would install on an empty system.
resolve() {
  local variant="$1"; shift
  local opts; mapfile -t opts < <(apt_opts "$variant")
  local out
  out="$(apt-get "${opts[@]}" -s install "$@" 2>&1)" \
    || die "apt cannot resolve [$*] (variant $variant):"$'\n'"$out"
  awk '/^Inst /{v=$3; gsub(/[()]/, "", v); n=$2; sub(/:.*/, "", n); print n, v}' <<<"$out" | sort -u
}

deb_path() { # name version -> cached .deb path (apt's file naming: epoch colon as %3a)
  local f
  f="$(compgen -G "$DEB_CACHE/${1}_${2//:/%3a}_*.deb" | head -n1 || true)"
  printf '%s' "$f"
}

# fetch "name version" lines (stdin) into the deb cache, through apt only.
fetch() {
  mkdir -p "$DEB_CACHE"
  local want=() name ver
  while read -r name ver; do
    [ -n "$(deb_path "$name" "$ver")" ] || want+=("$name=$ver")
  done
  [ ${#want[@]} -gt 0 ] || return 0
  log "downloading ${#want[@]} packages with apt-get download"
  local dl; dl="$(mktemp -d "$WORK/dl.XXXXXX")"
  chmod 0777 "$dl" # lets apt's unprivileged _apt sandbox user write there
  (cd "$dl" && apt-get -q -o Debug::NoLocking=true download "${want[@]}" >&2) \
    || die "apt-get download failed for: ${want[*]}"
  local f
  for f in "$dl"/*.deb; do mv -f "$f" "$DEB_CACHE/"; done # rename: never a partial .deb in the cache
}

# ---------------------------------------------------------------- image assembly
# Per-image state (one image at a time).
IMG_NAME="" IMG_TAG="" IMG_VARIANT="" IMG_LAYOUT="" IMG_DIR=""
IMG_PKGS=()   # "name version" lines present in lower layers
IMG_CFG=()    # umoci config args
IMG_LAYER_N=0
LAYER_HOOK="" # optional function run on the staging dir of the next package layer (then cleared)

image_begin() { # NAME TAG [current|r0]
  IMG_NAME="$1" IMG_TAG="$2" IMG_VARIANT="${3:-current}"
  IMG_DIR="$WORK/img/${IMG_NAME}_${IMG_TAG}"
  IMG_LAYOUT="$OUT/layouts/${IMG_NAME}_${IMG_TAG}"
  IMG_PKGS=() IMG_CFG=() IMG_LAYER_N=0
  rm -rf "$IMG_LAYOUT" "$IMG_DIR"
  mkdir -p "$IMG_DIR" "$OUT/layouts"
  : > "$IMG_DIR/layers.jsonl"
  umoci init --layout "$IMG_LAYOUT"
  umoci new --image "$IMG_LAYOUT:$IMG_TAG"
  log "image $IMG_NAME:$IMG_TAG ($IMG_VARIANT)"
}

stage_new() { STAGE="$(mktemp -d "$IMG_DIR/stage.XXXXXX")"; chmod 0755 "$STAGE"; }

# extract "name version" lines (stdin) into $STAGE
stage_debs() {
  local name ver deb
  while read -r name ver; do
    deb="$(deb_path "$name" "$ver")"
    [ -n "$deb" ] || die "package $name=$ver missing from deb cache $DEB_CACHE"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -p -C "$STAGE" || die "cannot extract $deb"
  done
}

# merged-usr: fold top-level bin/sbin/lib* into usr/ (the base layer carries the symlinks).
stage_usrmerge() {
  local d
  for d in bin sbin lib lib32 lib64 libx32; do
    if [ -d "$STAGE/$d" ] && [ ! -L "$STAGE/$d" ]; then
      mkdir -p "$STAGE/usr/$d"
      cp -al "$STAGE/$d/." "$STAGE/usr/$d/"
      rm -rf "${STAGE:?}/$d"
    fi
  done
}

# commit $STAGE as the next layer. COMMENT PACKAGES_FILE
stage_commit() {
  local comment="$1" pkgfile="$2"
  IMG_LAYER_N=$((IMG_LAYER_N + 1))
  local tarf="$IMG_DIR/layer$IMG_LAYER_N.tar"
  local entries; mapfile -t entries < <(cd "$STAGE" && ls -A | sort)
  [ ${#entries[@]} -gt 0 ] || die "empty layer '$comment' in $IMG_NAME:$IMG_TAG"
  tar --format=gnu --sort=name --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime "${OWNER_OPTS[@]}" \
    -C "$STAGE" -cf "$tarf" "${entries[@]}"
  umoci raw add-layer --image "$IMG_LAYOUT:$IMG_TAG" --history.created "$CREATED" \
    --history.created_by "$comment" "$tarf"
  jq -cn --arg c "$comment" --rawfile p "$pkgfile" \
    '{createdBy: $c, packages: ($p | split("\n") | map(select(length > 0) | sub(" "; "=")))}' \
    >> "$IMG_DIR/layers.jsonl"
  rm -rf "$STAGE" "$tarf"
}

# layer_debs COMMENT PKG...: exactly these packages (current candidates), no dependency closure.
layer_debs() {
  local comment="$1"; shift
  local list="$IMG_DIR/pkgs$((IMG_LAYER_N + 1))"
  local opts; mapfile -t opts < <(apt_opts "$IMG_VARIANT")
  local p v
  : > "$list"
  for p in "$@"; do
    v="$(apt-cache "${opts[@]}" policy "$p" | awk '/Candidate:/{print $2}')"
    [ -n "$v" ] && [ "$v" != "(none)" ] || die "no Debian candidate for package '$p'"
    echo "$p $v" >> "$list"
  done
  fetch < "$list"
  stage_new; stage_debs < "$list"; stage_usrmerge
  if [ -n "$LAYER_HOOK" ]; then "$LAYER_HOOK" "$STAGE"; fi
  LAYER_HOOK=""
  stage_commit "$comment" "$list"
  cat "$list" >> "$IMG_DIR/present"
}

# layer_apt PKG...: closure of PKG... minus packages in lower layers ("RUN apt-get install PKG...").
layer_apt() {
  local list="$IMG_DIR/pkgs$((IMG_LAYER_N + 1))"
  touch "$IMG_DIR/present"
  # resolve everything the image would have, keep what lower layers lack (by package name)
  local lower; lower="$(awk '{print $1}' "$IMG_DIR/present" | sort -u)"
  resolve "$IMG_VARIANT" $(awk '{print $1}' "$IMG_DIR/present") "$@" \
    | awk 'NR==FNR{have[$1]=1; next} !($1 in have)' <(printf '%s\n' "$lower") - > "$list"
  [ -s "$list" ] || die "layer for [$*] in $IMG_NAME:$IMG_TAG would be empty"
  fetch < "$list"
  stage_new; stage_debs < "$list"; stage_usrmerge
  if [ -n "$LAYER_HOOK" ]; then "$LAYER_HOOK" "$STAGE"; fi
  LAYER_HOOK=""
  stage_commit "RUN apt-get install --no-install-recommends $* # $(wc -l < "$list") packages" "$list"
  cat "$list" >> "$IMG_DIR/present"
}

# layer_files COMMENT FUNC: a layer of files written by FUNC "$STAGE" (config, entrypoint, app).
layer_files() {
  local comment="$1" fn="$2"
  local empty="$IMG_DIR/nopkgs"; : > "$empty"
  stage_new
  "$fn" "$STAGE"
  stage_commit "$comment" "$empty"
}

image_config() { IMG_CFG+=("$@"); }

image_end() {
  umoci config --image "$IMG_LAYOUT:$IMG_TAG" --no-history --created "$CREATED" --author "LayerSwarm corpus" \
    --architecture amd64 --os linux "${IMG_CFG[@]}" \
    --config.label "org.opencontainers.image.source=layerswarm/scripts/corpus/build-corpus.sh"
  umoci gc --layout "$IMG_LAYOUT"
  jq -s '.' "$IMG_DIR/layers.jsonl" > "$IMG_DIR/layers.json"
  local mdesc mdig mfile cfg
  mdesc="$(jq -c --arg t "$IMG_TAG" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)' "$IMG_LAYOUT/index.json")"
  mdig="$(jq -r .digest <<<"$mdesc")"
  mfile="$IMG_LAYOUT/blobs/sha256/${mdig#sha256:}"
  cfg="$IMG_LAYOUT/blobs/sha256/$(jq -r '.config.digest | sub("sha256:"; "")' "$mfile")"
  jq -c -n --arg name "$IMG_NAME" --arg tag "$IMG_TAG" --arg layout "layouts/${IMG_NAME}_${IMG_TAG}" \
    --argjson desc "$mdesc" --slurpfile m "$mfile" --slurpfile c "$cfg" --slurpfile l "$IMG_DIR/layers.json" '
    ($m[0]) as $m | ($c[0]) as $c | ($l[0]) as $l |
    {name: $name, tag: $tag, ref: ($name + ":" + $tag), layout: $layout,
     manifestDigest: $desc.digest, manifestSize: $desc.size, configDigest: $m.config.digest,
     totalSize: ($desc.size + $m.config.size + ([$m.layers[].size] | add)),
     layers: [range(0; $m.layers | length) as $i |
       {digest: $m.layers[$i].digest, size: $m.layers[$i].size, diffId: $c.rootfs.diff_ids[$i],
        mediaType: $m.layers[$i].mediaType, createdBy: $l[$i].createdBy, packages: $l[$i].packages}]}' \
    > "$OUT/.entry-${IMG_NAME}_${IMG_TAG}.json"
  rm -rf "$IMG_DIR"
}

# ---------------------------------------------------------------- config-file writers
# base layer extras: what dpkg maintainer scripts would have created on a real system.
base_extras() {
  local s="$1" d
  for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$s/$d"; done
  mkdir -p "$s/etc"
  if [ -f "$s/usr/share/base-passwd/passwd.master" ]; then
    cp "$s/usr/share/base-passwd/passwd.master" "$s/etc/passwd"
    cp "$s/usr/share/base-passwd/group.master" "$s/etc/group"
  fi
  [ -e "$s/usr/bin/awk" ] || { [ -e "$s/usr/bin/mawk" ] && ln -s mawk "$s/usr/bin/awk"; } || true
  printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\nshadow: files\n' > "$s/etc/nsswitch.conf"
  mkdir -p "$s/tmp" "$s/var/tmp"; chmod 1777 "$s/tmp" "$s/var/tmp"
  if [ -d "$s/usr/share/ca-certificates/mozilla" ]; then
    # the bundle ca-certificates' postinst (update-ca-certificates) writes from the shipped certs
    mkdir -p "$s/etc/ssl/certs"
    find "$s/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat > "$s/etc/ssl/certs/ca-certificates.crt"
  fi
}

# passwd additions a Dockerfile's `RUN useradd` would leave (a new copy of /etc/passwd and /etc/group
# built on the base-passwd masters). add_user STAGE NAME UID HOME
add_user() {
  local s="$1" user="$2" uid="$3" home="$4"
  mkdir -p "$s/etc"
  local base_passwd
  base_passwd="$(deb_path $(grep '^base-passwd ' "$IMG_DIR/present"))"
  [ -n "$base_passwd" ] || die "add_user needs base-passwd in a lower layer of $IMG_NAME:$IMG_TAG"
  if [ ! -f "$s/etc/passwd" ]; then
    dpkg-deb --fsys-tarfile "$base_passwd" | tar -xO ./usr/share/base-passwd/passwd.master > "$s/etc/passwd"
    dpkg-deb --fsys-tarfile "$base_passwd" | tar -xO ./usr/share/base-passwd/group.master > "$s/etc/group"
  fi
  echo "$user:x:$uid:$uid::$home:/usr/sbin/nologin" >> "$s/etc/passwd"
  echo "$user:x:$uid:" >> "$s/etc/group"
  if [ "$home" != /nonexistent ]; then mkdir -p "$s$home"; chown "$uid:$uid" "$s$home" 2>/dev/null || true; fi
}

# ---- small set
small_rootfs_extras() { # busybox-static applet links + passwd for a shell-only image
  local s="$1" a
  ln -sfn usr/bin "$s/bin"; ln -sfn usr/sbin "$s/sbin"
  mkdir -p "$s/usr/sbin" "$s/etc" "$s/tmp"; chmod 1777 "$s/tmp"
  for a in sh ls cat echo date wget httpd sleep sha256sum tar gzip vi; do ln -sfn busybox "$s/usr/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$s/etc/passwd"
  printf 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n' > "$s/etc/group"
}
small_httpd_conf() {
  local s="$1"
  mkdir -p "$s/srv/www" "$s/etc/httpd"
  cat > "$s/srv/www/index.html" <<'EOF'
<!doctype html>
<html><head><title>LayerSwarm demo</title></head>
<body><h1>Served from a layer fetched through the LayerSwarm swarm.</h1></body></html>
EOF
  printf 'H:/srv/www\nI:index.html\n.html:text/html\n' > "$s/etc/httpd/httpd.conf"
  mkdir -p "$s/usr/local/bin"
  cat > "$s/usr/local/bin/entrypoint.sh" <<'EOF'
#!/bin/sh
# Serve /srv/www on port 8080 in the foreground.
exec /usr/bin/busybox httpd -f -v -p "${PORT:-8080}" -c /etc/httpd/httpd.conf -h /srv/www
EOF
  chmod 0755 "$s/usr/local/bin/entrypoint.sh"
}
small_tz_conf_v1() { local s="$1"; mkdir -p "$s/etc"; echo "Etc/UTC" > "$s/etc/timezone"; ln -sfn /usr/share/zoneinfo/Etc/UTC "$s/etc/localtime"; printf 'interval=30\n' > "$s/etc/clock.conf"; }
small_tz_conf_v2() { local s="$1"; mkdir -p "$s/etc"; echo "Europe/Berlin" > "$s/etc/timezone"; ln -sfn /usr/share/zoneinfo/Europe/Berlin "$s/etc/localtime"; printf 'interval=10\nformat=iso\n' > "$s/etc/clock.conf"; }

build_small() {
  # demo-httpd:1 — busybox userland layer + web config layer (also the daemon's embedded demo image)
  if want demo-httpd:1; then
    image_begin demo-httpd 1
    LAYER_HOOK=small_rootfs_extras
    layer_debs "ADD busybox-static base userland" busybox-static netbase
    layer_files "COPY httpd.conf index.html entrypoint.sh" small_httpd_conf
    image_config --config.entrypoint /usr/local/bin/entrypoint.sh --config.exposedports 8080/tcp \
      --config.env PATH=/usr/local/bin:/usr/bin:/bin --config.user 33:33
    image_end
  fi
  # clock:1 / clock:2 — same busybox files in a different layer (different digest from demo-httpd's),
  # then tzdata; :2 is an "update": same first layer (shared digest), data layer adds media-types,
  # new config layer.
  local v
  for v in 1 2; do
    want "clock:$v" || continue
    image_begin clock "$v"
    LAYER_HOOK=small_rootfs_extras
    layer_debs "ADD busybox-static base userland" busybox-static base-files
    if [ "$v" = 1 ]; then layer_debs "ADD tzdata" tzdata; else layer_debs "ADD tzdata media-types" tzdata media-types; fi
    layer_files "COPY clock.conf timezone" "small_tz_conf_v$v"
    image_config --config.entrypoint /bin/sh --config.cmd -c --config.cmd 'while :; do date; sleep 30; done' \
      --config.env PATH=/usr/bin:/bin --config.env TZ="$([ "$v" = 1 ] && echo Etc/UTC || echo Europe/Berlin)"
    image_end
  done
}

want() { # REF: is this image selected by --only (or no --only given)?
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local r; for r in "${ONLY[@]}"; do [ "$r" = "$1" ] && return 0; done
  return 1
}

# ---------------------------------------------------------------- full set
source "$SCRIPT_DIR/full-images.sh"

# ---------------------------------------------------------------- main
write_corpus_json() {
  local entries=()
  mapfile -t entries < <(ls "$OUT"/.entry-*.json 2>/dev/null | sort)
  [ ${#entries[@]} -gt 0 ] || die "no images in $OUT"
  jq -s --arg set "$SET" --argjson sde "$SOURCE_DATE_EPOCH" \
    '{set: $set, sourceDateEpoch: $sde, images: (sort_by(.ref))}' "${entries[@]}" > "$OUT/corpus.json.tmp"
  mv "$OUT/corpus.json.tmp" "$OUT/corpus.json"
}

push_all() {
  local ref layout
  while IFS=$'\t' read -r ref layout; do
    log "push $ref -> $PUSH_HOST/$ref"
    skopeo copy -q --dest-tls-verify=false "oci:$OUT/$layout:${ref##*:}" "docker://$PUSH_HOST/$ref" >&2 \
      || die "skopeo push of $ref to $PUSH_HOST failed"
  done < <(jq -r '.images[] | [.ref, .layout] | @tsv' "$OUT/corpus.json")
}

if [ "$PUSH_ONLY" = 0 ]; then
  start=$(date +%s)
  if [ -f "$OUT/corpus.json" ] && [ "$(jq -r .set "$OUT/corpus.json")" != "$SET" ]; then
    die "$OUT holds a '$(jq -r .set "$OUT/corpus.json")' corpus; use another --out"
  fi
  if [ ${#ONLY[@]} -eq 0 ]; then rm -rf "$OUT/layouts" "$OUT"/.entry-*.json; fi
  case "$SET" in small) build_small ;; full) build_full ;; esac
  for r in "${ONLY[@]}"; do
    [ -f "$OUT/.entry-${r%%:*}_${r#*:}.json" ] || die "--only $r: no such image in the '$SET' set"
  done
  write_corpus_json
  log "built $(jq '.images | length' "$OUT/corpus.json") images, $(jq '[.images[].totalSize] | add' "$OUT/corpus.json") bytes, in $(( $(date +%s) - start ))s -> $OUT"
fi
[ -f "$OUT/corpus.json" ] || die "no corpus.json in $OUT"
if [ -n "$IMAGES_JSON" ]; then "$SCRIPT_DIR/images-json.sh" "$OUT/corpus.json" > "$IMAGES_JSON"; fi
if [ -n "$PUSH" ]; then push_all; fi
