#!/usr/bin/env bash
# End-to-end comparison for docs/performance.md. Generates synth files (100k, 1M and 10M records, and 1M
# with long texts) in a temporary directory, and runs side by side under /usr/bin/time -v (the peaks):
#   (a) bench/simdjson_pass, the bare parser pass (the yardstick),
#   (b) judgebias run, all modules, --bootstrap 0 and the default 1000,
#   (c) bench/pandas_baseline.py, what a user would write with pandas (100k and 1M only).
# Prints one table: wall time, MB/s, records/s, peak RSS, and the ratios to (a) and (c). The runs of (a)
# and (b) below 10M are made three times each and their median wall time kept (and the largest peak), as
# one 10 ms blip is a tenth of a 100k run; wall times are in milliseconds, taken with $EPOCHREALTIME
# around each run (they include /usr/bin/time's own start, about 1 ms).
# Usage: bench/compare.sh [BUILD_DIR] (default: build). Needs root (or python3-pandas installed) for (c).
# SIZES="100k 1M" bench/compare.sh runs fewer sizes.
set -euo pipefail
export LC_ALL=C  # (a decimal point in $EPOCHREALTIME)
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
jb=$build/judgebias
pass=$build/bench/simdjson_pass
[ -x "$jb" ] && [ -x "$pass" ] || { echo "build first: cmake --build --preset default" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
  echo "installing python3-pandas (Debian) for the pandas baseline" >&2
  apt-get install -y -qq python3-pandas >/dev/null
fi
sizes=${SIZES:-"100k 1M 10M 1M-text"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

items_of() {  # 54 records per item with the default judges
  case $1 in 100k) echo 1852 ;; 1M|1M-text) echo 18519 ;; 10M) echo 185186 ;; esac
}

# measure NAME SIZE RUNS COMMAND...: one row of "name size seconds peak_kb", the median wall time of RUNS
# runs and their largest peak
measure() {
  local name=$1 size=$2 runs=$3
  shift 3
  : >"$tmp/runs"
  for ((k = 0; k < runs; k++)); do
    local start=$EPOCHREALTIME
    /usr/bin/time -v "$@" >"$tmp/out" 2>"$tmp/time" || { echo "failed: $*" >&2; cat "$tmp/time" >&2; exit 1; }
    local end=$EPOCHREALTIME
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')" \
      "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")" >>"$tmp/runs"
  done
  local wall rss
  wall=$(sort -n "$tmp/runs" | awk '{w[NR] = $1} END {print w[int((NR + 1) / 2)]}')
  rss=$(sort -n -k2 "$tmp/runs" | awk 'END {print $2}')
  echo "$name $size $wall $rss" >>"$tmp/rows"
}

: >"$tmp/rows"
for size in $sizes; do
  file=$tmp/$size.jsonl
  if [ "$size" = 1M-text ]; then
    "$jb" synth --items "$(items_of "$size")" --text-bytes 1000 -o "$file" 2>/dev/null
  else
    "$jb" synth --items "$(items_of "$size")" -o "$file" 2>/dev/null
  fi
  bytes=$(stat -c %s "$file")
  records=$(wc -l <"$file")
  echo "$size $bytes $records" >>"$tmp/sizes"
  runs=3
  [ "$size" = 10M ] && runs=1
  measure simdjson_pass "$size" "$runs" "$pass" "$file"
  measure run_bootstrap0 "$size" "$runs" "$jb" run "$file" --bootstrap 0 -o "$tmp/r0.json"
  measure run_bootstrap1000 "$size" "$runs" "$jb" run "$file" -o "$tmp/r1000.json"
  case $size in 100k|1M) measure pandas "$size" 1 /usr/bin/python3 "$here/pandas_baseline.py" "$file" ;; esac
  rm -f "$file"
done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(lscpu | awk -F': *' '/Model name/ {print $2}')"
echo "judgebias $("$jb" --version | awk '{print $2}'), $(date -u +%Y-%m-%d)"
echo
printf '| %-8s | %-18s | %9s | %8s | %12s | %10s | %8s | %9s |\n' size what "wall (s)" "MB/s" "records/s" "peak RSS" "× pass" "÷ pandas"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- -------------------- ----------: ---------: -------------: -----------: ---------: ----------:
while read -r size bytes records; do
  base=$(awk -v s="$size" '$1 == "simdjson_pass" && $2 == s {print $3}' "$tmp/rows")
  pandas=$(awk -v s="$size" '$1 == "pandas" && $2 == s {print $3}' "$tmp/rows")
  awk -v s="$size" '$2 == s' "$tmp/rows" | while read -r name _ wall rss; do
    ratio=$(awk -v w="$wall" -v b="$base" 'BEGIN {printf "%.2f", w / b}')
    vs=$( [ -n "$pandas" ] && [ "$name" != pandas ] && awk -v w="$wall" -v p="$pandas" 'BEGIN {printf "%.1f", p / w}' || echo "")
    awk -v s="$size" -v n="$name" -v w="$wall" -v b="$bytes" -v r="$records" -v m="$rss" -v x="$ratio" -v v="$vs" \
      'BEGIN {printf "| %-8s | %-18s | %9.3f | %8.0f | %12.0f | %6.0f MiB | %8s | %9s |\n", s, n, w, b / 1e6 / w, r / w, m / 1024, x, v}'
  done
done <"$tmp/sizes"
echo
echo "peak RSS of run --bootstrap 0 against the target (100 bytes per record + 64 MiB):"
while read -r size bytes records; do
  awk -v s="$size" -v r="$records" '$1 == "run_bootstrap0" && $2 == s {printf "  %-8s %6.0f MiB of %6.0f MiB allowed (%.0f bytes per record)\n", s, $4 / 1024, (100 * r + 64 * 1048576) / 1048576, $4 * 1024 / r}' "$tmp/rows"
done <"$tmp/sizes"
