#!/usr/bin/env bash
# The shipped binary used as a careless or hostile user would (issue #13, docs/reliability.md): inputs
# and devices never overwritten, every output checked before any is written, numbers that would wrap,
# names that hold commas or terminal escapes, signals and pipes, scores outside their scale, memory that
# runs out. Each case failed before its fix.
# Usage: hostile_cli_test.sh JUDGEBIAS_BINARY DATA_DIR
set -u
checks=$(cd "$(dirname "$0")" && pwd)/checks.sh
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
source "$checks"
unchanged() {  # NAME FILE COPY
  if cmp -s "$2" "$3"; then passed=$((passed + 1)); else fail "$1: $2 was changed"; fi
}
no_temporary() {  # NAME: nothing of a write left in the folder
  if ls -A | grep -q '^\.judgebias-\|\.tmp\.'; then fail "$1: a temporary file was left: $(ls -A | grep judgebias)"
  else passed=$((passed + 1)); fi
}

cp "$data/good.jsonl" j.jsonl && cp j.jsonl j.orig
"$bin" synth --items 2 --seed 1 -o s.jsonl 2>/dev/null && cp s.jsonl s.orig

# --- Inputs are never overwritten: an output that is an input is a usage error naming both.
"$bin" run j.jsonl --per-item j.jsonl >out 2>err
check per-item-is-input 2 $? "--per-item j.jsonl is the input j.jsonl" err
unchanged per-item-is-input j.jsonl j.orig
ln -s j.jsonl link.jsonl
"$bin" run j.jsonl --bootstrap 0 --per-item link.jsonl >out 2>err
check per-item-is-input-by-link 2 $? "--per-item link.jsonl is the input j.jsonl" err
unchanged per-item-is-input-by-link j.jsonl j.orig
cp "$data/import/fastchat.jsonl" f.jsonl && cp f.jsonl f.orig
"$bin" import --from fastchat f.jsonl -o f.jsonl >out 2>err
check import-onto-input 2 $? "-o f.jsonl is the input f.jsonl" err
unchanged import-onto-input f.jsonl f.orig
printf '%s\n' '{"item":"q1","question":"2+2?","a":{"model":"m1","text":"4"},"b":{"model":"m2","text":"5"}}' >req.jsonl
cp req.jsonl req.orig
"$bin" perturb req.jsonl --judge j -o ./req.jsonl >out 2>err
check perturb-onto-input 2 $? "-o ./req.jsonl is the input req.jsonl" err
unchanged perturb-onto-input req.jsonl req.orig

"$bin" run - --bootstrap 0 --format none --per-item j.jsonl <j.jsonl >out 2>err
check stdin-file-is-input 2 $? "--per-item j.jsonl is the input -" err
unchanged stdin-file-is-input j.jsonl j.orig
printf '%s\n' '{"bandwagon":["{n} of 10 people prefer Response {slot}."]}' >t.json && cp t.json t.orig
"$bin" perturb req.jsonl --judge j --kinds bandwagon --template-file t.json -o t.json >out 2>err
check template-file-is-input 2 $? "-o t.json is the input t.json" err
unchanged template-file-is-input t.json t.orig

# --- Two outputs that are one file (also before either exists), an input given twice.
"$bin" run j.jsonl --bootstrap 0 -o r.json --per-item r.json >out 2>err
check output-twice 2 $? "-o r.json and --per-item r.json are the same file" err
[ ! -e r.json ] && passed=$((passed + 1)) || fail "output-twice: r.json was written"
"$bin" run j.jsonl --bootstrap 0 -o r.json -o ./r.json >out 2>err
check same-o-twice 2 $? "-o r.json and -o ./r.json are the same file" err
"$bin" synth --items 1 -o e.json --expected e.json >out 2>err
check synth-outputs-same 2 $? "-o e.json and --expected e.json are the same file" err
"$bin" run j.jsonl j.jsonl --bootstrap 0 >out 2>err
check input-twice 2 $? "j.jsonl is given twice" err
"$bin" run j.jsonl link.jsonl --bootstrap 0 >out 2>err
check input-twice-by-link 2 $? "j.jsonl and link.jsonl are the same file" err

