#!/usr/bin/python3
"""What a user would write with pandas instead of judgebias: pairwise DBG (Chen et al. 2025) and
position consistency (Shi et al. 2024) per judge, from a FORMAT v1 judgment file. No intervals.
Usage: /usr/bin/python3 bench/pandas_baseline.py FILE.jsonl   (Debian's python3-pandas)"""
import sys

import pandas as pd

df = pd.read_json(sys.argv[1], lines=True)
if "perturbation" in df:
    df = df[df["perturbation"].isna()]
if "run" not in df:
    df["run"] = 0
df["run"] = df["run"].fillna(0)
pw = df[df["a"].notna()].copy()
for slot in ("a", "b"):
    pw[slot + "_id"] = pw[slot].str.get("id")
    pw[slot + "_model"] = pw[slot].str.get("model")
    missing = pw[slot + "_id"].isna()
    pw.loc[missing, slot + "_id"] = pw["item"].astype(str) + ":" + pw[slot + "_model"].astype(str)
jm = pw["judge_model"] if "judge_model" in pw else pw["judge"]
pw["judge_model"] = jm.fillna(pw["judge"])
pw["lo"] = pw[["a_id", "b_id"]].min(axis=1)
pw["hi"] = pw[["a_id", "b_id"]].max(axis=1)
pw["winner"] = pw["a_id"].where(pw["verdict"] == "A", pw["b_id"].where(pw["verdict"] == "B", "tie"))
pw.loc[pw["verdict"].isna(), "winner"] = None
pw["gold_winner"] = pw["a_id"].where(pw["gold"] == "A", pw["b_id"].where(pw["gold"] == "B", "tie"))

# Pairwise DBG: comparisons with exactly one own response, all records pooled.
own_a = pw["a_model"] == pw["judge_model"]
own_b = pw["b_model"] == pw["judge_model"]
sp = pw[own_a ^ own_b].copy()
sp["own_id"] = sp["a_id"].where(own_a[own_a ^ own_b], sp["b_id"])
sp = sp[sp["winner"].notna()]
sp["w"] = (sp["winner"] == sp["own_id"]) * 1.0 + (sp["winner"] == "tie") * 0.5
sp["g"] = (sp["gold_winner"] == sp["own_id"]) * 1.0 + (sp["gold_winner"] == "tie") * 0.5
comp = sp.groupby(["judge", "item", "lo", "hi"]).agg(w=("w", "mean"), g=("g", "first"))
dbg = comp.groupby("judge").agg(wr_judge=("w", "mean"), wr_gold=("g", "mean"), n=("w", "size"))
dbg["dbg_pairwise"] = 100 * (dbg["wr_judge"] - dbg["wr_gold"])

# Position consistency: the two orders of each comparison in a run.
pw["order"] = (pw["a_id"] == pw["lo"]).map({True: "first", False: "second"})
pairs = pw.drop_duplicates(["judge", "item", "lo", "hi", "run", "order"]).pivot_table(
    index=["judge", "item", "lo", "hi", "run"], columns="order", values="winner", aggfunc="first")
pairs = pairs.dropna()
pc = (pairs["first"] == pairs["second"]).groupby("judge").mean()

print(pd.DataFrame({"dbg_pairwise": dbg["dbg_pairwise"], "comparisons": dbg["n"], "consistency": pc}).to_string())
