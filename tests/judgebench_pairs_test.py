#!/usr/bin/env python3
"""agreement's pair_accuracy and inconsistent_pairs on LLMBar's real judgments, against a recount written
from JudgeBench's definition (utils/metrics.py, compute_final_metrics with reverse_order): per comparison
of a judge (item and the two candidate ids), a counter of +1 for each record picking the gold's answer,
-1 for each picking the other, 0 for a tie or an unparsed verdict; correct when the counter is > 0, every
comparison with a gold in the denominator. Inconsistent: a comparison in both orders whose two records
gave different outcomes (an answer, a tie or an unparsed verdict; two unparsed ones agree).

Usage: judgebench_pairs_test.py JUDGEBIAS LLMBAR_JSONL
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

binary, data = sys.argv[1], sys.argv[2]
out = os.path.join(tempfile.mkdtemp(prefix="judgebias-pairs-"), "report.json")
subprocess.run([binary, "run", data, "-q", "--bootstrap", "0", "--modules", "agreement", "-o", out], check=True)
judges = json.load(open(out))["modules"]["agreement"]["judges"]

comparisons = collections.defaultdict(list)
for line in open(data):
    r = json.loads(line)
    if "a" in r and "perturbation" not in r:
        comparisons[(r["judge"], r["item"], tuple(sorted((r["a"]["id"], r["b"]["id"]))))].append(r)


def picked(r):
    v = r.get("verdict")
    if v is None:
        return None
    v = v.upper()
    return r["a"]["id"] if v == "A" else r["b"]["id"] if v == "B" else "tie"


correct = collections.Counter()
total = collections.Counter()
inconsistent = collections.Counter()
pairs = collections.Counter()
for (judge, _, ids), records in comparisons.items():
    gold = records[0].get("gold")
    if gold in ("A", "B"):
        answer = records[0]["a"]["id"] if gold == "A" else records[0]["b"]["id"]
        counter = sum(1 if picked(r) == answer else -1 if picked(r) in ids else 0 for r in records)
        correct[judge] += counter > 0
        total[judge] += 1
        if len(records) == 2:  # JudgeBench's n_inconsistent: decision1 != decision2 (None and ties included)
            pairs[judge] += 1
            inconsistent[judge] += picked(records[0]) != picked(records[1])

failures = 0
checked = 0
for judge, m in judges.items():
    if total[judge] == 0:  # a pointwise setting (LLMBar's Rating*): nothing to count
        if m["pair_accuracy"]["value"] is not None:
            failures += 1
            print(f"FAIL {judge}: a pair accuracy without pairwise records", file=sys.stderr)
        continue
    checked += 1
    want = (correct[judge] / total[judge], total[judge], inconsistent[judge] / pairs[judge], pairs[judge])
    got = (m["pair_accuracy"]["value"], m["pair_accuracy"]["n"], m["inconsistent_pairs"]["value"],
           m["inconsistent_pairs"]["n"])
    if abs(got[0] - want[0]) > 1e-12 or got[1] != want[1] or abs(got[2] - want[2]) > 1e-12 or got[3] != want[3]:
        failures += 1
        print(f"FAIL {judge}: report {got}, recount {want}", file=sys.stderr)
if checked < 18:
    failures += 1
    print(f"FAIL: {checked} pairwise judges checked, expected LLMBar's 18 pairwise settings", file=sys.stderr)
print(f"{checked} pairwise judges checked, {failures} mismatches")
sys.exit(1 if failures else 0)
