#!/usr/bin/env bash
# The report's human forms through the binary: -o by extension, --format, -q, --fail-if exit statuses,
# --judges/--tasks, --per-item counts against the report, diff, --compare.
# Usage: report_cli_test.sh JUDGEBIAS_BINARY
set -u
checks=$(cd "$(dirname "$0")" && pwd)/checks.sh
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
source "$checks"

# Every format at once, chosen by the extension.
"$bin" run --bootstrap 0 -o r.json -o r.md -o r.csv -o r.html >out 2>err
check formats 0 $? '"schema_version": 1' r.json '| alpha-7b | +3.05 [+2.90, +3.20] n=80 mde=0.22 |' r.md \
  'module,kind,judge,model,opponent,task,run,metric,value,ci_low,ci_high,n,p,unit,reason,mde' r.csv \
  '<figure class="chart" id="chart-dbg_pairwise" data-marks="3">' r.html "r.html written" out
"$bin" run --bootstrap 0 -o r.txt >out 2>err; check unknown-extension 2 $? "use .json, .md, .csv or .html" err
# The CSV has one row per metric of the JSON report: every "unit" key of a judge-level or breakdown metric.
equal csv-rows "$(grep -c '"unit":' r.json)" "$(($(wc -l <r.csv) - 1))"

# What goes to standard output.
"$bin" run --bootstrap 0 --format json >out 2>err; check format-json 0 $? '"schema_version": 1' out
"$bin" run --bootstrap 0 --format csv >out 2>err; check format-csv 0 $? "position,,alpha-7b,,,,,consistency," out
"$bin" run --bootstrap 0 --format none >out 2>err; check format-none 0 $?
equal format-none-empty 0 "$(wc -c <out)"
"$bin" run --bootstrap 0 -q -o q.json >out 2>err; check quiet 0 $? '"modules"' q.json
equal quiet-silent 0 "$(cat out err | wc -c)"
# Not a terminal: no colour codes.
"$bin" run --bootstrap 0 >out 2>err; check table 0 $? "self_preference" out
absent no-colour-in-pipes $'\x1b[' out

# Gates: exit 3 and the judges named; below the bound exit 0; a null warns, and trips with --fail-if-missing.
"$bin" run --bootstrap 0 -q --fail-if 'self_preference.dbg_pairwise.ci_low > 5' >out 2>err
check gate-trips 3 $? "--fail-if 'self_preference.dbg_pairwise.ci_low > 5' tripped for judge alpha-7b" err
absent gate-names-only-trippers "judge charlie-70b" err
"$bin" run --bootstrap 0 -q --fail-if 'self_preference.dbg_pairwise > 50' >out 2>err; check gate-holds 0 $?
"$bin" run --bootstrap 0 -q --fail-if 'position.consistency < 0.5' --fail-if 'position.first_slot_rate.ci_high >= 0.6' >out 2>err
check gates-repeat 3 $? "tripped for judge delta-api" err
"$bin" run --bootstrap 0 --format none --fail-if 'position.repetition_stability < 0.9' >out 2>err
check gate-null-warns 0 $? "warning: --fail-if 'position.repetition_stability < 0.9' has no value for judge alpha-7b" err
"$bin" run --bootstrap 0 -q --fail-if 'position.repetition_stability < 0.9' --fail-if-missing >out 2>err
check gate-null-trips 3 $? "tripped (--fail-if-missing)" err
"$bin" run --bootstrap 0 -q --fail-if 'position.repetition_stability < 0.9' >out 2>err
check gate-null-quiet 0 $?
equal gate-null-quiet-silent 0 "$(wc -c <err)"
"$bin" run --bootstrap 0 -q --fail-if 'position.bogus.robustness_rate < 1' >out 2>err
check gate-unknown-kind 2 $? '"position" has no kind "bogus"' err
# A control character in a judge's name is shown, not sent to the terminal.
printf '%s\n' '{"judge":"x\u001b[2J","item":"s1","a":{"model":"m"},"b":{"model":"o"},"verdict":"A"}' \
  '{"judge":"x\u001b[2J","item":"s1","a":{"model":"o"},"b":{"model":"m"},"verdict":"B"}' >esc.jsonl
"$bin" run esc.jsonl --bootstrap 0 --modules position >out 2>err; check control-chars 0 $? 'x\x1b[2J' out
absent control-chars-raw $'\x1b[2J' out
# A name a spreadsheet would run, with a bidi override: a quote first in the CSV, visible escapes everywhere.
printf '%s\n' '{"judge":"=1+1\u202e\u2028","item":"s1","a":{"model":"m"},"b":{"model":"o"},"verdict":"A"}' \
  '{"judge":"=1+1\u202e\u2028","item":"s1","a":{"model":"o"},"b":{"model":"m"},"verdict":"B"}' >formula.jsonl
"$bin" run formula.jsonl --bootstrap 0 --modules position -o formula.csv -o formula.html >out 2>err
check csv-formula 0 $? "position,,'=1+1\\u{202e}\\u{2028},,,,,consistency,1," formula.csv \
  '=1+1\u{202e}\u{2028}' out '<td>=1+1\u{202e}\u{2028}</td>' formula.html
