#!/usr/bin/env bash
# Installs the real tools the tests drive: an OCI registry, independent OCI clients,
# a STUN/TURN server and the network-namespace tooling. Idempotent.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS=(docker-registry skopeo umoci coturn iproute2 iptables dpkg-dev apache2-utils curl ca-certificates nodejs npm jq containerd runc prometheus stress-ng gnuplot-nox systemd attr)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian on some machines; only ask apt for them if absent.
if command -v node >/dev/null 2>&1; then missing=("${missing[@]/nodejs}"); fi
if command -v npm >/dev/null 2>&1; then missing=("${missing[@]/npm}"); fi
clean=(); for p in "${missing[@]}"; do [ -n "$p" ] && clean+=("$p"); done
export DEBIAN_FRONTEND=noninteractive
# Always refresh the package lists once: the image corpus is built with `apt-get download`.
$SUDO apt-get update
if [ ${#clean[@]} -gt 0 ]; then
  $SUDO apt-get install -y --no-install-recommends "${clean[@]}"
fi
# The Debian registry package starts a system service; tests start their own instances.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop docker-registry 2>/dev/null || true; fi
