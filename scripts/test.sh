#!/usr/bin/env bash
# Quick start 2: install what is missing, build everything (the Python package's extension module too),
# check the changed sources with clang-tidy (scripts/tidy.sh), and run the whole test suite: once in the
# normal build, then the Python package installed with pip into a virtual environment and its pytest
# suite, then everything again under AddressSanitizer and UndefinedBehaviorSanitizer (the `sanitize`
# preset). Chromium is for the test that opens the HTML report in a real browser, python3-jsonschema for
# the test of the JSON Schemas in docs/, python3 for the judge runner's scripted server
# (tests/judge_server.py); pybind11-dev, python3-dev, python3-venv, python3-setuptools, python3-wheel (pip
# builds the wheel with them, offline), python3-pytest, python3-pandas and python3-mypy for the Python
# package (python/, docs/python.md). Debian's own Python, /usr/bin/python3,
# builds and tests it, whatever `python3` is first on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's wall time, so that a slow suite shows where its time goes.
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "test.sh: $name took $((SECONDS - start)) s (total $SECONDS s)"
}
phase deps bash scripts/deps.sh chromium python3 python3-jsonschema clang-tidy \
  pybind11-dev python3-dev python3-venv python3-setuptools python3-wheel python3-pytest python3-pandas python3-mypy
phase configure cmake --preset default -DJUDGEBIAS_BUILD_PYTHON=ON -DPython3_EXECUTABLE=/usr/bin/python3
phase build cmake --build --preset default -j "$(nproc)"
phase clang-tidy bash scripts/tidy.sh build
phase tests ctest --preset default -j "$(nproc)"
# The README's `pip install --no-build-isolation ./python`, offline, into a fresh virtual environment,
# from the build just tested (JUDGEBIAS_CMAKE_BUILD_DIR: python/setup.py builds the module there, which is
# up to date), then the package's tests against the installed package and the binary.
python_package() {
  local venv=build/python-venv
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  JUDGEBIAS_CMAKE_BUILD_DIR="$PWD/build" "$venv/bin/pip" install --no-build-isolation --no-index --quiet ./python
  JUDGEBIAS_BINARY="$PWD/build/judgebias" "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
}
phase python python_package
phase sanitize-configure cmake --preset sanitize
phase sanitize-build cmake --build --preset sanitize -j "$(nproc)"
phase sanitize-tests ctest --preset sanitize -j "$(nproc)"
