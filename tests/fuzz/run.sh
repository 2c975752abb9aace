#!/usr/bin/env bash
# Runs libFuzzer targets for SECONDS each, JOBS at a time (default: one per core), and reports executions
# and findings. TARGETs are the names of tests/fuzz/fuzz_TARGET.cpp (reader, pipeline, import, templates,
# ...); all of them by default. Each starts from its corpus, tests/fuzz/corpus-TARGET/ (reader and pipeline:
# tests/fuzz/corpus/), with tests/fuzz/TARGET.dict as its dictionary when there is one, else
# judgments.dict. New inputs go to a working corpus in the build folder, not into the repository; a crash
# is saved there as crash-* and makes the exit status 1 (copy it into the target's corpus once fixed, as a
# regression test: ctest replays every corpus).
# Usage: tests/fuzz/run.sh SECONDS [BUILD_DIR] [TARGET...]   (default build folder: build-fuzz)
#        JOBS=1 tests/fuzz/run.sh 1800 build-fuzz import templates
set -euo pipefail
usage="usage: tests/fuzz/run.sh SECONDS [BUILD_DIR] [TARGET...]"
seconds=${1:?$usage}
shift
[[ $seconds =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
fuzz=$root/tests/fuzz
known=()
for f in "$fuzz"/fuzz_*.cpp; do
  name=${f##*/fuzz_}
  known+=("${name%.cpp}")
done
is_target() {
  local t
  for t in "${known[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}
build=$root/build-fuzz
if [ $# -gt 0 ] && ! is_target "$1"; then
  build=$1
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${known[@]}")
for t in "${targets[@]}"; do
  is_target "$t" || { echo "unknown fuzz target \"$t\" (known: ${known[*]})" >&2; exit 2; }
done
jobs=${JOBS:-$(nproc)}

corpus_of() { if [ -d "$fuzz/corpus-$1" ]; then echo "$fuzz/corpus-$1"; else echo "$fuzz/corpus"; fi; }
dict_of() { if [ -f "$fuzz/$1.dict" ]; then echo "$fuzz/$1.dict"; else echo "$fuzz/judgments.dict"; fi; }

bash "$root/scripts/deps.sh" clang libclang-rt-14-dev
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DJUDGEBIAS_FUZZ=ON -DJUDGEBIAS_BUILD_TESTS=OFF -DJUDGEBIAS_BUILD_EXAMPLES=OFF \
  -DJUDGEBIAS_BUILD_BENCH=OFF -DJUDGEBIAS_BUILD_CLI=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

run_one() {
  local target=$1 work=$build/fuzz-$1
  rm -f "$work/status"
  mkdir -p "$work/corpus"
  (cd "$work" && "$build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=20 \
      -rss_limit_mb=4096 -print_final_stats=1 -dict="$(dict_of "$target")" \
      -artifact_prefix="$work/" "$work/corpus" "$(corpus_of "$target")" >"$work/log" 2>&1) \
    && echo 0 >"$work/status" || echo 1 >"$work/status"
}
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$target" &
  running=$((running + 1))
done
wait || true

status=0
for target in "${targets[@]}"; do
  work=$build/fuzz-$target
  [ "$(cat "$work/status" 2>/dev/null)" = 0 ] || status=1
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | awk '{print $2}')
  found=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  echo "fuzz_$target: ${runs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, $(ls "$work/corpus" | wc -l) inputs in the working corpus, $found finding(s)"
  [ "$found" -eq 0 ] || { status=1; find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -print; }
done
[ $status -eq 0 ] || echo "findings or a failed run: see $build/fuzz-*/log" >&2
exit $status
