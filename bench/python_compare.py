#!/usr/bin/env python3
"""judgebias from Python against the binary (docs/performance.md, "From Python").

On one synth file (RECORDS records, default 1,000,000) it times, each in a fresh process with its peak
RSS (/usr/bin/time): the binary `judgebias run FILE -o report.json`; the same from Python,
`judgebias.run(FILE).write("report.json")`; and the records given as a list of dicts and as a flat
pandas DataFrame, whose conversion cost per record it states (the DataFrame's or the list's own
construction is not counted: it is timed inside the process, around run() only).

Run with the Python that has the package installed (scripts/test.sh leaves one in build/python-venv):
    build/python-venv/bin/python bench/python_compare.py build/judgebias [RECORDS] [BOOTSTRAP]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

binary = os.path.abspath(sys.argv[1])
records = int(float(sys.argv[2])) if len(sys.argv) > 2 else 1_000_000
bootstrap = sys.argv[3] if len(sys.argv) > 3 else "1000"
work = tempfile.mkdtemp(prefix="judgebias-python-bench-")
data = os.path.join(work, "data.jsonl")
items = max(1, records // 54)  # synth's default shape: 54 records per item
subprocess.run([binary, "synth", "--items", str(items), "--seed", "1", "-o", data], check=True,
               stderr=subprocess.DEVNULL)
with open(data, "rb") as f:
    n = sum(1 for _ in f)


def timed(cmd):
    """Wall seconds and peak RSS (MB) of a command, from GNU time."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "RSS %M", *cmd], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = int(re.search(r"RSS (\d+)", out.stderr).group(1)) / 1024
    return wall, rss, out.stdout


py = sys.executable
rows = []
wall, rss, _ = timed([binary, "run", data, "--bootstrap", bootstrap, "-q", "-o", os.path.join(work, "bin.json")])
rows.append(("binary: judgebias run FILE", wall, rss, ""))
wall, rss, _ = timed([py, "-c", f"import judgebias; judgebias.run({data!r}, bootstrap={bootstrap})"
                      f".write({os.path.join(work, 'py.json')!r})"])
rows.append(("Python: judgebias.run(FILE).write(...)", wall, rss, ""))
same = open(os.path.join(work, "bin.json"), "rb").read() == open(os.path.join(work, "py.json"), "rb").read()

# Records from memory: the conversion (records -> FORMAT v1 text) is what run() adds to reading the file.
inner = f"""
import json, time, judgebias
recs = [json.loads(l) for l in open({data!r})]
{{prepare}}
t = time.perf_counter(); judgebias.run({data!r}, bootstrap={bootstrap}); base = time.perf_counter() - t
t = time.perf_counter(); judgebias.run(SOURCE, bootstrap={bootstrap}); mem = time.perf_counter() - t
print(json.dumps({{"file": base, "memory": mem}}))
"""
# A flat DataFrame as a pipeline keeps one: a_model, a_length, response_model... columns.
FLAT = """
import pandas
def flat(r):
    row = {}
    for k, v in r.items():
        if k in ("a", "b", "response") and isinstance(v, dict):
            row.update({f"{k}_{f}": x for f, x in v.items()})
        else:
            row[k] = v
    return row
SOURCE = pandas.DataFrame([flat(r) for r in recs])
"""
for label, prepare in [("list of dicts", "SOURCE = recs"),
                       ("flat DataFrame", FLAT)]:
    out = subprocess.run([py, "-c", inner.replace("{prepare}", prepare)], check=True, capture_output=True,
                         text=True).stdout
    t = json.loads(out)
    per = (t["memory"] - t["file"]) / n * 1e6
    rows.append((f"Python: judgebias.run({label})", t["memory"], None,
                 f"{t['file']:.2f} s from the file in the same process: conversion {per:.1f} µs/record"))

print(f"{n:,} records ({os.path.getsize(data) / 1e6:.0f} MB), --bootstrap {bootstrap}, all modules")
print("| what | wall (s) | peak RSS | note |")
print("|---|---:|---:|---|")
for what, wall, rss, note in rows:
    print(f"| {what} | {wall:.2f} | {f'{rss:.0f} MB' if rss else ''} | {note} |")
print(f"Python/binary wall: {rows[1][1] / rows[0][1]:.3f}; reports byte-identical: {same}")
