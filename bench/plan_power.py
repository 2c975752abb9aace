#!/usr/bin/env python3
"""Checks `judgebias plan` by simulation (docs/metrics.md "Planning a study"): from a 4,000-item pilot of
synth's default judges, plan the comparisons needed to detect each judge's true pairwise DBG (its expectation over
200,000 synth items) with 80 % power at alpha 0.05; then run 500 studies of that size (new seeds) and
count how many find the DBG (its 95 % item-bootstrap interval excludes 0). The share should be within
+-4 pp of 80 %.

Usage: bench/plan_power.py JUDGEBIAS [STUDIES] [WORKDIR]
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


# The truth: each judge's expected DBG over a large population of items (200,000: its own sampling error,
# about 0.06 pp, is small beside the effects; at 20,000 items it was 0.2 pp, enough to move the power by
# several points).
run("synth", "--items", "200000", "--seed", "999", "-o", "/dev/null", "--expected", f"{work}/truth.json")
truth = json.load(open(f"{work}/truth.json"))
# The pilot: 4000 items, the default bootstrap. (A pilot's se is itself an estimate: on 1,000 items its
# error of a few per cent moves the achieved power by about as much as the +-4 pp tolerance.)
pilot_items = 4000
run("synth", "--items", str(pilot_items), "--seed", "1", "-o", f"{work}/pilot.jsonl")
# The pilot's resamples (PILOT_BOOTSTRAP, default 1000, as `run`): its interval's width, hence the planned
# size, carries the bootstrap's own Monte Carlo error, about 3 % of the width at 1000 resamples.
pilot_bootstrap = os.environ.get("PILOT_BOOTSTRAP", "1000")
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
