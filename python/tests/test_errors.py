"""Every error class of the bad-input corpus (tests/data/bad/EXPECTED.tsv) raises FormatError at the
binary's line and column; records from memory name their index; bad options raise UsageError."""
import json
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import judgebias

from conftest import DATA

BAD = DATA / "bad"


def corpus() -> List[Tuple[str, str, int, int, str]]:
    """(file, reason, line, column, message) from EXPECTED.tsv."""
    out = []
    for line in (BAD / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        file, reason, rest = line.split("\t")
        where, message = re.match(r"(\d+:\d+): (.*)", rest).groups()  # type: ignore[union-attr]
        row, column = (int(x) for x in where.split(":"))
        out.append((file, reason, row, column, message))
    return out


def options_for(file: str) -> Dict[str, object]:
    if file == "line_too_long.jsonl":
        return {"max_line_bytes": 200}
    if file == "score_outside_scale.jsonl":
        return {"strict_scale": True}
    return {}


def cli_flags(file: str) -> List[str]:
    return {"line_too_long.jsonl": ["--max-line-bytes", "200"],
            "score_outside_scale.jsonl": ["--strict-scale"]}.get(file, [])


@pytest.mark.parametrize("file,reason,row,column,message", corpus())
def test_a_bad_file_raises_format_error_where_the_binary_says(binary: str, file: str, reason: str, row: int,
                                                              column: int, message: str) -> None:
    path = str(BAD / file)
    with pytest.raises(judgebias.FormatError) as caught:
        judgebias.run(path, bootstrap=0, **options_for(file))  # type: ignore[arg-type]
    e = caught.value
    assert (e.path, e.line, e.column, e.reason) == (path, row, column, reason)
    assert e.message == message and e.index is None
    assert str(e) == f"{path}:{row}:{column}: {message}"
    # The binary's message names the same place.
    err = subprocess.run([binary, "run", path, "--bootstrap", "0", *cli_flags(file)], capture_output=True,
                         text=True, errors="replace").stderr
    assert err.splitlines()[0] == f"{path}:{row}:{column}: {message}"
    # validate() collects it instead of raising.
    summary = judgebias.validate(path, **options_for(file))  # type: ignore[arg-type]
    assert summary["invalid"] == 1 and summary["invalid_by_reason"] == {reason: 1}
    first = summary["errors"][0]
    assert isinstance(first, judgebias.FormatError) and (first.line, first.column) == (row, column)


# Lines that Python's json reads into a dict and writes back as the same JSON values: as records they must
# fail the same way, at their index. (NaN, 1e999 and a repeated key change when Python reads them;
# bytes that are not UTF-8, a NUL and text that is not JSON or not an object cannot be dicts.)
AS_RECORDS = ["bad_target.jsonl", "both_modes.jsonl", "missing_field.jsonl", "negative_length.jsonl",
              "neither_mode.jsonl", "prob_outside.jsonl", "same_id.jsonl", "gold_outside_scale.jsonl",
              "unknown_verdict.jsonl", "wrong_type.jsonl", "score_outside_scale.jsonl",
              "integer_out_of_range.jsonl", "too_deep.jsonl"]


@pytest.mark.parametrize("file,reason,row,column,message", [c for c in corpus() if c[0] in AS_RECORDS])
def test_bad_records_raise_format_error_naming_their_index(file: str, reason: str, row: int, column: int,
                                                            message: str) -> None:
    records = [json.loads(line) for line in (BAD / file).read_text(encoding="utf-8").splitlines()
               if line.strip()]
    with pytest.raises(judgebias.FormatError) as caught:
        judgebias.run(records, bootstrap=0, **options_for(file))  # type: ignore[arg-type]
    e = caught.value
    assert (e.index, e.line, e.reason, e.message, e.path) == (row - 1, row, reason, message, "<records>")
    assert str(e) == f"record {row - 1}: {message}"


def test_every_corpus_file_is_covered() -> None:
    files = {p.name for p in BAD.glob("*.jsonl")}
    assert files == {c[0] for c in corpus()}


def test_skip_invalid_counts_instead_of_raising() -> None:
    report = judgebias.run([str(DATA / "good.jsonl"), str(BAD / "wrong_type.jsonl")], bootstrap=0,
                           skip_invalid=True).to_dict()
    assert report["diagnostics"]["skipped"] == 1
    assert report["diagnostics"]["skipped_by_reason"] == {"wrong_type": 1}


@pytest.mark.parametrize("kwargs,pattern", [
    ({"modules": "nope"}, 'unknown module "nope"'),
    ({"confidence": 1.5}, "confidence must be between 0 and 1"),
    ({"pair_rule": "sometimes"}, "sometimes"),
    ({"bootstrap": -1}, "bootstrap must be a whole number"),
    ({"bootstrap": 100001}, "at most 100000"),
    ({"by": "judge"}, "judge"),
    ({"modules": ["position", "position"]}, "twice"),
    ({"compare": ("alpha-7b",)}, "two judges"),
    ({"gold_bootstrap": True}, "--gold-judges"),
    ({"seed": 1.5}, "seed must be a whole number"),
])
def test_bad_options_raise_usage_error(kwargs: Dict[str, object], pattern: str) -> None:
    with pytest.raises(judgebias.UsageError, match=re.escape(pattern)):
        judgebias.run(**kwargs)  # type: ignore[arg-type]


def test_other_errors() -> None:
    with pytest.raises(judgebias.FileError, match="no-such-file.jsonl"):
        judgebias.run("no-such-file.jsonl")
    with pytest.raises(judgebias.DataError, match="no records"):
        judgebias.run([{"judge": "J"}][:0])
    with pytest.raises(judgebias.UsageError, match="one record"):
        judgebias.run({"judge": "J"})  # type: ignore[arg-type]
    with pytest.raises(judgebias.UsageError, match="JSON"):
        judgebias.run([{"judge": object()}])
    # One hierarchy, and the builtin classes a caller may already catch.
    assert issubclass(judgebias.FormatError, judgebias.Error) and issubclass(judgebias.FormatError, ValueError)
    assert issubclass(judgebias.FileError, OSError) and issubclass(judgebias.UsageError, judgebias.Error)
