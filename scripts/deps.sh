#!/usr/bin/env bash
# Installs the Debian 12 packages judgebias builds with, when any is missing. Needs root (or sudo).
set -euo pipefail
packages=(g++ cmake make nlohmann-json3-dev libfmt-dev libeigen3-dev libgtest-dev libcli11-dev
          libsimdjson-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
