"""judgebias.run() gives the binary's numbers: from a path, from a list of dicts and from a DataFrame, on
the embedded sample and on the real judgments of ../shared/data/real/."""
import json
import math
from pathlib import Path
from typing import Any, Dict, List

import pytest

import judgebias

from conftest import DATA, binary_report, read_records


def without_inputs(report: Dict[str, Any]) -> Dict[str, Any]:
    """The report but its `inputs` (the files' names and sizes, which records from memory do not have)."""
    return {k: v for k, v in report.items() if k != "inputs"}


def flat_frame(records: List[Dict[str, Any]]) -> Any:
    """The records as a flat DataFrame: a_model, a_length, b_id... columns, as a pipeline would keep them."""
    pandas = pytest.importorskip("pandas")
    rows = []
    for r in records:
        row: Dict[str, Any] = {}
        for key, value in r.items():
            if key in ("a", "b", "response") and isinstance(value, dict):
                for field, v in value.items():
                    if isinstance(v, dict):  # features
                        for name, x in v.items():
                            row[f"{key}.{field}.{name}"] = x
                    else:
                        row[f"{key}_{field}"] = v
            else:
                row[key] = value
        rows.append(row)
    return pandas.DataFrame(rows)


def test_sample_from_a_path_equals_the_binary(binary: str, tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text(judgebias._judgebias.embedded_sample(), encoding="utf-8")
    ours = judgebias.run(str(sample), seed=7).to_dict()
    theirs = binary_report(binary, str(sample), "--seed", "7")
    assert ours == theirs
    # The embedded sample itself, with no source, as `judgebias run` with no file.
    assert judgebias.run().to_dict() == binary_report(binary)


def test_sample_from_dicts_and_a_dataframe_equals_the_binary(binary: str) -> None:
    theirs = without_inputs(binary_report(binary))
    records = judgebias.sample_records()
    assert len(records) == 4320
    assert without_inputs(judgebias.run(records).to_dict()) == theirs
    assert without_inputs(judgebias.run(iter(records)).to_dict()) == theirs  # any iterable
    frame = flat_frame(records)
    assert "a_model" in frame.columns and "response_model" in frame.columns
    assert without_inputs(judgebias.run(frame).to_dict()) == theirs
    # Nested columns (`a` holding dicts), as pandas.DataFrame(records) makes them.
    import pandas
    assert without_inputs(judgebias.run(pandas.DataFrame(records)).to_dict()) == theirs
    # Records from memory are reported as such.
    inputs = judgebias.run(records, bootstrap=0).to_dict()["inputs"]
    assert [i["path"] for i in inputs] == ["<records>"] and inputs[0]["records"] == 4320


def test_real_data_from_a_path_dicts_and_a_dataframe(binary: str, real: Path) -> None:
    path = real / "judging_the_judges_mtbench.jsonl"
    theirs = binary_report(binary, str(path), "--seed", "3")
    assert judgebias.run(str(path), seed=3).to_dict() == theirs
    records = read_records(path)
    assert without_inputs(judgebias.run(records, seed=3).to_dict()) == without_inputs(theirs)
    report = judgebias.run(flat_frame(records), seed=3)
    assert without_inputs(report.to_dict()) == without_inputs(theirs)
    # Shi et al.'s published count (../shared/data/real/README.md): gpt-4-0613 over runs 1-3 is position
    # consistent on 251 of its 288 complete swap pairs.
    consistency = [r for r in report.rows() if r["module"] == "position" and r["metric"] == "consistency"
                   and r["judge"] == "gpt-4-0613" and r["task"] is None and r["run"] is None]
    assert len(consistency) == 1
    assert consistency[0]["n"] == 288
    assert math.isclose(consistency[0]["value"], 251 / 288, rel_tol=1e-12)


def test_llmbar_from_a_path_and_from_dicts(binary: str, real: Path) -> None:
    path = real / "llmbar.jsonl"
    args = ["--modules", "position,agreement", "--bootstrap", "200"]
    theirs = binary_report(binary, str(path), *args)
    ours = judgebias.run(str(path), modules="position,agreement", bootstrap=200)
    assert ours.to_dict() == theirs
    records = read_records(path)
    assert without_inputs(judgebias.run(records, modules=["position", "agreement"],
                                        bootstrap=200).to_dict()) == without_inputs(theirs)


def test_options_reach_the_engine(binary: str) -> None:
    # The same options as the command line's, and the same report.
    theirs = binary_report(binary, "--modules", "self_preference,position", "--bootstrap", "300", "--seed", "11",
                           "--by", "task", "--pair-rule", "conservative", "--confidence", "0.9",
                           "--judges", "alpha-7b,delta-api", "--compare", "alpha-7b,delta-api")
    ours = judgebias.run(modules=["self_preference", "position"], bootstrap=300, seed=11, by="task",
                         pair_rule="conservative", confidence=0.9, judges=["alpha-7b", "delta-api"],
                         compare=("alpha-7b", "delta-api"), threads=1)
    assert ours.to_dict() == theirs
    assert ours.to_dict()["config"]["bootstrap"] == 300


def test_report_forms_match_the_binary(binary: str, tmp_path: Path) -> None:
    import subprocess

    report = judgebias.run(bootstrap=200)
    for ext in ("json", "csv", "md", "html"):
        subprocess.run([binary, "run", "--bootstrap", "200", "-q", "-o", str(tmp_path / f"bin.{ext}")], check=True)
        report.write(tmp_path / f"py.{ext}")
        assert (tmp_path / f"py.{ext}").read_bytes() == (tmp_path / f"bin.{ext}").read_bytes(), ext
    assert report.to_json() == (tmp_path / "bin.json").read_bytes().decode()
    assert report.to_csv() == (tmp_path / "bin.csv").read_bytes().decode()
    assert report.to_markdown() == (tmp_path / "bin.md").read_bytes().decode()
    assert report.to_html() == (tmp_path / "bin.html").read_bytes().decode()
    table = subprocess.run([binary, "run", "--bootstrap", "200"], check=True, capture_output=True,
                           text=True).stdout
    assert repr(report) == table
    with pytest.raises(judgebias.UsageError, match="extension"):
        report.write(tmp_path / "report.txt")


def test_rows_and_pandas_are_the_tidy_csv() -> None:
    report = judgebias.run(bootstrap=0)
    rows = report.rows()
    lines = report.to_csv().splitlines()
    assert len(rows) == len(lines) - 1  # the CSV has a header
    dbg = [r for r in rows if r["module"] == "self_preference" and r["judge"] == "alpha-7b"
           and r["metric"] == "dbg_pairwise" and r["opponent"] is None]
    assert len(dbg) == 1
    as_json = report.to_dict()["modules"]["self_preference"]["judges"]["alpha-7b"]["dbg_pairwise"]
    assert dbg[0]["value"] == as_json["value"] and dbg[0]["n"] == as_json["n"] == 240
    assert dbg[0]["unit"] == "pp"
    frame = report.to_pandas()
    assert list(frame.columns)[:3] == ["module", "kind", "judge"] and len(frame) == len(rows)
    assert frame.loc[(frame.metric == "dbg_pairwise") & (frame.judge == "alpha-7b")
                     & frame.opponent.isna(), "value"].item() == as_json["value"]


def test_gates() -> None:
    report = judgebias.run(bootstrap=0, modules="position")
    values = {r["judge"]: r["value"] for r in report.rows() if r["metric"] == "consistency"
              and r["task"] is None and r["run"] is None}
    assert len(values) == 3
    threshold = sorted(values.values())[1]  # the middle judge: one judge lies below it
    failures = report.check(f"position.consistency < {threshold}")
    assert [f["judge"] for f in failures] == [j for j, v in values.items() if v < threshold]
    assert len(failures) == 1 and failures[0]["value"] == min(values.values())
    assert report.check("position.consistency > 1") == []
    with pytest.raises(judgebias.UsageError):
        report.check("position.nonsense > 1")


def test_diff_of_a_report_with_itself_and_with_another(tmp_path: Path) -> None:
    a = judgebias.run(bootstrap=200, seed=1)
    a.write(tmp_path / "a.json")
    same = judgebias.diff(a, tmp_path / "a.json")
    assert "\n0 of " in same and "do not overlap" in same
    b = judgebias.run(bootstrap=200, seed=1, judges="alpha-7b")
    changed = judgebias.diff(a, b)
    assert "gone" in changed  # charlie-70b's and delta-api's metrics are in the old report only
    assert judgebias.read_report(tmp_path / "a.json").to_dict() == a.to_dict()


def test_version_matches_the_package_metadata() -> None:
    from importlib import metadata

    try:
        assert metadata.version("judgebias") == judgebias.__version__
    except metadata.PackageNotFoundError:
        pytest.skip("not installed with pip (imported from the build folder)")
    assert json.loads(judgebias.run(bootstrap=0).to_json())["tool"]["version"] == judgebias.__version__


def test_the_worked_example_of_docs_python_md(real: Path) -> None:
    # docs/python.md's example as written: json_normalize's dotted columns (a.model, a.length...).
    import pandas

    records = read_records(real / "judging_the_judges_mtbench.jsonl")
    frame = pandas.json_normalize(records)
    assert "a.model" in frame.columns and "b.length" in frame.columns
    report = judgebias.run(frame, modules="position", seed=3)
    rows = report.to_pandas()
    overall = rows[(rows.metric == "consistency") & rows.task.isna() & rows.run.isna()]
    gpt4 = overall[overall.judge == "gpt-4-0613"]
    assert gpt4.n.item() == 288 and round(gpt4.value.item(), 3) == 0.872
    assert without_inputs(report.to_dict()) == without_inputs(judgebias.run(records, modules="position",
                                                                            seed=3).to_dict())


def test_records_are_written_as_pythons_json_writes_them() -> None:
    records = judgebias.sample_records()
    text = judgebias._judgebias.records_text(records)
    assert text == "".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records)
    odd = [{"s": "tab\there \"q\" \\ é \x01", "f": 622.0, "g": 1e-7, "h": 1e16, "i": -0.0, "n": None,
            "t": True, "l": [1, 2.5, {"x": []}], "big": 2**70}]
    assert json.loads(judgebias._judgebias.records_text(odd)) == odd[0]
    assert judgebias._judgebias.records_text(odd) == json.dumps(odd[0], separators=(",", ":"),
                                                                ensure_ascii=False).replace(
        "\\t", "\\u0009") + "\n"


