#!/usr/bin/env bash
# Quick start 2: install what is missing, build everything, check the changed sources with clang-tidy
# (scripts/tidy.sh), and run the whole test suite: once in the normal build, once under
# AddressSanitizer and UndefinedBehaviorSanitizer (the `sanitize` preset). Chromium is for the test that
# opens the HTML report in a real browser, python3-jsonschema for the test of the JSON Schemas in docs/,
# python3 for the judge runner's scripted server (tests/judge_server.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh chromium python3 python3-jsonschema clang-tidy
cmake --preset default
cmake --build --preset default -j "$(nproc)"
bash scripts/tidy.sh build
ctest --preset default -j "$(nproc)"
cmake --preset sanitize
cmake --build --preset sanitize -j "$(nproc)"
ctest --preset sanitize -j "$(nproc)"
