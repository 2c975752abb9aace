#!/usr/bin/env bash
# Cost in every dimension, for docs/performance.md: files in which one dimension grows (judges, tasks,
# runs, opponents, items) while the others stay small, each timed with /usr/bin/time -v through
# `judgebias run --bootstrap 0` (with --by task or --by run where the dimension is a breakdown).
# Every file has 2 records per unit of the dimension: one comparison in both orders, with gold, one
# response by the judge's own model. Prints one row per (dimension, size): records, seconds, peak RSS,
# and the time and memory per record, which stay flat when the cost is linear.
# Usage: bench/dimensions.sh [JUDGEBIAS_BINARY] (default: build/judgebias)
# SIZES="10000 100000" DIMENSIONS="tasks runs" BOOTSTRAP=1000 bench/dimensions.sh runs fewer or other
# cases.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jb=${1:-$here/../build/judgebias}
[ -x "$jb" ] || { echo "build first: cmake --build --preset default" >&2; exit 1; }
sizes=${SIZES:-"10000 100000 1000000"}
dimensions=${DIMENSIONS:-"judges tasks runs opponents items"}
bootstrap=${BOOTSTRAP:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# make DIMENSION N FILE: 2 N records.
make_file() {
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
dim, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "w") as f:
    for k in range(n):
        judge, item, task, run, opp = "j", f"q{k % 100}", "t", 0, "m1"
        if dim == "judges": judge = f"j{k}"
        elif dim == "tasks": task, item = f"t{k}", f"q{k}"
        elif dim == "runs": run = k
        elif dim == "opponents": opp, item = f"m{k + 1}", f"q{k}"
        elif dim == "items": item = f"q{k}"
        own = f'{{"id":"{item}:m0","model":"m0","length":{10 + k % 7}}}'
        other = f'{{"id":"{item}:{opp}","model":"{opp}","length":{20 + k % 5}}}'
        head = f'{{"judge":"{judge}","judge_model":"m0","item":"{item}","task":"{task}","run":{run},'
        f.write(head + f'"a":{own},"b":{other},"verdict":"{"AB"[k % 2]}","gold":"B"}}\n')
        f.write(head + f'"a":{other},"b":{own},"verdict":"A","gold":"A"}}\n')
EOF
}

printf '%-10s %9s %9s %9s %10s %12s %12s\n' dimension size records seconds peak_MB "us/record" "bytes/record"
for dim in $dimensions; do
  by=()
  [ "$dim" = tasks ] && by=(--by task)
  [ "$dim" = runs ] && by=(--by run)
  for n in $sizes; do
    make_file "$dim" "$n" "$tmp/in.jsonl"
    /usr/bin/time -v "$jb" run "$tmp/in.jsonl" --bootstrap "$bootstrap" "${by[@]}" --format none \
      -o "$tmp/r.json" 2>"$tmp/time" >/dev/null || { echo "failed: $dim $n" >&2; tail -5 "$tmp/time" >&2; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {m = split($2, t, ":"); s = 0; for (i = 1; i <= m; i++) s = s * 60 + t[i]; print s}' "$tmp/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    awk -v d="$dim" -v n="$n" -v w="$wall" -v r="$rss" 'BEGIN {
      rec = 2 * n
      printf "%-10s %9d %9d %9.2f %10.1f %12.2f %12.0f\n", d, n, rec, w, r / 1024, w * 1e6 / rec, r * 1024 / rec }'
  done
done