def test_values_from_python_are_validated_as_the_file_would_be() -> None:
    base = {"judge": "J", "item": "i", "a": {"model": "m", "length": 10}, "b": {"model": "n", "length": 12},
            "verdict": "A"}
    with pytest.raises(judgebias.FormatError, match='"length" must be an integer'):
        judgebias.run([base, {**base, "a": {"model": "m", "length": 622.0}}], bootstrap=0)
    with pytest.raises(judgebias.FormatError) as caught:
        judgebias.run([base, base, {**base, "prob_a": float("nan")}], bootstrap=0)
    assert caught.value.index == 2
    with pytest.raises(judgebias.UsageError, match="JSON cannot hold"):
        judgebias.run([{**base, "meta": {1, 2}}], bootstrap=0)
    with pytest.raises(judgebias.UsageError, match="keys must be strings"):
        judgebias.run([{**base, "meta": {1: "x"}}], bootstrap=0)
    import pandas

    frame = pandas.DataFrame([{"judge": "J", "item": "i", "a": {"model": "m"}, "a_length": 3}])
    with pytest.raises(judgebias.UsageError, match='"a" twice'):
        judgebias.run(frame, bootstrap=0)
    # numpy values (a DataFrame's object column, a user's array) are read through their Python value.
    import numpy

    rec = {**base, "a": {"model": "m", "length": numpy.int64(10)}, "prob_a": numpy.float32(0.5)}
    assert judgebias.run([rec, base], bootstrap=0, modules="position").to_dict()["inputs"][0]["records"] == 2


