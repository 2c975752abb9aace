#!/usr/bin/env python3
"""The judge runner end to end against the scripted server tests/judge_server.py on 127.0.0.1.

Usage: judge_test.py JUDGEBIAS CASE   (CASE: roundtrip, cache, resume, faults, options, loop)

The server's planted biases (P_POS = 0.2, P_FOLLOW = 0.5, P_SELF = 0.3) give these population values on
the round-trip design (half the items with the judge's own answer the better one, every comparison in
both orders, the bandwagon cue aimed at the worse answer), worked by hand:
  first-slot rate = P_POS + (1 - P_POS) / 2 = 0.6 (the rest of the choice is symmetric in the slots);
  wr_judge = mean over comparisons of P_POS / 2 + (1 - P_POS) (P_SELF + (1 - P_SELF) g), g = 1 or 0 for
    own better or worse: 0.1 + 0.8 (0.3 + 0.35) = 0.62; wr_gold = 0.5; DBG = +12 pp;
  bandwagon, by the four strata (target in slot A or B, target own or not), with c = P(control picks
    the target) and p = P(variant picks it): (c, p) = (0.44, 0.72), (0.2, 0.6), (0.24, 0.52), (0, 0.4);
    follow_rate = sum (1 - c) p / sum (1 - c) = 1.6784 / 3.12 = 0.53795; effect = mean (p - c) = 0.34.
The test also computes each value from the server's own planted_p_first() over the records judged and
checks both agree, then that run's interval holds it.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import judge_server as srv  # noqa: E402

# Loopback only, never through a proxy the machine may have set.
for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

BIN = sys.argv[1]
CASE = sys.argv[2]
WORK = tempfile.mkdtemp(prefix="judgebias-judge-")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def close(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol


class Server:
    def __init__(self, delay=0.0):
        self.port_file = os.path.join(WORK, f"port-{time.time_ns()}")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "judge_server.py"), "--port-file",
                                      self.port_file, "--delay", str(delay)])
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{open(self.port_file).read()}/v1"

    def calls(self):
        with urllib.request.urlopen(self.url + "/calls") as r:
            return json.load(r)["calls"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def judgebias(*args, env=None, check_ok=True):
    r = subprocess.run([BIN, *args], capture_output=True, text=True, env=env)
    if check_ok and r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        raise SystemExit(f"judgebias {' '.join(args)} failed with {r.returncode}")
    return r


def write_lines(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def read_lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def design(n_items, own="judge-m", other="other-m"):
    """Requests: own answer better on even items, worse on odd; which is shown first alternates."""
    rows = []
    for i in range(n_items):
        own_good = i % 2 == 0
        mine = {"model": own, "text": f"answer {i} quality={'good' if own_good else 'bad'} written by {own}"}
        theirs = {"model": other, "text": f"answer {i} quality={'bad' if own_good else 'good'} written by {other}"}
        a, b = (mine, theirs) if i % 4 < 2 else (theirs, mine)
        rows.append({"item": f"q{i}", "question": f"Question {i}?", "a": a, "b": b,
                     "gold": "A" if "quality=good" in a["text"] else "B"})
    return rows


def cue_of(rec):
    p = rec.get("perturbation")
    if p and p.get("detail", {}).get("placement") == "prompt":
        return p["detail"]["cue"]
    return ""


def p_first(rec, model):
    return srv.planted_p_first(model, rec["a"]["text"], rec["b"]["text"], cue_of(rec))


def metric(report, module, judge, name):
    return report["modules"][module]["judges"][judge][name]


def inside(m, truth):
    return m["ci"] is not None and m["ci"][0] <= truth <= m["ci"][1]


def truths(records, model):
    """Population values of the planted judge on these records (see the module docstring)."""
    controls = [r for r in records if "perturbation" not in r]
    first = sum(p_first(r, model) for r in controls) / len(controls)
    by_comparison = {}
    for r in controls:
        own_first = r["a"]["model"] == model
        p = p_first(r, model)
        by_comparison.setdefault(r["item"], []).append((p if own_first else 1 - p,
                                                        1.0 if (r["gold"] == "A") == own_first else 0.0))
    wr_judge = sum(sum(x for x, _ in v) / len(v) for v in by_comparison.values()) / len(by_comparison)
    wr_gold = sum(sum(g for _, g in v) / len(v) for v in by_comparison.values()) / len(by_comparison)
    control_of = {(r["item"], r["a"]["id"]): r for r in controls}
    num = den = eff = 0.0
    pert = [r for r in records if r.get("perturbation", {}).get("kind") == "bandwagon"]
    for r in pert:
        c = control_of[(r["item"], r["a"]["id"])]
        target_first = r["perturbation"]["target"] == r["a"]["id"]
        pc = p_first(c, model) if target_first else 1 - p_first(c, model)
        pp = p_first(r, model) if target_first else 1 - p_first(r, model)
        num += (1 - pc) * pp
        den += 1 - pc
        eff += pp - pc
    return {"first_slot_rate": first, "dbg_pairwise": 100 * (wr_judge - wr_gold), "follow_rate": num / den,
            "effect": eff / len(pert)}


def judged_roundtrip(server, out, extra=()):
    req = os.path.join(WORK, "requests.jsonl")
    write_lines(req, design(400))
    to_judge = os.path.join(WORK, "to_judge.jsonl")
    judgebias("perturb", req, "--judge", "placeholder", "--kinds", "bandwagon", "-o", to_judge)
    judgebias("judge", to_judge, "--endpoint", server.url, "--model", "judge-m", "--logprobs", "--seed", "1",
              "-o", out, *extra)
    return to_judge


def case_roundtrip():
    s = Server()
    try:
        out = os.path.join(WORK, "judged.jsonl")
        judged_roundtrip(s, out)
        recs = read_lines(out)
        check(len(recs) == 1600, f"400 items x (control + bandwagon) x 2 orders = 1600 records, got {len(recs)}")
        check(all(r["judge"] == "judge-m" and r["judge_model"] == "judge-m" for r in recs), "judge label and model")
        worst = max(abs(r["prob_a"] - p_first(r, "judge-m")) for r in recs)
        check(worst <= 1e-9, f"prob_a equals the planted probability to 1e-9 (worst {worst})")
        t = truths(recs, "judge-m")
        check(close(t["first_slot_rate"], 0.6, 1e-12), f"first-slot truth 0.6 by hand, {t['first_slot_rate']}")
        check(close(t["dbg_pairwise"], 12.0, 1e-9), f"DBG truth +12 pp by hand, {t['dbg_pairwise']}")
        check(close(t["follow_rate"], 1.6784 / 3.12, 1e-12), f"follow truth 0.53795 by hand, {t['follow_rate']}")
        check(close(t["effect"], 0.34, 1e-12), f"effect truth 0.34 by hand, {t['effect']}")
        rep = os.path.join(WORK, "report.json")
        judgebias("run", out, "-q", "-o", rep)
        r = json.load(open(rep))
        fs = metric(r, "position", "judge-m", "first_slot_rate")
        check(inside(fs, 0.6), f"first_slot_rate interval {fs['ci']} holds 0.6")
        dbg = metric(r, "self_preference", "judge-m", "dbg_pairwise")
        check(inside(dbg, 12.0), f"dbg_pairwise interval {dbg['ci']} holds +12 pp")
        fr = metric(r, "bandwagon", "judge-m", "follow_rate")
        check(inside(fr, t["follow_rate"]), f"follow_rate interval {fr['ci']} holds {t['follow_rate']}")
        ef = metric(r, "bandwagon", "judge-m", "effect")
        check(inside(ef, 0.34), f"effect interval {ef['ci']} holds 0.34")
        # With --soft every record counts its prob_a: wr_judge is the planted expectation itself.
        judgebias("run", out, "-q", "--soft", "--modules", "self_preference", "-o", rep)
        soft = metric(json.load(open(rep)), "self_preference", "judge-m", "dbg_pairwise")
        check(close(soft["value"], 12.0, 1e-9), f"--soft dbg_pairwise is exactly +12 pp, got {soft['value']}")
    finally:
        s.stop()


def case_cache():
    s = Server()
    try:
        out1, out2 = os.path.join(WORK, "one.jsonl"), os.path.join(WORK, "two.jsonl")
        judged_roundtrip(s, out1)
        calls = s.calls()
        check(calls == 1600, f"the first run calls once per record: {calls}")
        to_judge = os.path.join(WORK, "to_judge.jsonl")
        r = judgebias("judge", to_judge, "--endpoint", s.url, "--model", "judge-m", "--logprobs", "--seed", "1",
                      "-o", out2)
        check(s.calls() == calls, f"a second run makes no call ({s.calls() - calls} made)")
        check("cache hits 1600" in r.stderr, "the summary counts 1600 cache hits")
        check(open(out1, "rb").read() == open(out2, "rb").read(), "a cached run writes the same bytes")
        check(os.path.isdir(os.path.join(WORK, ".judgebias-cache")), "the default cache is beside the output")
        # Anything that changes the answer changes the key: model, temperature, template.
        for extra in (["--model", "judge-m2"], ["--temperature", "0.7"], ["--template", "pairwise"]):
            before = s.calls()
            args = ["judge", to_judge, "--endpoint", s.url, "--model", "judge-m", "--logprobs", "--seed", "1",
                    "-o", out2, "-q"]
            if extra[0] == "--model":
                args[args.index("judge-m")] = extra[1]
            else:
                args += extra
            judgebias(*args)
            check(s.calls() - before == 1600, f"{extra} misses the cache on every request ({s.calls() - before} calls)")
        before = s.calls()
        judgebias("judge", to_judge, "--endpoint", s.url, "--model", "judge-m", "--logprobs", "--seed", "1",
                  "-o", out2, "-q", "--no-cache")
        check(s.calls() - before == 1600, "--no-cache calls every request")
    finally:
        s.stop()


def case_resume():
    fast = Server()
    slow = Server(delay=0.01)  # 1600 answers at concurrency 8: 2 s of calls, more than ten kills allow
    try:
        ref = os.path.join(WORK, "reference.jsonl")
        to_judge = judged_roundtrip(fast, ref)
        out = os.path.join(WORK, "resumed.jsonl")
        cache = os.path.join(WORK, "resume-cache")
        args = [BIN, "judge", to_judge, "--endpoint", slow.url, "--model", "judge-m", "--logprobs", "--seed", "1",
                "-o", out, "--cache", cache, "-q", "--concurrency", "8"]
        rng = random.Random(15)
        kills = finished = 0
        for _ in range(10):
            p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.25))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
                p.wait()
                if not finished:  # (a run that got to the end, from the cache, has written the output)
                    check(not os.path.exists(out), f"killed run {kills} leaves no output")
            else:
                finished += 1
                check(p.returncode == 0 and open(ref, "rb").read() == open(out, "rb").read(),
                      f"a run that was not killed in time finished the job ({p.returncode})")
        check(kills >= 5, f"most of the ten runs were killed while working ({kills})")
        r = subprocess.run(args, capture_output=True)
        check(r.returncode == 0, f"the resumed run succeeds ({r.returncode})")
        check(open(ref, "rb").read() == open(out, "rb").read(), "the resumed output equals the uninterrupted one")
        check(slow.calls() < 1600 + 8 * kills, f"calls {slow.calls()} < requests + concurrency x kills ({1600 + 8 * kills})")
        check(slow.calls() >= 1600, "every request was answered once at least")
    finally:
        fast.stop()
        slow.stop()


def case_faults():
    s = Server()
    secret = "sk-test-SECRET-4242"
    env = dict(os.environ, JB_KEY=secret)
    try:
        rows = design(8)
        kinds = ["429", "500", "503", "slow", "badjson", "empty", "reset"]
        for row, kind in zip(rows, kinds):
            row["question"] += f" FAULT:{kind}"
        req = os.path.join(WORK, "faults.jsonl")
        write_lines(req, rows)
        out = os.path.join(WORK, "faults-out.jsonl")
        # --timeout 3 against a 6 s answer: a timeout, with room for a slow machine's ordinary answers.
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--timeout", "3",
                      "--backoff", "0.05", "--api-key-env", "JB_KEY", "-o", out, env=env, check_ok=False)
        check(r.returncode == 0, f"every retriable fault is retried and the run completes ({r.returncode}: {r.stderr})")
        check("retries 7," in r.stderr, f"one retry per planted fault: {r.stderr}")
        recs = read_lines(out) if os.path.exists(out) else []
        check(len(recs) == 8 and all(x["verdict"] in ("A", "B") for x in recs), "every faulted request got its verdict")
        # Retry-After alone: with no backoff of its own, the retry still waits the second the server asked.
        one = design(1)
        one[0]["question"] += " (alone) FAULT:429"  # a body the server has not seen: it faults once
        write_lines(req, one)
        t0 = time.time()
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--backoff", "0",
                      "--no-cache", "-o", out, check_ok=False)
        elapsed = time.time() - t0
        check(r.returncode == 0 and elapsed >= 1.0, f"Retry-After: 1 is waited for ({elapsed:.2f} s, {r.returncode}: {r.stderr})")
        check("retries 1," in r.stderr, f"the 429 was retried: {r.stderr}")
        # A Retry-After of a day is a spent quota: the run stops at once with the server's words.
        one[0]["question"] = "Question? FAULT:quota"
        write_lines(req, one)
        t0 = time.time()
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--no-cache",
                      "-o", out, check_ok=False)
        check(r.returncode == 1 and "daily quota spent" in r.stderr and "86400 s (Retry-After)" in r.stderr
              and time.time() - t0 < 30, f"a day's Retry-After stops the run: {r.stderr}")
        # A byte that is not UTF-8 in an answer is not a fault: it becomes U+FFFD and the verdict is read.
        one[0]["question"] = "Question? FAULT:utf8"
        write_lines(req, one)
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--keep-raw",
                      "--no-cache", "-o", out, check_ok=False)
        got = read_lines(out) if r.returncode == 0 else []
        check(got and got[0]["verdict"] == "B" and got[0]["meta"]["judge_raw"] == "caf\ufffd [[B]]" and "retries 0," in r.stderr,
              f"invalid UTF-8 read as U+FFFD, not retried: {r.stderr}")
        for code, hint in (("400", ""), ("401", "check --api-key-env (JB_KEY is set)"), ("403", "check --api-key-env"),
                           ("404", "check --endpoint")):
            rows = design(3)
            rows[1]["question"] += f" FAULT:{code}"
            req = os.path.join(WORK, f"fault-{code}.jsonl")
            write_lines(req, rows)
            out = os.path.join(WORK, f"fault-{code}-out.jsonl")
            r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--api-key-env", "JB_KEY",
                          "-o", out, env=env, check_ok=False)
            check(r.returncode == 1, f"HTTP {code} stops the run with status 1 ({r.returncode})")
            check(f"{req}:2: the server answered HTTP {code}" in r.stderr, f"HTTP {code} names line 2: {r.stderr}")
            check(hint in r.stderr, f"HTTP {code}'s hint '{hint}': {r.stderr}")
            check(secret not in r.stderr, f"the API key is not in the {code} message")
            check(not os.path.exists(out), f"nothing is written after HTTP {code}")
        rows = design(2)
        rows[0]["question"] += " FAULT:500"
        write_lines(req, rows)
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--max-retries", "0", "-o", out,
                      check_ok=False)
        check(r.returncode == 1 and f"{req}:1: no usable answer after 1 attempt: HTTP 500" in r.stderr,
              f"a fault that outlasts --max-retries stops with its line: {r.stderr}")
        r = judgebias("judge", req, "--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--max-retries", "1",
                      "--backoff", "0.01", "-o", out, check_ok=False)
        check(r.returncode == 1 and "no usable answer after 2 attempts" in r.stderr,
              f"a server that is not there: retried, then status 1: {r.stderr}")
        # The key is in no file written.
        for root, _, files in os.walk(WORK):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    check(secret.encode() not in fh.read(), f"the API key is not in {os.path.join(root, f)}")
    finally:
        s.stop()


def case_options():
    s = Server()
    try:
        rows = design(6)
        req = os.path.join(WORK, "one-order.jsonl")
        write_lines(req, rows)
        out = os.path.join(WORK, "orders.jsonl")
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, "-q")
        recs = read_lines(out)
        check(len(recs) == 12, f"--orders both writes the missing order: {len(recs)} records")
        for k in range(6):
            first, second = recs[2 * k], recs[2 * k + 1]
            check(first["a"] == second["b"] and first["b"] == second["a"], "the generated order swaps a and b")
            check({first["gold"], second["gold"]} == {"A", "B"}, "and the gold's letter")
        rep = os.path.join(WORK, "orders.json")
        judgebias("run", out, "-q", "--modules", "position", "-o", rep)
        check(metric(json.load(open(rep)), "position", "judge-m", "fairness")["n"] == 6, "run pairs the two orders")
        # Answers with neither id nor model: named by their text's hash in both orders, so that run pairs
        # them; a comparison given in both orders gets no third record.
        bare = [{"item": "b1", "question": "Q?", "a": {"text": "quality=good x"}, "b": {"text": "quality=bad y"}},
                {"item": "b2", "question": "Q?", "a": {"text": "quality=good u"}, "b": {"text": "quality=bad v"}},
                {"item": "b2", "question": "Q?", "a": {"text": "quality=bad v"}, "b": {"text": "quality=good u"}}]
        write_lines(req, bare)
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, "-q")
        recs = read_lines(out)
        check(len(recs) == 4, f"one generated order, none for the comparison given in both ({len(recs)})")
        check(all(r["a"]["id"].startswith(r["item"] + ":") and len(r["a"]["id"]) == len(r["item"]) + 13 for r in recs),
              "ids from the text's hash")
        judgebias("run", out, "-q", "--modules", "position", "-o", rep)
        check(metric(json.load(open(rep)), "position", "judge-m", "fairness")["n"] == 2, "and run pairs both comparisons")
        # A null id or model is an absent one: those answers are named by their text too.
        for b in bare:
            b["a"]["id"] = None
            b["b"]["model"] = None
        write_lines(req, bare)
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, "-q")
        judgebias("run", out, "-q", "--modules", "position", "-o", rep)
        check(metric(json.load(open(rep)), "position", "judge-m", "fairness")["n"] == 2, "null ids: still paired")
        # A target naming a bare answer by its slot ("b") follows the answer's new id, in both orders.
        write_lines(req, [dict(bare[0], perturbation={"kind": "authority", "target": "b"}, a={"model": "m", "text": "x"})])
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        check(r.returncode == 1 and "needs an \"id\" or a \"model\"" in r.stderr,
              f"a cue variant's bare answer is refused before any call: {r.stderr}")
        write_lines(req, [{"item": "t1", "question": "Q?", "a": {"model": "m", "text": "x"}, "b": {"text": "y"},
                           "perturbation": {"kind": "authority", "target": "B"}}])
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        check(r.returncode == 1 and f"{req}:1:" in r.stderr, f"a bare answer in a variant: refused at its line: {r.stderr}")
        # A slot-letter target is exchanged with the slots; a one-order prompt cue cannot be, and is refused.
        cued = [dict(design(1)[0], perturbation={"kind": "authority", "target": "B"})]
        write_lines(req, cued)
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, "-q")
        recs = read_lines(out)
        check([r["perturbation"]["target"] for r in recs] == ["B", "A"], "the target's letter follows its answer")
        cued[0]["perturbation"] = {"kind": "bandwagon", "target": "B",
                                   "detail": {"cue": "90% of people believe that Output (b) is better.",
                                              "placement": "prompt"}}
        write_lines(req, cued)
        before = s.calls()
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        check(r.returncode == 1 and "prompt cue comes in one order only" in r.stderr and f"{req}:1:" in r.stderr,
              f"a one-order prompt cue is refused: {r.stderr}")
        check(s.calls() == before, "before any call")
        # A template without {cue} cannot carry a prompt cue: refused, not sent as if it were the control.
        nocue = os.path.join(WORK, "nocue.json")
        json.dump({"mode": "pairwise", "user": "{answer_a} {answer_b}", "pattern": "x"}, open(nocue, "w"))
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--template",
                      nocue, "-o", out, check_ok=False)
        check(r.returncode == 1 and "has no {cue}" in r.stderr, f"a prompt cue needs {{cue}}: {r.stderr}")
        # Requests whose records run would refuse cost no call: the reader's checks, at the line's columns.
        before = s.calls()
        line = json.dumps({"item": "q1", "question": "Q?", "run": -3, "a": {"model": "m", "text": "x"},
                           "b": {"model": "n", "text": "y"}})
        open(req, "w").write(line + "\n")
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        check(r.returncode == 1 and f"{req}:1:{line.index('-3') + 1}:" in r.stderr, f"a negative run at its column: {r.stderr}")
        write_lines(req, [{"item": "q1", "question": "Q?", "a": {"model": "m", "text": "x"}, "b": {"model": "m", "text": "y"}}])
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        check(r.returncode == 1 and "same id" in r.stderr, f"one model on both sides without ids: {r.stderr}")
        line = json.dumps({"item": "q1", "question": 5, "a": {"text": "x"}, "b": {"text": "y"}})
        open(req, "w").write(line + "\n")
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        check(r.returncode == 1 and f"{req}:1:{line.index('5') + 1}:" in r.stderr, f"a wrong type at its column: {r.stderr}")
        # Keys are matched as keys of the right object: "text" as an item's value, and in b, are not a's.
        line = json.dumps({"item": "text", "question": "Q?", "a": {"id": "x"}, "b": {"text": "y"}})
        open(req, "w").write(line + "\n")
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        col = line.index('{"id"') + 1
        check(r.returncode == 1 and f"{req}:1:{col}:" in r.stderr, f"a missing a.text at a's brace: {r.stderr}")
        check(s.calls() == before, "no call for any of them")
        # A line's own run is part of its key: two lines that differ only in run are two calls and two
        # entries; exact duplicates are one call; a rerun calls nothing and writes the same bytes.
        base = {"item": "r1", "question": "Q?", "a": {"model": "m", "text": "quality=good"}, "b": {"model": "n", "text": "quality=bad"}}
        write_lines(req, [dict(base, run=0), dict(base, run=1), dict(base, run=1)])
        cache = os.path.join(WORK, "run-cache")
        before = s.calls()
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--cache", cache,
                  "-o", out, "-q")
        first_bytes = open(out, "rb").read()
        check(s.calls() - before == 2, f"runs 0 and 1: two calls, the duplicate none ({s.calls() - before})")
        entries = sum(len(f) for _, _, f in os.walk(cache))
        check(entries == 2, f"two cache entries ({entries})")
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--cache", cache,
                  "-o", out, "-q")
        check(s.calls() - before == 2 and open(out, "rb").read() == first_bytes, "a rerun: no call, the same bytes")
        # A temporary entry of a writer that is gone (killed mid-write) is removed by the next run.
        dead = subprocess.Popen(["true"])
        dead.wait()
        stale = os.path.join(cache, f".tmp-{dead.pid}-0123")
        open(stale, "w").write("{half")
        os.utime(stale, (time.time() - 3600, time.time() - 3600))  # left an hour ago
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--cache", cache,
                  "-o", out, "-q")
        check(not os.path.exists(stale), "a dead writer's temporary entry is removed")
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", "", check_ok=False)
        check(r.returncode == 2 and "empty path" in r.stderr, f"-o '' names no file: {r.stderr}")
        write_lines(req, design(6))
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "-o", out, "-q")
        check(len(read_lines(out)) == 6, "--orders as-given judges each line once")
        # The pairwise template: reasoning then [[A]] / [[B]]; the verdict follows the planted choice.
        recs = read_lines(out)
        check(all(r["verdict"] in ("A", "B") for r in recs), "pairwise verdicts are extracted")
        # --runs: each run is its own call with seed + run, numbered in `run`.
        before = s.calls()
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--runs", "3",
                  "--seed", "7", "--temperature", "0.5", "-o", out, "-q")
        recs = read_lines(out)
        check(s.calls() - before == 18 and [r["run"] for r in recs[:3]] == [0, 1, 2], "--runs 3: three calls per line")
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--runs", "3",
                  "--seed", "7", "--keep-raw", "-o", out, "-q")
        check([f"(seed {7 + r})" in x["meta"]["judge_raw"] for r, x in enumerate(read_lines(out)[:3])] == [True] * 3,
              "run r sends seed 7 + r")
        # A template of one's own; a pattern that never matches is an extraction failure, never a tie.
        tpl = os.path.join(WORK, "mine.json")
        builtin_user = ("[Question]\n{question}\n\n[Output (a)]\n{answer_a}\n[End of Output (a)]\n\n[Output (b)]\n"
                        "{answer_b}\n[End of Output (b)]\n\n{cue}Which output is better?")
        json.dump({"mode": "pairwise", "user": builtin_user, "pattern": r"Output \(([ab])\) is better"}, open(tpl, "w"))
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--template", tpl,
                  "--keep-raw", "-o", out, "-q")
        recs = read_lines(out)
        check(all(r["verdict"] == ("A" if "(a)" in r["meta"]["judge_raw"] else "B") for r in recs),
              "a template's pattern: lowercase a/b read as A/B")
        json.dump({"mode": "pairwise", "user": builtin_user, "pattern": "NEVER"}, open(tpl, "w"))
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--orders", "as-given", "--template",
                      tpl, "-o", out)
        check(all(x["verdict"] is None for x in read_lines(out)) and "extraction failures 6" in r.stderr,
              "no match: verdict null, counted")
        json.dump({"mode": "pairwise", "user": "{question} {answr_a}", "pattern": "x"}, open(tpl, "w"))
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "--template", tpl, "-o", out,
                      check_ok=False)
        check(r.returncode == 1 and "unknown placeholder {answr_a}" in r.stderr and f"{tpl}:1:" in r.stderr,
              f"an unknown placeholder is refused at its file:line:column: {r.stderr}")
        # Pointwise: 8 for a good answer, 4 for a bad one, +1 for its own; the scale is written.
        point = [{"item": f"p{i}", "question": "Q?", "response": {"model": m, "text": f"quality={q} written by {m}"}}
                 for i, (m, q) in enumerate([("judge-m", "good"), ("other-m", "good"), ("other-m", "bad")])]
        write_lines(req, point)
        judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, "-q")
        recs = read_lines(out)
        check([r["score"] for r in recs] == [9, 8, 4] and recs[0]["scale"] == [1, 10], "pointwise scores and scale")
        judgebias("validate", out)
        # Already judged lines are refused with their line.
        write_lines(req, [dict(design(1)[0], verdict="A")])
        r = judgebias("judge", req, "--endpoint", s.url, "--model", "judge-m", "-o", out, check_ok=False)
        col = open(req).read().index('"verdict": "A"') + len('"verdict": ') + 1
        check(r.returncode == 1 and f'{req}:1:{col}: the line already has a "verdict"' in r.stderr, r.stderr)
    finally:
        s.stop()


def case_loop():
    """prompts -> respond (three models) -> pairs -> perturb -> judge (audited, --logprobs) -> judge
    (three gold judges) -> run --gold-judges: the DBG's interval holds the planted truth, and --soft
    gives it exactly."""
    s = Server()
    try:
        prompts = os.path.join(WORK, "prompts.jsonl")
        write_lines(prompts, [{"item": f"q{i}", "question": f"Question number {i}?", "task": "demo"}
                              for i in range(150)])
        answers = []
        for m in ("judge-m", "m1", "m2"):
            a = os.path.join(WORK, f"answers-{m}.jsonl")
            judgebias("respond", prompts, "--endpoint", s.url, "--model", m, "-o", a, "-q")
            answers.append(a)
        got = read_lines(answers[0])
        check(all(r["model"] == "judge-m" and r["length"] == len(r["text"]) and r["task"] == "demo" for r in got),
              "respond keeps the prompt's fields and adds model, text and length")
        pairs = os.path.join(WORK, "pairs.jsonl")
        judgebias("pairs", *answers, "-o", pairs)
        pr = read_lines(pairs)
        check(len(pr) == 450, f"three models: three pairs per prompt ({len(pr)})")
        to_judge = os.path.join(WORK, "to_judge.jsonl")
        judgebias("perturb", pairs, "--judge", "x", "--kinds", "bandwagon", "-o", to_judge)
        judged = []
        for m in ("judge-m", "gold1", "gold2", "gold3"):
            o = os.path.join(WORK, f"judged-{m}.jsonl")
            judgebias("judge", to_judge, "--endpoint", s.url, "--model", m, "--logprobs", "-o", o, "-q")
            judged.append(o)
        merged = os.path.join(WORK, "all.jsonl")
        with open(merged, "w") as f:
            for o in judged:
                f.write(open(o).read())
        # The truth: the judge's expected own-win rate minus the gold panel's, over comparisons with the
        # judge's own answer (the gold judges are unbiased and all alike).
        recs = [r for r in read_lines(judged[0]) if "perturbation" not in r]
        per = {}
        for r in recs:
            own = [r["a"]["model"] == "judge-m", r["b"]["model"] == "judge-m"]
            if own[0] == own[1]:
                continue
            pj, pg = p_first(r, "judge-m"), p_first(r, "gold1")
            key = (r["item"], tuple(sorted([r["a"]["id"], r["b"]["id"]])))
            per.setdefault(key, []).append((pj if own[0] else 1 - pj, pg if own[0] else 1 - pg))
        wr_j = sum(sum(x for x, _ in v) / 2 for v in per.values()) / len(per)
        wr_g = sum(sum(g for _, g in v) / 2 for v in per.values()) / len(per)
        truth = 100 * (wr_j - wr_g)
        rep = os.path.join(WORK, "loop.json")
        judgebias("run", merged, "-q", "--gold-judges", "gold1,gold2,gold3", "--soft", "--modules", "self_preference",
                  "-o", rep)
        soft = metric(json.load(open(rep)), "self_preference", "judge-m", "dbg_pairwise")
        check(close(soft["value"], truth, 1e-9), f"--soft DBG {soft['value']} equals the planted {truth}")
        judgebias("run", merged, "-q", "--gold-judges", "gold1,gold2,gold3", "-o", rep)
        hard = metric(json.load(open(rep)), "self_preference", "judge-m", "dbg_pairwise")
        check(inside(hard, truth), f"DBG interval {hard['ci']} holds the planted {truth}")
        check(truth > 5, f"the planted self-preference is visible ({truth} pp)")
    finally:
        s.stop()


{"roundtrip": case_roundtrip, "cache": case_cache, "resume": case_resume, "faults": case_faults,
 "options": case_options, "loop": case_loop}[CASE]()
if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print(f"judge {CASE}: all checks passed")