for f in out formula.csv formula.html; do absent "bidi-raw-$f" $'\xe2\x80\xae' $f; done
"$bin" run --bootstrap 0 -q --fail-if 'position.consistency << 0.9' >out 2>err; check gate-bad 2 $? "the right side must be one number" err
"$bin" run --bootstrap 0 -q --fail-if 'position.nope < 0.9' >out 2>err; check gate-unknown-metric 2 $? '"position" has no metric "nope"' err

# Metrics on fewer than 30 units: a warning in the report and on stderr (the sample has none).
printf '%s\n' '{"judge":"J","item":"s1","a":{"model":"J"},"b":{"model":"o"},"verdict":"A","gold":"B"}' \
  '{"judge":"J","item":"s1","a":{"model":"o"},"b":{"model":"J"},"verdict":"B","gold":"A"}' >tiny.jsonl
"$bin" run tiny.jsonl --bootstrap 0 --modules position -o tiny.json >out 2>err
check small-n 0 $? "warning: 7 metric(s) rest on fewer than 30 units, so their intervals are wide: position.consistency of J (n=1)" err \
  "position.fairness of J (n=1)" tiny.json
"$bin" run --bootstrap 0 >out 2>err; absent small-n-not-in-sample "fewer than 30" err

# Filters.
"$bin" run --bootstrap 0 --judges alpha-7b,nobody -o f.json >out 2>err
check judges-filter 0 $? '"filtered_out": 2880' f.json 'warning: --judges: judge "nobody" has no records' err
absent judges-filter-keeps-one "  charlie-70b " out  # no row of that judge (a model of that name may be in winrate's)
"$bin" run --bootstrap 0 --tasks synth/reasoning -o t.json >out 2>err; check tasks-filter 0 $? '"tasks": [' t.json
"$bin" run --bootstrap 0 --tasks nope >out 2>err; check tasks-none-left 1 $? "no records left after --judges/--tasks (4320 left out)" err

# The audit file recounts the report: alpha-7b's position consistency is 225 of 478 swap pairs, its
# bandwagon robustness 72 of 80 matched pairs (the embedded sample's values: 0.4707, 0.9).
"$bin" run --bootstrap 0 --per-item items.jsonl -o a.json >out 2>err; check per-item 0 $? '"type":"swap_pair"' items.jsonl
equal per-item-swaps "478" "$(grep '"type":"swap_pair","judge":"alpha-7b"' items.jsonl | grep -vc extraction_failure)"
equal per-item-consistent "225" "$(grep '"type":"swap_pair","judge":"alpha-7b"' items.jsonl | grep -c '"outcome":"consistent"')"
equal per-item-cue "80" "$(grep '"type":"cue","kind":"bandwagon","judge":"alpha-7b"' items.jsonl | grep -vc extraction_failure)"
equal per-item-same "72" "$(grep '"type":"cue","kind":"bandwagon","judge":"alpha-7b"' items.jsonl | grep -c '"outcome":"same"')"
grep -A2 '"consistency": {' a.json | head -2 >cons
check per-item-matches-report 0 0 '"value": 0.4707112970711297' cons

# diff: the same report twice changes nothing; a report of one judge marks the others gone.
"$bin" diff a.json a.json >out 2>err; check diff-same 0 $? "0 of " out "+0" out
"$bin" run --bootstrap 100 --modules position --judges alpha-7b -q -o one.json
"$bin" run --bootstrap 100 --modules position -q -o all.json
"$bin" diff all.json one.json >out 2>err; check diff-gone 0 $? "gone" out "position.consistency" out "--compare" out
"$bin" diff all.json missing.json >out 2>err; check diff-missing 1 $? "missing.json: cannot open" err

# --compare: the paired differences, in the report and on stdout.
"$bin" run --bootstrap 50 --modules position --compare alpha-7b,delta-api -o c.json >out 2>err
check compare 0 $? "compare (paired, 80 shared items, 50 resamples)" out '"compare": {' c.json
"$bin" run --bootstrap 0 --compare alpha-7b -o never.json >out 2>err; check compare-one 2 $? "--compare takes two judges" err
[ ! -e never.json ] && passed=$((passed + 1)) || fail "compare-one: checked only after writing a report"
"$bin" run --bootstrap 0 --compare alpha-7b,nobody >out 2>err; check compare-unknown 2 $? 'judge "nobody" has no records' err

# Progress: on a terminal for an input over 50 MB (script(1) gives the run a pseudo-terminal), never in a pipe.
"$bin" synth --items 5000 -o big.jsonl 2>/dev/null
"$bin" run big.jsonl --bootstrap 0 --format none >out 2>err; check progress-not-in-pipes 0 $?
absent progress-not-in-pipes-text "reading:" err
if command -v script >/dev/null; then
  script -qec "$bin run big.jsonl --bootstrap 0 --format none" /dev/null >tty.out 2>&1
  check progress-on-terminal 0 $? "reading: " tty.out " of 54 MB" tty.out
  "$bin" run --bootstrap 0 --format none >/dev/null 2>err  # the 0.9 MB sample: no progress even on a terminal
  script -qec "$bin run --bootstrap 0 --format none" /dev/null >tty.out 2>&1
  absent progress-small-input "reading:" tty.out
fi

finish
