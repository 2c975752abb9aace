#!/usr/bin/env bash
# Quick start 2: install what is missing, build everything, check the changed sources with clang-tidy
# (scripts/tidy.sh), and run the whole test suite: once in the normal build, once under
# AddressSanitizer and UndefinedBehaviorSanitizer (the `sanitize` preset). Chromium is for the test that
# opens the HTML report in a real browser, python3-jsonschema for the test of the JSON Schemas in docs/,
# python3 for the judge runner's scripted server (tests/judge_server.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's wall time, so that a slow suite shows where its time goes.
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "test.sh: $name took $((SECONDS - start)) s (total $SECONDS s)"
}
phase deps bash scripts/deps.sh chromium python3 python3-jsonschema clang-tidy
phase configure cmake --preset default
phase build cmake --build --preset default -j "$(nproc)"
phase clang-tidy bash scripts/tidy.sh build
phase tests ctest --preset default -j "$(nproc)"
phase sanitize-configure cmake --preset sanitize
phase sanitize-build cmake --build --preset sanitize -j "$(nproc)"
phase sanitize-tests ctest --preset sanitize -j "$(nproc)"
