#!/usr/bin/env bash
# The bad-input corpus (tests/data/bad/, listed in its EXPECTED.tsv) and the other ways an input goes
# wrong: each gives its documented message and exit status, writes nothing when it stops, and under
# --skip-invalid is counted by reason while the rest of the file is still measured.
# Usage: bad_input_test.sh JUDGEBIAS_BINARY TEST_DATA_DIR
set -u
checks=$(cd "$(dirname "$0")" && pwd)/checks.sh
bin=$1 data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$checks"

cd "$data/bad"
while IFS=$'\t' read -r file reason message; do
  case $file in '#'*|'') continue ;; esac
  extra=()
  [ "$file" = line_too_long.jsonl ] && extra=(--max-line-bytes 200)
  [ "$file" = score_outside_scale.jsonl ] && extra=(--strict-scale)
  # Stop: exit 1, the message at path:line:column, the previous report untouched.
  echo previous >"$work/report.json"
  "$bin" run "$file" "${extra[@]}" --bootstrap 0 -o "$work/report.json" >"$work/out" 2>"$work/err"
  status=$?
  if [ $status != 1 ]; then fail "$file: exit status $status, wanted 1"
  elif ! grep -qxF -- "$file:$message" "$work/err"; then fail "$file: wanted '$file:$message', got: $(head -1 "$work/err")"
  elif [ "$(cat "$work/report.json")" != previous ]; then fail "$file: the report was overwritten"
  else passed=$((passed + 1)); fi
  # validate: the same message, exit 1.
  "$bin" validate "$file" "${extra[@]}" >"$work/out" 2>"$work/err"
  status=$?
  if [ $status != 1 ] || ! grep -qF -- "$file:$message" "$work/err"; then fail "$file: validate (status $status)"
  else passed=$((passed + 1)); fi
  # Skip: counted under its reason, the two good lines around it still measured (one swap pair).
  "$bin" run "$file" "${extra[@]}" --skip-invalid --bootstrap 0 -o "$work/report.json" >"$work/out" 2>"$work/err"
  status=$?
  if [ $status != 0 ]; then fail "$file --skip-invalid: exit status $status"; cat "$work/err"
  elif ! grep -qF "\"$reason\": 1" "$work/report.json"; then fail "$file --skip-invalid: no \"$reason\": 1 in the report"
  elif ! grep -qF '"records": 2,' "$work/report.json"; then fail "$file --skip-invalid: not 2 records"
  elif ! grep -A1 -F '"consistency": {' "$work/report.json" | grep -qF '"value": 1.0'; then
    fail "$file --skip-invalid: position consistency of the remaining swap pair is not 1.0"
  else passed=$((passed + 1)); fi
done <EXPECTED.tsv
cd "$work"

# An empty file, and one of blank lines only: no records is an error.
: >empty.jsonl
"$bin" run empty.jsonl >out 2>err; check empty-file 1 $? "empty.jsonl: no records" err
printf '\n\n\r\n' >blank.jsonl
"$bin" run blank.jsonl >out 2>err; check blank-lines 1 $? "blank.jsonl: no records" err
# Every line invalid under --skip-invalid: still an error, saying why.
cp "$data/bad/not_object.jsonl" copy.jsonl
"$bin" run "$data/bad/not_object.jsonl" copy.jsonl --skip-invalid >out 2>err
check two-files-skipped 0 $? "4 records" out
printf '[1]\n[2]\n' >allbad.jsonl
"$bin" run allbad.jsonl --skip-invalid >out 2>err; check all-invalid 1 $? "no valid records (2 line(s) skipped as invalid)" err
# No final newline: the last line counts.
"$bin" run "$data/no_final_newline.jsonl" --bootstrap 0 -o r.json >out 2>err
check no-final-newline 0 $? '"records": 3,' r.json
# A missing file, a directory.
"$bin" run "$work/missing.jsonl" >out 2>err; check missing-file 1 $? "missing.jsonl: cannot open" err
"$bin" run "$data" >out 2>err; check directory 1 $? "is a directory" err
# Standard input closed at once, and closed in the middle of a line by a writer that died.
"$bin" run - </dev/null >out 2>err; check stdin-empty 1 $? "-: no records" err
{ head -1 "$data/good.jsonl"; printf '{"judge":"J","item":"s1","a":{"mo'; } | "$bin" run - >out 2>err
check stdin-cut 1 $? '-:2:34: not valid JSON' err
# The same cut input, skipped: the first line is measured.
{ head -1 "$data/good.jsonl"; printf '{"judge":"J","item":"s1","a":{"mo'; } | "$bin" run - --skip-invalid -o r.json >out 2>err
check stdin-cut-skip 0 $? '"not_json": 1' r.json '"records": 1,' r.json
# Invalid lines in several files: the first error names the right file and line.
"$bin" run "$data/good.jsonl" "$data/bad/wrong_type.jsonl" >out 2>err; check second-file 1 $? "wrong_type.jsonl:2:10:" err
# A file that grows while it is read is read to where it ends when reached (no error, no crash).
cp "$data/good.jsonl" growing.jsonl
( for k in 1 2 3 4 5 6 7 8 9 10; do cat "$data/good.jsonl" >>growing.jsonl; done ) &
"$bin" run growing.jsonl --bootstrap 0 >out 2>err; status=$?
wait
check growing-file 0 $status "records" out

finish
