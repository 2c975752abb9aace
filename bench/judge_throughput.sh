#!/usr/bin/env bash
# The judge runner's throughput, for docs/performance.md: requests per second of `judgebias judge
# --no-cache --orders as-given` against the scripted server of the tests (tests/judge_server.py, on
# 127.0.0.1), at concurrency 1, 8 and 64, once with a server that answers at once and once with one
# that takes 200 ms per answer (where concurrency N should approach N × 5 requests per second).
# Usage: bench/judge_throughput.sh [JUDGEBIAS_BINARY] (default: build/judgebias)
# REQUESTS=2000 SLOW_REQUESTS=320 change the sizes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jb=${1:-$here/../build/judgebias}
[ -x "$jb" ] || { echo "build first: cmake --build --preset default" >&2; exit 1; }
n=${REQUESTS:-2000}
n_slow=${SLOW_REQUESTS:-320}
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT

python3 - "$n" "$tmp/requests.jsonl" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"item": f"q{i}", "question": f"Question {i}: " + "words " * 40,
                            "a": {"model": "m1", "text": "quality=good " + "text " * 100},
                            "b": {"model": "m2", "text": "quality=bad " + "text " * 100}}) + "\n")
PY
head -n "$n_slow" "$tmp/requests.jsonl" > "$tmp/slow.jsonl"

start_server() {  # DELAY PORTFILE
  python3 "$here/../tests/judge_server.py" --delay "$1" --port-file "$2" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.05; done
}
start_server 0 "$tmp/fast.port"
start_server 0.2 "$tmp/slow.port"

printf '%-12s %-12s %8s %10s %12s\n' server concurrency requests seconds requests/s
for server in fast slow; do
  file=$tmp/requests.jsonl
  [ "$server" = slow ] && file=$tmp/slow.jsonl
  url=http://127.0.0.1:$(cat "$tmp/$server.port")/v1
  for c in 1 8 64; do
    count=$(wc -l < "$file")
    [ "$server" = slow ] && [ "$c" = 1 ] && { head -n 20 "$file" > "$tmp/slow1.jsonl"; file1=$tmp/slow1.jsonl; count=20; } || file1=$file
    t0=$(date +%s.%N)
    "$jb" judge "$file1" --endpoint "$url" --model judge-m --no-cache --orders as-given --concurrency "$c" -q \
      -o "$tmp/out.jsonl"
    t1=$(date +%s.%N)
    python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'%-12s %-12s %8d %10.2f %12.1f' % (sys.argv[4], sys.argv[5], n, s, n / s))" \
      "$count" "$t0" "$t1" "$server" "$c"
  done
done
