"""The tools besides run(): synth, validate, perturb, import_records, python -m judgebias; the GIL and
Ctrl-C; the type stubs."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import judgebias

from conftest import DATA, binary_report, read_records

HERE = Path(__file__).resolve().parent


def test_synth_gives_the_binarys_records_and_expectations(binary: str, tmp_path: Path) -> None:
    records = judgebias.synth(3, 5)
    assert isinstance(records, list) and len(records) == 162  # as tests/cli_test.sh: 162 records
    out = subprocess.run([binary, "synth", "--items", "3", "--seed", "5"], check=True, capture_output=True,
                         text=True).stdout
    assert records == [json.loads(line) for line in out.splitlines()]
    assert judgebias.synth(3, 5, path=tmp_path / "s.jsonl") == 162
    assert read_records(tmp_path / "s.jsonl") == records
    expected = judgebias.synth_expected(3, 5)
    theirs = subprocess.run([binary, "synth", "--items", "3", "--seed", "5", "-o", str(tmp_path / "t.jsonl"),
                             "--expected", "-"], check=True, capture_output=True, text=True).stdout
    assert expected == json.loads(theirs)
    # A logistic judge and a length scale reach the generator: its expectation changes.
    planted = judgebias.synth_expected(200, 1, logit_judges=["alpha-7b:gold=1,self=1"],
                                       length_scale={"alpha-7b": 2.0})
    assert list(planted) == ["alpha-7b"] and planted["alpha-7b"]["dbg_pairwise"] > 10
    with pytest.raises(judgebias.UsageError):
        judgebias.synth_expected(10, 1, logit_judges=["nobody:self=1"])


def test_validate_counts_as_the_binary(binary: str) -> None:
    summary = judgebias.validate(str(DATA / "bad.jsonl"))
    text = subprocess.run([binary, "validate", str(DATA / "bad.jsonl")], capture_output=True, text=True)
    assert f"{summary['lines']} line(s), {summary['records']} valid record(s), 1 invalid line(s)" in text.stdout
    assert summary["invalid"] == 1
    e = summary["errors"][0]
    assert (e.line, e.column) == (2, 72) and f"bad.jsonl:2:72: {e.message}" in text.stderr
    good = judgebias.validate([str(DATA / "good.jsonl")])
    assert good["invalid"] == 0 and good["records"] == sum(sum(j.values()) - j["perturbed"] - j["out_of_scale"]
                                                           for j in good["judges"].values())
    records = judgebias.validate(judgebias.sample_records())
    assert records["records"] == 4320 and set(records["judges"]) == {"alpha-7b", "charlie-70b", "delta-api"}


def test_perturb_from_dicts_and_a_file(binary: str, tmp_path: Path) -> None:
    request = {"item": "q1", "question": "2+2?", "a": {"model": "m1", "text": "4"},
               "b": {"model": "m2", "text": "5"}, "gold": "A"}
    records = judgebias.perturb([request], judge="j", kinds="bandwagon")
    assert len(records) == 4  # control and cue, both orders (tests/cli_test.sh: "wrote 4 records")
    assert sum(1 for r in records if r.get("perturbation", {}).get("kind") == "bandwagon") == 2
    (tmp_path / "req.jsonl").write_text(json.dumps(request) + "\n", encoding="utf-8")
    assert judgebias.perturb(tmp_path / "req.jsonl", judge="j", kinds=["bandwagon"]) == records
    out = subprocess.run([binary, "perturb", str(tmp_path / "req.jsonl"), "--judge", "j", "--kinds", "bandwagon"],
                         check=True, capture_output=True, text=True).stdout
    assert records == [json.loads(line) for line in out.splitlines()]
    with pytest.raises(judgebias.FormatError) as caught:
        judgebias.perturb([request, {"item": "q2"}], judge="j")
    assert caught.value.index == 1
    # A file is read as the binary reads it, bytes as they are: not UTF-8 is a FormatError at its place.
    (tmp_path / "bad.jsonl").write_bytes(b'{"item":"q1","question":"\xff"}\n')
    with pytest.raises(judgebias.FormatError) as caught:
        judgebias.perturb(tmp_path / "bad.jsonl", judge="j")
    err = subprocess.run([binary, "perturb", str(tmp_path / "bad.jsonl"), "--judge", "j"], capture_output=True,
                         text=True, errors="replace").stderr
    assert f"{caught.value.path}:{caught.value.line}:{caught.value.column}: " in err


@pytest.mark.parametrize("name,fmt,baseline", [("fastchat.jsonl", "fastchat", None),
                                               ("arena_hard.jsonl", "arena-hard", "gpt-4-0314"),
                                               ("alpaca_eval.json", "alpaca-eval", None),
                                               ("judgebench.jsonl", "judgebench", None)])
def test_import_records_equals_the_expected_records(binary: str, name: str, fmt: str, baseline: str) -> None:
    imported = judgebias.import_records(DATA / "import" / name, from_=fmt, baseline=baseline)
    expected = read_records(DATA / "import" / (name.split(".")[0] + ".expected.jsonl"))
    assert imported == expected
    # run() reads them in place, as `run --from`: the same report, the file's size in its inputs.
    path = str(DATA / "import" / name)
    report = judgebias.run(path, from_=fmt, baseline=baseline, bootstrap=0).to_dict()
    assert sum(i["records"] for i in report["inputs"]) == len(expected)
    assert report["inputs"][0]["bytes"] == os.path.getsize(path)
    args = ["--from", fmt, "--bootstrap", "0"] + (["--baseline", baseline] if baseline else [])
    assert report == binary_report(binary, path, *args)


def test_the_command_line_in_process_leaves_ctrl_c_to_python() -> None:
    # judgebias.__main__.main() called from a live interpreter: the command line's own signal handlers
    # are gone afterwards, so Ctrl-C is a KeyboardInterrupt again, not the end of the process.
    script = """
