#!/usr/bin/env bash
# Installs the Debian 12 packages judgebias builds with, when any is missing, and any further packages
# named as arguments (the fuzzers' clang). Needs root (or sudo).
set -euo pipefail
packages=(g++ cmake make pkg-config nlohmann-json3-dev libfmt-dev libeigen3-dev libgtest-dev libcli11-dev
          libsimdjson-dev libbenchmark-dev libcurl4-openssl-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "scripts/deps.sh: run as root, or install sudo, to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" >/dev/null