# --- Every output is checked before any is written.
"$bin" run j.jsonl --bootstrap 0 -o good.json -o nodir/x.html -o good.md >out 2>err
check outputs-checked-first 1 $? "nodir/x.html: cannot create a file in nodir" err
[ ! -e good.json ] && [ ! -e good.md ] && passed=$((passed + 1)) ||
  fail "outputs-checked-first: an output was written before the bad one was refused"

# --- Empty paths and "-".
"$bin" run j.jsonl --bootstrap 0 --per-item '' >out 2>err
check empty-per-item 2 $? "--per-item: an empty path names no file" err
"$bin" run j.jsonl --bootstrap 0 -o '' >out 2>err
check empty-o 2 $? "-o: an empty path names no file" err
"$bin" synth --items 1 -o '' >out 2>err
check empty-synth-o 2 $? "an empty path names no file" err
"$bin" import --from fastchat f.jsonl -o '' >out 2>err
check empty-import-o 2 $? "an empty path names no file" err
"$bin" import --from fastchat '' >out 2>err
check empty-import-input 2 $? "an empty path names no input file" err
"$bin" perturb req.jsonl --judge j --template-file '' >out 2>err
check empty-template-file 2 $? "an empty path names no file" err
"$bin" synth --items 1 -o e1.jsonl --expected - >out 2>err
check expected-to-stdout 0 $? '"dbg_pairwise"' out
[ ! -e ./- ] && passed=$((passed + 1)) || fail "expected-to-stdout: a file named - was written"
"$bin" run j.jsonl --bootstrap 0 --per-item - --format none >out 2>err
check per-item-stdout 0 $? '"outcome":"consistent"' out
[ ! -e ./- ] && passed=$((passed + 1)) || fail "per-item-stdout: a file named - was written"
"$bin" run j.jsonl --bootstrap 0 --per-item - >out 2>err
check per-item-stdout-needs-format-none 2 $? "add --format none" err

# --- Devices and FIFOs are written through, never replaced.
mkfifo fifo.json
timeout 20 cat fifo.json >from_fifo &  # a binary that replaced the FIFO would leave cat blocked
reader=$!
"$bin" run j.jsonl --bootstrap 0 --format none -o fifo.json >out 2>err
check fifo-output 0 $?
wait $reader
[ -p fifo.json ] && passed=$((passed + 1)) || fail "fifo-output: the FIFO was replaced"
grep -q '"schema_version": 1' from_fifo && passed=$((passed + 1)) || fail "fifo-output: the reader got no report"
"$bin" synth --items 1 -o /proc/self/fd/1 >via_fd 2>err
check stdout-by-path 0 $? '"judge"' via_fd
echo OLD >log
"$bin" synth --items 1 -o /dev/stdout >>log 2>err
check stdout-appended 0 $? OLD log '"judge"' log
ln -s /proc/self/fd/7 fd7
"$bin" synth --items 1 -o fd7 7>&- >out 2>err
check link-to-closed-fd 1 $? "fd7: names descriptor 7, which is not open" err
[ -L fd7 ] && passed=$((passed + 1)) || fail "link-to-closed-fd: the link was replaced"
"$bin" synth --items 1 -o /dev/null --expected /dev/null >out 2>err
check null-twice 0 $?
"$bin" run j.jsonl --bootstrap 0 --per-item /dev/null >/dev/null 2>err
check per-item-null-with-table 0 $?
"$bin" synth --items 1 --expected /dev/stdout >out 2>err
check expected-and-records-on-stdout 2 $? "would both go to standard output" err
printf 'X%.0s' $(seq 3000) >shm_like.jsonl
mkdir -p devlike && cp shm_like.jsonl devlike/x.jsonl
"$bin" synth --items 1 -o /dev/fd/5 5>>shm_like.jsonl >out 2>err
check fd5-appends 0 $?
[ "$(head -c 3000 shm_like.jsonl)" = "$(head -c 3000 devlike/x.jsonl)" ] && grep -q '"judge"' shm_like.jsonl &&
  passed=$((passed + 1)) || fail "fd5-appends: /dev/fd/5 opened with >> was not appended to"