def test_dataframe_dtypes_and_missing_values() -> None:
    import numpy
    import pandas

    records = [r for r in judgebias.sample_records()[:400]]
    theirs = without_inputs(judgebias.run(records, bootstrap=0).to_dict())
    frame = flat_frame(records)
    # pandas' nullable dtypes: Float64 lengths with gaps (pandas.NA), as pandas.read_json may make them.
    nullable = frame.astype({"a_length": "Float64", "b_length": "Float64"})
    assert nullable["a_length"].isna().any()
    assert without_inputs(judgebias.run(nullable, bootstrap=0).to_dict()) == theirs
    # numpy values in an object column: a float32 NaN is a missing cell, as a float NaN is.
    odd = frame.copy()
    odd["prob_a"] = pandas.Series([numpy.float32("nan")] * len(odd), dtype=object)
    assert without_inputs(judgebias.run(odd, bootstrap=0).to_dict()) == theirs
    # A column with a prefix but no field of FORMAT v1 after it stays a top-level field (ignored, and
    # counted as unknown), instead of turning a pairwise record into one with a "response".
    extra = frame.copy()
    extra["response_time"] = 1.5
    assert without_inputs(judgebias.run(extra, bootstrap=0).to_dict()) == theirs
    assert judgebias.validate(extra)["unknown_fields"] == {"response_time": len(records)}
