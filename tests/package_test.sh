#!/usr/bin/env bash
# judgebias in another project: MODE "install" installs the build into a temporary prefix and builds a
# consumer with find_package, then with pkg-config; MODE "subdirectory" builds the consumer with
# add_subdirectory of the source tree. Each runs an example on the embedded sample.
# Usage: package_test.sh MODE SOURCE_DIR BUILD_DIR
set -eu
mode=$1 src=$2 build=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)
run_example() {  # the embedded sample: alpha-7b's planted self-preference shows
  "$1" >"$work/out" 2>&1 || { echo "FAIL: $1"; cat "$work/out"; exit 1; }
  grep -Eq 'alpha-7b +\+[1-9][0-9]\.[0-9]' "$work/out" || { echo "FAIL: unexpected output of $1:"; cat "$work/out"; exit 1; }
}
case $mode in
  install)
    cmake --install "$build" --prefix "$work/prefix" >/dev/null
    cmake -S "$src/tests/package" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DJUDGEBIAS_EXAMPLES="$src/examples" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    cmake --build "$work/consumer" -j "$jobs" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    run_example "$work/consumer/dbg_per_judge"
    echo "find_package: examples and public headers built, dbg_per_judge ran"
    # pkg-config, for builds without CMake.
    export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
    # shellcheck disable=SC2046
    g++ "$src/examples/dbg_per_judge.cpp" -o "$work/pc_example" $(pkg-config --cflags --libs --static judgebias) \
      || { echo "FAIL: building with pkg-config"; exit 1; }
    run_example "$work/pc_example"
    echo "pkg-config: $(pkg-config --modversion judgebias), dbg_per_judge built and ran"
    ;;
  subdirectory)
    cmake -S "$src/tests/package" -B "$work/consumer" -DJUDGEBIAS_SOURCE="$src" -DJUDGEBIAS_EXAMPLES="$src/examples" -DJUDGEBIAS_UNITY=ON \
      >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    # One example is enough here (the headers and the other examples are checked by the install mode);
    # the library itself is compiled again inside the consumer, which is the slow part: as a unity build
    # (JUDGEBIAS_UNITY, a few large units), which also checks that option from a consumer.
    cmake --build "$work/consumer" -j "$jobs" --target dbg_per_judge >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    run_example "$work/consumer/dbg_per_judge"
    [ ! -e "$work/consumer/judgebias/tests" ] || { echo "FAIL: judgebias' tests were configured in a consumer"; exit 1; }
    grep -q '^CMAKE_BUILD_TYPE:STRING=$' "$work/consumer/CMakeCache.txt" \
      || { echo "FAIL: judgebias set the consumer's build type"; exit 1; }
    echo "add_subdirectory: dbg_per_judge built with the library from source and ran; no tests of judgebias configured"
    ;;
  *) echo "usage: package_test.sh install|subdirectory SOURCE_DIR BUILD_DIR" >&2; exit 2 ;;
esac