ln -s missing.jsonl dangling.jsonl
"$bin" synth --items 1 -o dangling.jsonl >out 2>err
check dangling-link 0 $?
ln -s /proc/self/fd/1 hop2 && ln -s hop2 hop1
echo OLD >log2
"$bin" synth --items 1 -o hop1 >>log2 2>err
check two-hops-to-stdout 0 $? OLD log2 '"judge"' log2
[ -L hop1 ] && passed=$((passed + 1)) || fail "two-hops-to-stdout: the link was replaced"
"$bin" run j.jsonl --bootstrap 0 -o good.json -o "$(printf 'b%.0s' $(seq 300)).json" >out 2>err
check name-too-long-first 1 $? "File name too long" err
[ ! -e good.json ] && passed=$((passed + 1)) || fail "name-too-long-first: good.json was written"
if [ "$(id -u)" = 0 ] && mknod null c 1 3 2>/dev/null; then  # a null device of our own
  for cmd in "synth --items 1 -o null" "import --from fastchat f.jsonl -o null" \
             "perturb req.jsonl --judge j -o null" "run j.jsonl --bootstrap 0 --format none --per-item null"; do
    # shellcheck disable=SC2086
    "$bin" $cmd >out 2>err
    check "device: $cmd" 0 $?
    [ -c null ] && passed=$((passed + 1)) || { fail "device: $cmd replaced the device node"; rm -f null; mknod null c 1 3; }
  done
else
  echo "skip device nodes: mknod needs root"; skipped=$((skipped + 1))
fi
no_temporary devices

# --- A replaced report keeps its mode; a long file name fits; no temporary file is left.
"$bin" run j.jsonl --bootstrap 0 -o private.json >out 2>err
chmod 600 private.json
"$bin" run j.jsonl --bootstrap 0 -o private.json >out 2>err
equal mode-kept 600 "$(stat -c %a private.json)"
long=$(printf 'a%.0s' $(seq 250)).json
"$bin" run j.jsonl --bootstrap 0 -o "$long" >out 2>err
check long-name 0 $?
[ -s "$long" ] && passed=$((passed + 1)) || fail "long-name: not written"
no_temporary writes

# --- SIGTERM and SIGINT while writing: the temporary file goes too. A synth of 10,000 items spends
# much of its time writing; the signals are spread over its run.
"$bin" synth --items 10000 --seed 2 -o big.jsonl 2>/dev/null
start=$(date +%s%N)
"$bin" synth --items 10000 --seed 2 -o timed.jsonl 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 + 1 ))
left=0
for k in $(seq 0 11); do
  # (env: a background job of a script starts with SIGINT ignored, which judgebias leaves so)
  env --default-signal=INT "$bin" synth --items 10000 --seed 2 -o killed.jsonl 2>/dev/null &
  pid=$!
  sleep "$(awk -v ms="$ms" -v k="$k" 'BEGIN {printf "%.4f", ms * (k + 0.5) / 12 / 1000}')"
  if [ $((k % 2)) = 0 ]; then kill -TERM "$pid" 2>/dev/null; else kill -INT "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null
  ls -A | grep -q '^\.judgebias-\|\.tmp\.' && left=$((left + 1))
  rm -f .judgebias-* .killed.jsonl.tmp.*
done
equal signals-leave-no-temporary 0 "$left"
rm -f big.jsonl timed.jsonl killed.jsonl

# --- A closed pipe: status 1 and a line, as docs/cli.md says.
"$bin" synth --items 3000 2>err | head -c 10 >/dev/null
check closed-pipe 1 "${PIPESTATUS[0]}" "cannot write to standard output" err
# ... and stops at once: 20 million items would take minutes to make.
timeout 20 "$bin" synth --items 20000000 2>err | head -c 10 >/dev/null
check closed-pipe-stops 1 "${PIPESTATUS[0]}" "cannot write to standard output" err
"$bin" run s.jsonl --bootstrap 0 --by run,task --format json 2>err | head -1 >/dev/null
check closed-pipe-run 1 "${PIPESTATUS[0]}" "cannot write to standard output" err

# --- Numbers that would wrap or be read in another base are usage errors naming the option.
for args in "run --seed -1" "run --seed 010" "run --seed 0x10" "run --max-line-bytes -1" "run --threads -2" \
            "run --bootstrap 1e3" "synth --items -1" "perturb req.jsonl --judge j --seed -1"; do
  # shellcheck disable=SC2086
  # (bounded: a binary in which -1 wraps would write 2^64 - 1 items)
  (ulimit -f 10000; timeout 20 "$bin" $args >out 2>err)
  check "number: $args" 2 $? "whole number in decimal digits" err