import os, signal, sys, time
import judgebias.__main__ as cli
sys.argv = ["judgebias", "list"]
assert cli.main() == 0
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)
    print("no interrupt")
except KeyboardInterrupt:
    print("KeyboardInterrupt")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.splitlines()[-1] == "KeyboardInterrupt", out.stdout + out.stderr


def test_python_m_judgebias_is_the_command_line(tmp_path: Path) -> None:
    env = dict(os.environ)
    ok = subprocess.run([sys.executable, "-m", "judgebias", "run", "--bootstrap", "0", "-o",
                         str(tmp_path / "r.json"), "-q"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "r.json").read_text())["modules"] == judgebias.run(bootstrap=0).to_dict()["modules"]
    bad = subprocess.run([sys.executable, "-m", "judgebias", "run", "--modules", "nope"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and 'unknown module "nope"' in bad.stderr


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    judgebias.synth(2000, 1, path=path)  # 108,000 records
    return path


def test_the_gil_is_released_while_measuring(big_file: Path) -> None:
    # A second thread counts while run() works. Were the GIL held through the run, it could not count at all.
    ticks: List[float] = []
    done = threading.Event()

    def count() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    start = time.perf_counter()
    judgebias.run(str(big_file), modules="self_preference,position", bootstrap=2000, threads=1)
    end = time.perf_counter()
    done.set()
    counter.join()
    during = [t for t in ticks if start < t < end]
    assert end - start > 0.1  # long enough that a free thread ticks many times
    assert len(during) >= 20, f"{len(during)} ticks in {end - start:.2f} s"


def test_ctrl_c_interrupts_a_long_run(big_file: Path) -> None:
    # A run of minutes (100,000 resamples), interrupted half a second after it starts: KeyboardInterrupt,
    # at once, and the interpreter goes on.
    script = f"""
import sys, time, judgebias
print("started", flush=True)
t = time.time()
try:
    judgebias.run({str(big_file)!r}, modules="self_preference,winrate", bootstrap=100000, threads=1)
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {{time.time() - t:.2f}} s", flush=True)
print("alive", judgebias.run(bootstrap=0).to_dict()["schema_version"], flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(0.5)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # (a no-op once it has ended; a run that ignored Ctrl-C does not outlive the test)
    waited = time.perf_counter() - sent
    assert "interrupted after" in out and "alive 1" in out, out + err
    assert "finished" not in out
    assert waited < 10, f"{waited:.1f} s from Ctrl-C to the end"


def test_the_stubs_type_check_an_example(tmp_path: Path) -> None:
    example = HERE / "typing_example.py"
    stubs = Path(judgebias.__file__).parent / "_judgebias.pyi"
    compile(stubs.read_text(encoding="utf-8"), str(stubs), "exec")  # at least valid Python
    try:
        import mypy  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("mypy is not installed (scripts/test.sh installs python3-mypy)")
        pytest.skip("mypy is not installed: the stubs were checked for syntax only")
    package = Path(judgebias.__file__).parent
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             "--cache-dir", str(tmp_path / "cache"), str(example), str(package / "__init__.py"),
                             str(package / "_errors.py"), str(package / "__main__.py")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # And mypy does check: a wrong type in a call is an error.
    wrong = tmp_path / "wrong.py"
    wrong.write_text("import judgebias\njudgebias.run(bootstrap='many')\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             "--cache-dir", str(tmp_path / "cache"), str(wrong)], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 1 and "bootstrap" in result.stdout


def test_the_judge_runner_against_a_scripted_server_on_loopback(binary: str, tmp_path: Path) -> None:
    # prompts -> respond (two models) -> pairs -> judge, from Python and from the binary, against the
    # project's scripted OpenAI-compatible server (tests/judge_server.py) on 127.0.0.1: the same files.
    server_script = Path(__file__).resolve().parents[2] / "tests" / "judge_server.py"
    port_file = tmp_path / "port"
    server = subprocess.Popen([sys.executable, str(server_script), "--port-file", str(port_file)])
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}/v1"
        prompts = tmp_path / "prompts.jsonl"
        prompts.write_text("".join(json.dumps({"item": f"q{i}", "question": f"Question {i}?"}) + "\n"
                                   for i in range(5)), encoding="utf-8")
        answers = []
        for model in ("m1", "m2"):
            out = tmp_path / f"answers-{model}.jsonl"
            summary = judgebias.respond(prompts, out, endpoint=url, model=model, use_cache=False)
            assert summary["requests"] == 5 and summary["records"] == 5 and summary["cache_dir"] is None
            answers.append(out)
        assert [r["model"] for r in read_records(answers[1])] == ["m2"] * 5
        assert judgebias.pairs(answers, tmp_path / "pairs.jsonl") == (10, 5)
        summary = judgebias.judge(tmp_path / "pairs.jsonl", tmp_path / "judged.jsonl", endpoint=url, model="m1",
                                  logprobs=True, cache_dir=tmp_path / "cache")
        assert summary["requests"] == 5 and summary["records"] == 10  # both orders
        subprocess.run([binary, "judge", str(tmp_path / "pairs.jsonl"), "--endpoint", url, "--model", "m1",
                        "--logprobs", "--no-cache", "-q", "-o", str(tmp_path / "judged-bin.jsonl")], check=True)
        assert (tmp_path / "judged.jsonl").read_bytes() == (tmp_path / "judged-bin.jsonl").read_bytes()
        again = judgebias.judge(tmp_path / "pairs.jsonl", tmp_path / "judged2.jsonl", endpoint=url, model="m1",
                                logprobs=True, cache_dir=tmp_path / "cache")
        assert again["cache_hits"] == 10 and again["calls"] == 0
        records = read_records(tmp_path / "judged.jsonl")
        assert all(r["judge"] == "m1" and r["verdict"] in ("A", "B") and 0 <= r["prob_a"] <= 1 for r in records)
        with pytest.raises(judgebias.UsageError):
            judgebias.judge(tmp_path / "pairs.jsonl", tmp_path / "x.jsonl", endpoint=url, model="m1", scale=(5, 1))
    finally:
        server.terminate()
        server.wait()
