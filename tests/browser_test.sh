#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium renders the sample's report with one judge
# renamed to a script tag, the DOM it built is checked (each chart's marks, the name only as text), and
# a screenshot is kept as a test artefact.
# Usage: browser_test.sh JUDGEBIAS_BINARY ARTEFACT_DIR SOURCE_DIR
set -u
bin=$1 artefacts=$2 src=$3
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: chromium is not installed (scripts/test.sh installs it)"; exit 1; fi
  echo "skip: chromium is not installed (apt-get install chromium, or run scripts/test.sh)"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artefacts"
passed=0 failed=0
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# The embedded sample with charlie-70b (judge and model) renamed to a script tag.
evil='<script>alert(1)</script>'
sed 's|charlie-70b|<script>alert(1)</script>|g' "$src/data/sample.jsonl" >"$work/evil.jsonl"
"$bin" run "$work/evil.jsonl" --bootstrap 200 -q -o "$work/report.html" || { echo "FAIL: judgebias run"; exit 1; }
cp "$work/report.html" "$artefacts/report.html"

flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$work/profile")
timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/chromium.log"
[ -s "$work/dom.html" ] || { echo "FAIL: chromium dumped no DOM:"; tail -5 "$work/chromium.log"; exit 1; }
timeout 120 "$chromium" "${flags[@]}" --hide-scrollbars --window-size=1100,2400 \
  --screenshot="$artefacts/report.png" "file://$work/report.html" >/dev/null 2>>"$work/chromium.log"
[ -s "$artefacts/report.png" ] && passed=$((passed + 1)) || fail "no screenshot"
timeout 120 "$chromium" "${flags[@]}" --hide-scrollbars --window-size=390,2400 \
  --screenshot="$artefacts/report-phone.png" "file://$work/report.html" >/dev/null 2>>"$work/chromium.log"

# Marks per chart in the DOM the browser built: one per judge with a value (three judges), two series
# for verbosity (judge and gold), two cue kinds for robustness (bandwagon, authority).
marks() {
  awk -v id="id=\"chart-$1\"" 'BEGIN { RS = "</figure>" } index($0, id) { n = gsub(/class="mark /, ""); print n }' "$work/dom.html"
}
for spec in dbg_pairwise:3 dbg_pointwise:3 consistency:3 first_slot_rate:3 prefer_longer:6 robustness:6; do
  id=${spec%%:*} want=${spec##*:}
  got=$(marks "$id")
  [ "$got" = "$want" ] && passed=$((passed + 1)) || fail "chart $id: ${got:-no chart} marks, wanted $want"
done
# The judge's name is text: escaped in the DOM, never an element; the page has no script at all.
if grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$work/dom.html"; then passed=$((passed + 1)); else fail "the name is not shown as text"; fi
if grep -qi '<script' "$work/dom.html"; then fail "a <script> element is in the DOM"; else passed=$((passed + 1)); fi
# Every value is in a table too: the renamed judge's DBG row.
if grep -qF '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>dbg_pairwise' "$work/dom.html"; then passed=$((passed + 1)); else fail "no table row for the renamed judge"; fi

echo "$passed passed, $failed failed (screenshots in $artefacts)"
[ "$failed" = 0 ]