done
"$bin" run --seed 18446744073709551616 >out 2>err
check "number: seed past 2^64" 2 $? "must be at most 18446744073709551615" err
"$bin" run --bootstrap 4294967296 >out 2>err
check "number: bootstrap past 2^32" 2 $? "must be at most 4294967295" err
"$bin" validate j.jsonl --show -1 >out 2>err
check "number: validate --show -1" 2 $? "whole number in decimal digits" err
"$bin" run --bootstrap 100001 >out 2>err
check bootstrap-absurd 2 $? "--bootstrap must be at most 100000" err
"$bin" run --bootstrap 0 --fail-if 'position.consistency < 0x1' >out 2>err
check gate-hex 2 $? '"0x1" is not a decimal number' err
"$bin" run s.jsonl --bootstrap 20 --threads 4294967295 --format json >many 2>err
check threads-capped 0 $?
"$bin" run s.jsonl --bootstrap 20 --threads 1 --format json >one 2>err
unchanged threads-capped-same-report many one

# --- Names with commas: a backslash keeps the comma; the option may also be repeated.
sed 's/"judge":"J"/"judge":"gpt,4"/' j.jsonl >comma.jsonl
"$bin" run comma.jsonl --bootstrap 0 --judges 'gpt\,4' --format json >out 2>err
check comma-judge 0 $? '"gpt,4"' out
absent comma-judge-no-warning 'has no records' err
"$bin" run comma.jsonl --bootstrap 0 --judges 'gpt,4' --format json >out 2>err
check comma-split 1 $? 'no records left after --judges' err
"$bin" run s.jsonl --bootstrap 0 --modules position --modules verbosity --format json >out 2>err
check modules-repeated 0 $? '"verbosity"' out
"$bin" run j.jsonl --bootstrap 0 --gold-judges J >out 2>err
check gold-judges-every-judge 2 $? "--gold-judges names every judge of the input (J)" err

# --- Terminal escapes never reach the terminal raw: warnings, errors' quoted values, validate.
esc=$(printf '\033')
printf '%s\n' '{"judge":"x\u001b]0;pwned\u0007","item":"q","a":{"id":"1","model":"m"},"b":{"id":"2","model":"n"},"verdict":"A"}' \
  '{"judge":"x\u001b]0;pwned\u0007","item":"q","a":{"id":"2","model":"n"},"b":{"id":"1","model":"m"},"verdict":"B"}' >esc.jsonl
"$bin" run esc.jsonl --bootstrap 0 >out 2>err
check escape-warning 0 $? 'x\x1b]0;pwned\x07' err
printf '%s\n' '{"judge":"j","item":"q","a":{"id":"1"},"b":{"id":"2"},"verdict":"\u001b[2J\u202e"}' >escv.jsonl
"$bin" run escv.jsonl >out 2>err
check escape-error 1 $? '\x1b[2J' err
printf '%s\n' '{"judge":"j\u001b[31m","item":"q","response":{"id":"1"},"score":1,"x\u001b[2J":1}' >escf.jsonl
"$bin" validate escf.jsonl >out 2>err
check escape-validate 0 $? 'x\x1b[2J' out 'j\x1b[31m' out
for f in err out; do
  if grep -q "$esc" "$f"; then fail "escape: a raw ESC reached the terminal in $f"; else passed=$((passed + 1)); fi
done
"$bin" run esc.jsonl escv.jsonl --skip-invalid --bootstrap 0 >out 2>err
if grep -q "$esc" out err; then fail "escape: a raw ESC in run's table or warnings"; else passed=$((passed + 1)); fi

# --- A judge's score outside its scale is its extraction failure, counted; --strict-scale restores the error.
printf '%s\n' '{"judge":"j","item":"q1","response":{"id":"1","model":"j"},"score":0,"gold":3,"scale":[1,10]}' \
  '{"judge":"j","item":"q2","response":{"id":"2","model":"j"},"score":7,"gold":5,"scale":[1,10]}' \
  '{"judge":"j","item":"q3","response":{"id":"3","model":"o"},"score":4,"gold":4,"scale":[1,10]}' >scale.jsonl
