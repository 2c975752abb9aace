#!/usr/bin/env python3
"""Coverage of winrate's intervals on simulated studies with a known gold win rate (docs/metrics.md
"Corrected win rate", issue #16).

Each study: models m1, m2, m3 each judged against the baseline B on ITEMS items (one record per item,
the slots drawn at random). The gold outcome Y of m against B is a win with probability WIN[m], a tie
with probability TIE, else a loss, so the truth is WIN[m] + TIE/2. The judge reports Y with probability
ACCURACY, otherwise an outcome of its own that favours m1 (its own model) and disfavours m3, so its raw
win rates are biased. The gold is kept on a uniformly random GOLD share of the records. Every study is
run through `judgebias run --modules winrate --baseline B` with the item bootstrap, and the script
counts how often each interval covers the truth, and their mean widths.

Usage: bench/winrate_coverage.py [JUDGEBIAS_BINARY] (default build/judgebias)
STUDIES=500 ITEMS=1000 GOLD=0.1 BOOTSTRAP=1000 change the sizes.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
jb = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "build", "judgebias")
studies = int(os.environ.get("STUDIES", 500))
items = int(os.environ.get("ITEMS", 1000))
gold_share = float(os.environ.get("GOLD", 0.1))
bootstrap = os.environ.get("BOOTSTRAP", "1000")
WIN = {"m1": 0.35, "m2": 0.5, "m3": 0.6}
TIE = 0.1
ACCURACY = 0.7
OWN = {"m1": (0.8, 0.05), "m2": (0.45, 0.1), "m3": (0.25, 0.1)}  # the judge's own (win, tie) when it errs
truth = {m: WIN[m] + TIE / 2 for m in WIN}
metrics = ["win_rate", "gold_win_rate", "corrected_win_rate", "corrected_win_rate_ppi"]


def outcome(rng, win, tie):
    u = rng.random()
    return 1.0 if u < win else 0.5 if u < win + tie else 0.0


def verdict(m_first, y):  # y: m's outcome; the letter in presentation
    if y == 0.5:
        return "tie"
    return "A" if (y == 1.0) == m_first else "B"


def study(seed, path):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for m in WIN:
            for i in range(items):
                y = outcome(rng, WIN[m], TIE)
                j = y if rng.random() < ACCURACY else outcome(rng, *OWN[m])
                first = rng.random() < 0.5
                rec = {"judge": "J", "judge_model": "j", "item": f"{m}-{i}",
                       "a": {"model": m if first else "B"}, "b": {"model": "B" if first else m},
                       "verdict": verdict(first, j)}
                if rng.random() < gold_share:
                    rec["gold"] = verdict(first, y)
                f.write(json.dumps(rec) + "\n")


covered = {k: {m: 0 for m in WIN} for k in metrics}
width = {k: {m: 0.0 for m in WIN} for k in metrics}
counted = {k: {m: 0 for m in WIN} for k in metrics}
with tempfile.TemporaryDirectory() as tmp:
    data, out = os.path.join(tmp, "s.jsonl"), os.path.join(tmp, "r.json")
    for s in range(studies):
        study(s, data)
        subprocess.run([jb, "run", data, "--modules", "winrate", "--baseline", "B", "--bootstrap", bootstrap,
                        "--seed", str(s), "-o", out], check=True, stdout=subprocess.DEVNULL)
        models = json.load(open(out))["modules"]["winrate"]["judges"]["J"]["models"]
        for m in WIN:
            for k in metrics:
                ci = models[m][k]["ci"]
                if ci is None:
                    continue
                counted[k][m] += 1
                covered[k][m] += ci[0] <= 100 * truth[m] <= ci[1]
                width[k][m] += ci[1] - ci[0]

print(f"{studies} studies, {items} items per model, gold on {100 * gold_share:g}% of the records, "
      f"--bootstrap {bootstrap}; truth {', '.join(f'{m} {100 * t:g} pp' for m, t in truth.items())}")
print("| interval | " + " | ".join(f"{m}: coverage, mean width" for m in WIN) + " |")
print("|---|" + "---|" * len(WIN))
for k in metrics:
    cells = []
    for m in WIN:
        n = counted[k][m]
        cells.append("no interval" if n == 0 else
                     f"{100 * covered[k][m] / n:.1f}% ({n}), {width[k][m] / n:.1f} pp")
    print(f"| `{k}` | " + " | ".join(cells) + " |")
