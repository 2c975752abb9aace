#!/usr/bin/env bash
# Failures around the input and the output: an output folder that is missing, unwritable or full, a
# standard output that cannot be written, the process killed mid-run, memory that runs out. Never a
# partial report at the output path; the previous report survives; a clear message and exit status 1.
# Usage: failure_test.sh JUDGEBIAS_BINARY
set -u
checks=$(cd "$(dirname "$0")" && pwd)/checks.sh
bin=$1
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
source "$checks"

# same NAME FILE OTHER: the previous report is still there, byte for byte, and no temporary file is left.
same() {
  if ! cmp -s "$2" "$3"; then fail "$1: the previous report did not survive"
  elif ls -A "$(dirname "$2")" | grep -q '\.tmp\.'; then fail "$1: a temporary file was left behind"
  else passed=$((passed + 1)); fi
}

"$bin" run --bootstrap 0 -o old.json >/dev/null 2>err || { echo "FAIL setup: $(cat err)"; exit 1; }

# No such folder.
"$bin" run --bootstrap 0 -o nodir/report.json >out 2>err
check missing-folder 1 $? "nodir/report.json: cannot create a file in nodir" err
[ ! -e nodir ] && passed=$((passed + 1)) || fail "missing-folder: something was created"

# An unwritable folder (chmod; root ignores modes, so root gets a folder of /proc instead).
mkdir ro && cp old.json ro/report.json
if [ "$(id -u)" != 0 ]; then
  chmod a-w ro
  "$bin" run --bootstrap 0 -o ro/report.json >out 2>err
  check unwritable 1 $? "ro/report.json: cannot create a file in ro: Permission denied" err
  chmod u+w ro
  same unwritable ro/report.json old.json
else
  "$bin" run --bootstrap 0 -o /proc/judgebias-report.json >out 2>err
  check unwritable 1 $? "/proc/judgebias-report.json: cannot create a file in /proc" err
fi

# A full disk: a file-size limit (ulimit -f, in KiB) smaller than the report makes the write fail.
cp old.json full.json
(ulimit -f 8; "$bin" run --bootstrap 0 -o full.json >out 2>err)
check file-size-limit 1 $? "full.json: write failed: File too large" err
same file-size-limit full.json old.json
# A real full filesystem, where mounting a small tmpfs is allowed.
mkdir mnt
if mount -t tmpfs -o size=32k tmpfs mnt 2>/dev/null; then
  head -c 20000 old.json >mnt/report.json
  cp mnt/report.json small_old.json
  dd if=/dev/zero of=mnt/fill bs=1k count=64 2>/dev/null
  "$bin" run --bootstrap 0 -o mnt/report.json >out 2>err
  check full-tmpfs 1 $? "mnt/report.json: write failed: No space left on device" err
  same full-tmpfs mnt/report.json small_old.json
  umount mnt
else
  echo "skip full-tmpfs: mounting a tmpfs is not allowed here (the file-size limit above covers a full disk)"
  skipped=$((skipped + 1))
fi

# Standard output that cannot be written.
if [ -w /dev/full ]; then
  "$bin" run --bootstrap 0 >/dev/full 2>err
  check stdout-full 1 $? "cannot write to standard output: No space left on device" err
fi

# Killed at any moment: the output path holds the previous report or the complete new one, never part.
"$bin" synth --items 300 --seed 3 -o big.jsonl 2>/dev/null
"$bin" run big.jsonl --bootstrap 200 --threads 1 -o new.json >/dev/null 2>&1
start=$(date +%s%N)
"$bin" run big.jsonl --bootstrap 200 --threads 1 -o timed.json >/dev/null 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 + 1 ))
torn=0 old_seen=0 new_seen=0
for k in $(seq 0 24); do
  cp old.json killed.json
  "$bin" run big.jsonl --bootstrap 200 --threads 1 -o killed.json >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v ms="$ms" -v k="$k" 'BEGIN {printf "%.4f", ms * (k + 0.5) / 25 / 1000 * 2}')"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if cmp -s killed.json old.json; then old_seen=$((old_seen + 1))
  elif cmp -s killed.json new.json; then new_seen=$((new_seen + 1))
  else torn=$((torn + 1)); fi
  rm -f .killed.json.tmp.*  # a kill -9 can leave the temporary file, never a partial report
done
if [ $torn = 0 ]; then passed=$((passed + 1)); else fail "killed: $torn torn report(s) at the output path"; fi
echo "killed 25 times over a ${ms} ms run: previous report $old_seen times, complete new one $new_seen times, torn 0 expected, got $torn"

# Out of memory (a virtual memory limit in KiB): a message and exit status 1, never a crash. The
# sanitizers reserve terabytes of address space, so this one runs in the normal build only.
if [ -z "${JUDGEBIAS_SANITIZED:-}" ]; then
  "$bin" synth --items 1852 -o m100k.jsonl 2>/dev/null
  (ulimit -v 50000; "$bin" run m100k.jsonl -o oom.json >out 2>err)
  check out-of-memory 1 $? "judgebias: out of memory" err
  [ ! -e oom.json ] && passed=$((passed + 1)) || fail "out-of-memory: a report was written"
  (ulimit -v 50000; "$bin" run --bootstrap 0 >out 2>err)
  check same-limit-small-input 0 $? "self_preference" out
fi

finish
