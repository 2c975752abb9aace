#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and run judgebias on the embedded sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target judgebias_cli -j "$(nproc)" >/dev/null
./build/judgebias run -o report.json -o report.html