"$bin" run scale.jsonl --bootstrap 0 -o scale.json >out 2>err
check out-of-scale 0 $? 'judge "j": 1 score(s) outside their record' err '"out_of_scale": 1' scale.json \
  '"extraction_failures": 1' scale.json '1 extraction failures (1 scores out of scale)' out
# dbg_pointwise over the one in-scale own response: 7 - 5 = 2.
python3 -c 'import json,sys; r=json.load(open("scale.json")); v=r["modules"]["self_preference"]["judges"]["j"]["dbg_pointwise"]; sys.exit(0 if v["value"]==2 and v["n"]==1 else 1)' &&
  passed=$((passed + 1)) || fail "out-of-scale: dbg_pointwise is not 7 - 5 over 1 record"
"$bin" run scale.jsonl --bootstrap 0 --strict-scale >out 2>err
check strict-scale 1 $? 'scale.jsonl:1:' err 'is outside the scale [1, 10] (--strict-scale)' err
"$bin" validate scale.jsonl >out 2>err
check validate-out-of-scale 0 $? "a judge's score outside its scale: 1" out
"$bin" validate scale.jsonl --strict-scale >out 2>err
check validate-strict-scale 1 $? "outside the scale" err
sed '1s/"gold":3/"gold":11/' scale.jsonl >gold_scale.jsonl
"$bin" run gold_scale.jsonl --bootstrap 0 >out 2>err
check gold-out-of-scale 1 $? '"gold" 11 is outside the scale [1, 10]' err

# --- Memory that runs out ends with a message and status 1 at every limit, never an abort (134).
if [ -z "${JUDGEBIAS_SANITIZED:-}" ]; then
  python3 -c '
import sys
for k in range(3000):
    for a, b, v in (("x", "y", "A"), ("y", "x", "B")):
        print("{\"judge\":\"judge-%d\",\"item\":\"q%d\",\"a\":{\"id\":\"%s\",\"model\":\"m%s\"},\"b\":{\"id\":\"%s\",\"model\":\"m%s\"},\"verdict\":\"%s\",\"gold\":\"A\"}" % (k, k % 50, a, a, b, b, v))
' >judges.jsonl
  bad=""
  for limit in 20000 24000 30000 40000 50000 64000 80000 100000 110000; do
    (ulimit -v $limit; "$bin" run judges.jsonl --bootstrap 0 -o oom.json >out 2>err)
    status=$?
    if [ $status != 0 ] && { [ $status != 1 ] || ! grep -q "out of memory" err; }; then bad="$bad $limit:$status"; fi
  done
  equal out-of-memory-every-limit "" "$bad"
  # A 40 MiB line whose parse finds no memory is not an invalid line: out of memory (status 1), or, with
  # the memory, a record; never skipped as not JSON (which --skip-invalid would have hidden; it was, from
  # 150 to 400 MB of address space on two threads).
  python3 -c '
big = "{\"judge\":\"j\",\"item\":\"big\",\"response\":{\"id\":\"x\"},\"score\":5,\"meta\":\"" + "z" * (40 << 20) + "\"}"
with open("longline.jsonl", "w") as f:
    for k in range(4000):
        f.write("{\"judge\":\"j\",\"item\":\"q%d\",\"response\":{\"id\":\"x\"},\"score\":%d}\n" % (k, k % 10))
        if k == 1999:
            f.write(big + "\n")
'
  bad=""
  for limit in 150000 250000 350000 450000 600000; do
    rm -f long.json
    (ulimit -v $limit; "$bin" run longline.jsonl --skip-invalid --bootstrap 0 --threads 2 -q -o long.json >out 2>err)
    status=$?
    if [ $status = 0 ]; then
      skipped=$(python3 -c 'import json; print(json.load(open("long.json"))["diagnostics"]["skipped"])')
      [ "$skipped" = 0 ] || bad="$bad $limit:skipped=$skipped"
    elif [ $status != 1 ] || ! grep -q "out of memory" err; then
      bad="$bad $limit:$status"
    fi
  done
  equal long-line-out-of-memory-never-skipped "" "$bad"
fi

finish
