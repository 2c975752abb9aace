#!/usr/bin/env python3
"""Checks `judgebias plan` by simulation (docs/metrics.md "Planning a study"): from a pilot of synth's
default judges (PILOT_ITEMS items, default 40,000, its interval from PILOT_BOOTSTRAP resamples, default
10,000), plan the comparisons needed to detect each judge's true pairwise DBG (its expectation over
1,000,000 synth items) with 80 % power at alpha 0.05; then run 500 studies of that size (new seeds) and
count how many find the DBG (its 95 % item-bootstrap interval excludes 0). The share should be within
+-4 pp of 80 %. A smaller pilot tests the pilot as well as the formula: its se is an estimate whose error
moves the planned size (docs/metrics.md gives the numbers for 4,000- and 1,000-item pilots).

Usage: [PILOT_ITEMS=N] [PILOT_BOOTSTRAP=B] bench/plan_power.py JUDGEBIAS [STUDIES] [WORKDIR]
"""
import concurrent.futures
import json
import math
import os
import subprocess
import sys

binary = sys.argv[1]
studies = int(sys.argv[2]) if len(sys.argv) > 2 else 500
work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/judgebias-plan-power"
os.makedirs(work, exist_ok=True)
judges = ["charlie-70b", "delta-api"]  # the two with small DBGs: studies of hundreds of items


def run(*args):
    subprocess.run([binary, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The truth: each judge's expected DBG over a large population of items. Over 200,000 items it still
# varies by about 0.1 pp from seed to seed (charlie-70b: +2.54 to +2.81 over five seeds), enough to move
# the power by 3 points at these effects; over 1,000,000 items, by about 0.05 pp.
run("synth", "--items", "1000000", "--seed", "999", "-o", "/dev/null", "--expected", f"{work}/truth.json")
truth = json.load(open(f"{work}/truth.json"))
# The pilot. Its se is itself an estimate: on 4,000 items it can be 4-5 % off (delta-api's came out 5 %
# high), which plans about 10 % too many or too few comparisons and moves the power by 3-4 points; on
# 40,000 items the error is about a third of that.
pilot_items = int(os.environ.get("PILOT_ITEMS", "40000"))
run("synth", "--items", str(pilot_items), "--seed", "1", "-o", f"{work}/pilot.jsonl")
# The pilot's resamples: its interval's width, hence the planned size, carries the bootstrap's own Monte
# Carlo error, about 3 % of the width at `run`'s default of 1,000 resamples and 1 % at 10,000.
pilot_bootstrap = os.environ.get("PILOT_BOOTSTRAP", "10000")
run("run", f"{work}/pilot.jsonl", "-q", "--modules", "self_preference", "--bootstrap", pilot_bootstrap,
    "-o", f"{work}/pilot.json")
pilot = json.load(open(f"{work}/pilot.json"))["modules"]["self_preference"]["judges"]


def study(seed, items):
    data, out = f"{work}/s{seed}.jsonl", f"{work}/s{seed}.json"
    run("synth", "--items", str(items), "--seed", str(seed), "-o", data)
    run("run", data, "-q", "--modules", "self_preference", "--seed", str(seed), "-o", out)
    m = json.load(open(out))["modules"]["self_preference"]["judges"]
    os.remove(data)
    os.remove(out)
    return m


failures = 0
for judge in judges:
    effect = abs(truth[judge]["dbg_pairwise"])
    plan = json.loads(subprocess.run(
        [binary, "plan", "--from-report", f"{work}/pilot.json", "--judges", judge, "--effect", str(effect),
         "--format", "json"], check=True, capture_output=True, text=True).stdout)[0]
    # Each synth item gives a judge 3 own-vs-other comparisons (its model against the three others).
    per_item = pilot[judge]["dbg_pairwise"]["n"] / pilot_items
    items = math.ceil(plan["needed"] / per_item)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda s: study(s, items), range(10000, 10000 + studies)))
    found = sum(1 for m in results
                if m[judge]["dbg_pairwise"]["ci"] and
                (m[judge]["dbg_pairwise"]["ci"][0] > 0 or m[judge]["dbg_pairwise"]["ci"][1] < 0))
    share = found / studies
    ok = abs(share - 0.8) <= 0.04
    failures += not ok
    print(f"{judge}: true DBG {truth[judge]['dbg_pairwise']:+.2f} pp; pilot se {plan['se']:.3f} on "
          f"{plan['observed']['n']} comparisons; planned {plan['needed']} comparisons = {items} items; "
          f"detected in {found} of {studies} studies = {100 * share:.1f} % (target 80 +- 4) "
          f"{'ok' if ok else 'OUTSIDE'}")
sys.exit(1 if failures else 0)
