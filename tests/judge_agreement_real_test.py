#!/usr/bin/env python3
"""judge_agreement on Judging the Judges' real MT-Bench judgments, against a recount written from the
definition (docs/metrics.md "Judge by judge"): a unit is (item, candidate in slot A, candidate in slot B,
run) judged by both judges with a parsed verdict; agreement is the share of equal labels (A, B, tie) and
Cohen's kappa is (p_o - p_e) / (1 - p_e) with p_e from the two judges' label margins.

Usage: judge_agreement_real_test.py JUDGEBIAS JSONL
"""
import collections
import itertools
import json
import os
import subprocess
import sys
import tempfile

binary, data = sys.argv[1], sys.argv[2]
out = os.path.join(tempfile.mkdtemp(prefix="judgebias-matrix-"), "report.json")
subprocess.run([binary, "run", data, "-q", "--bootstrap", "0", "--modules", "judge_agreement", "-o", out],
               check=True)
report = json.load(open(out))["modules"]["judge_agreement"]["judges"]

LABELS = {"A": "A", "B": "B", "TIE": "tie", "A>B": "A", "B>A": "B", "A=B": "tie", "C": "tie"}
verdicts = collections.defaultdict(dict)  # judge -> unit -> label
for line in open(data):
    r = json.loads(line)
    if "a" not in r or "perturbation" in r or r.get("verdict") is None:
        continue
    unit = (r["item"], r["a"]["id"], r["b"]["id"], r.get("run", 0))
    verdicts[r["judge"]].setdefault(unit, LABELS[r["verdict"].upper()])

failures = checked = 0
for x, y in itertools.combinations(sorted(verdicts), 2):
    shared = sorted(set(verdicts[x]) & set(verdicts[y]))
    n = len(shared)
    po = sum(verdicts[x][u] == verdicts[y][u] for u in shared) / n
    mx = collections.Counter(verdicts[x][u] for u in shared)
    my = collections.Counter(verdicts[y][u] for u in shared)
    pe = sum(mx[label] * my[label] for label in ("A", "B", "tie")) / (n * n)
    kappa = (po - pe) / (1 - pe)
    for a, b in ((x, y), (y, x)):
        got = report[a]["by_opponent"][b]
        if (got["agreement"]["n"] != n or abs(got["agreement"]["value"] - po) > 1e-12
                or abs(got["kappa"]["value"] - kappa) > 1e-12):
            failures += 1
            print(f"FAIL {a} vs {b}: report {got['agreement']['value']}, {got['kappa']['value']}, n="
                  f"{got['agreement']['n']}; recount {po}, {kappa}, n={n}", file=sys.stderr)
        checked += 1
if checked != 72:
    failures += 1
    print(f"FAIL: {checked} ordered pairs checked, expected 9 judges' 72", file=sys.stderr)
print(f"{checked} ordered pairs of judges checked, {failures} mismatches")
sys.exit(1 if failures else 0)
