#!/usr/bin/env bash
# Runs the two libFuzzer targets side by side (one per core) for SECONDS each, starting from
# tests/fuzz/corpus/, and reports executions and findings. New inputs go to a working corpus in the
# build folder, not into the repository; a crash is saved there as crash-* and makes the exit status 1
# (copy it into tests/fuzz/corpus/ once fixed, as a regression test).
# Usage: tests/fuzz/run.sh SECONDS [BUILD_DIR]   (default build folder: build-fuzz)
set -euo pipefail
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [BUILD_DIR]}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$root/build-fuzz}
bash "$root/scripts/deps.sh" clang libclang-rt-14-dev
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DJUDGEBIAS_FUZZ=ON -DJUDGEBIAS_BUILD_TESTS=OFF -DJUDGEBIAS_BUILD_EXAMPLES=OFF \
  -DJUDGEBIAS_BUILD_BENCH=OFF -DJUDGEBIAS_BUILD_CLI=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_reader fuzz_pipeline >/dev/null
pids=()
for target in reader pipeline; do
  work=$build/fuzz-$target
  mkdir -p "$work/corpus"
  (cd "$work" && "$build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=20 \
      -rss_limit_mb=4096 -print_final_stats=1 -dict="$root/tests/fuzz/judgments.dict" \
      -artifact_prefix="$work/" "$work/corpus" "$root/tests/fuzz/corpus" >"$work/log" 2>&1) &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for target in reader pipeline; do
  work=$build/fuzz-$target
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | awk '{print $2}')
  found=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
  echo "fuzz_$target: ${runs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, $(ls "$work/corpus" | wc -l) inputs in the working corpus, $found finding(s)"
  [ "$found" -eq 0 ] || { status=1; find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -print; }
done
[ $status -eq 0 ] || echo "findings or a failed run: see $build/fuzz-*/log" >&2
exit $status
