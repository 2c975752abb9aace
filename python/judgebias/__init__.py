"""judgebias: measure the biases of LLM judges (self-preference, position, verbosity, cues, agreement).

The same engine as the ``judgebias`` command line, from Python::

    import judgebias
    report = judgebias.run("judgments.jsonl")      # a path, paths, a list of dicts or a DataFrame
    report.to_pandas()                             # one row per judge and metric

The numbers are the binary's: ``run(...).to_dict()`` equals ``judgebias run ... -o report.json`` key for
key, with the same seed. docs/python.md has the whole interface.
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _judgebias
from ._errors import RECORDS, DataError, Error, FileError, FormatError, UsageError

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is given or asked for
    import pandas  # type: ignore[import]  # (Debian's pandas has no type stubs)

__all__ = [
    "run", "Report", "validate", "synth", "synth_expected", "perturb", "import_records", "diff",
    "read_report", "sample_records", "judge", "respond", "pairs", "Error", "FormatError", "UsageError", "DataError", "FileError",
    "__version__",
]

__version__: str = _judgebias.version()

PathLike = Union[str, "os.PathLike[str]"]
Record = Mapping[str, Any]
Source = Union[PathLike, Sequence[PathLike], Iterable[Record], "pandas.DataFrame", None]

# Flat DataFrame columns: `a_model` is the first candidate's model. Only these fields nest: any other
# column (`response_time`) stays a top-level field, which FORMAT v1 ignores if it does not know it.
_CANDIDATE_FIELDS = ("id", "model", "text", "length", "tokens")
_FLAT_FIELDS = {"a": _CANDIDATE_FIELDS, "b": _CANDIDATE_FIELDS, "response": _CANDIDATE_FIELDS,
                "perturbation": ("kind", "target", "detail")}


class Report:
    """A judgebias report: the JSON the binary writes, and its other forms.

    ``str(report)`` and ``repr`` show the terminal table; ``to_dict()`` is the JSON report (REPORT.md).
    """

    def __init__(self, native: _judgebias.Report) -> None:
        self._native = native
        self._dict: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        """The JSON report as a dict, key for key what ``judgebias run -o report.json`` writes."""
        if self._dict is None:
            self._dict = json.loads(self._native.json())
        copy: Dict[str, Any] = json.loads(json.dumps(self._dict))  # the caller may change it
        return copy

    def to_json(self) -> str:
        """The JSON report as text, byte for byte what the binary writes."""
        return self._native.json()

    def rows(self) -> List[Dict[str, Any]]:
        """The tidy rows (the CSV's columns) as dicts: one per module, judge, breakdown and metric.

        Keys: module, kind, judge, model, opponent, task, run, metric, value, ci_low, ci_high, n, p, unit,
        reason, mde. None where a column does not apply or a number is null.
        """
        return self._native.rows()

    def to_pandas(self) -> "pandas.DataFrame":
        """The tidy rows as a pandas DataFrame (pandas is imported here, not before)."""
        import pandas

        columns = ["module", "kind", "judge", "model", "opponent", "task", "run", "metric", "value",
                   "ci_low", "ci_high", "n", "p", "unit", "reason", "mde"]
        return pandas.DataFrame(self.rows(), columns=columns)

    def to_csv(self) -> str:
        """The tidy CSV, as ``-o report.csv`` writes it."""
        return self._native.csv()

    def to_markdown(self) -> str:
        """The Markdown tables, as ``-o report.md`` writes them."""
        return self._native.markdown()

    def to_html(self) -> str:
        """The self-contained HTML page, as ``-o report.html`` writes it."""
        return self._native.html()

    def table(self, color: bool = False) -> str:
        """The terminal table (``judgebias run``'s standard output)."""
        return self._native.table(color)

    def write(self, path: PathLike) -> None:
        """Writes the report atomically, in the format of the extension: .json, .md, .csv, .html."""
        self._native.write(os.fspath(path))

    def check(self, *gates: str, missing: bool = False) -> List[Dict[str, Any]]:
        """The gates (``--fail-if``) a judge trips: ``report.check("position.consistency < 0.7")``.

        Returns one dict per tripped (gate, judge): gate, judge, model, value, reason; an empty list when
        none trips. A null value trips only with ``missing=True`` (``--fail-if-missing``). A malformed gate
        raises UsageError.
        """
        flat: List[str] = []
        for g in gates:
            flat.extend([g] if isinstance(g, str) else list(g))
        return self._native.check(flat, missing)

    def _repr_html_(self) -> str:  # notebooks show the HTML page
        return self._native.html()

    def __repr__(self) -> str:
        return self._native.table(False)

    __str__ = __repr__


def _names(value: Union[str, Sequence[str], None], option: str) -> Optional[List[str]]:
    """A list of names from a list or a comma-separated string (as the command line takes them)."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    for n in names:
        if not isinstance(n, str) or not n:
            raise UsageError(f"{option}: names must be non-empty strings, got {n!r}")
    return names


def _whole(value: Any, option: str, limit: int = 2**64 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise UsageError(f"{option} must be a whole number from 0 to {limit}, got {value!r}")
    return value


def _options(**given: Any) -> Dict[str, Any]:
    """run()'s keyword arguments, checked and normalised for the C++ side."""
    out: Dict[str, Any] = {}
    for key in ("modules", "gold_judges", "judges", "tasks", "by"):
        names = _names(given[key], key)
        if names is not None:
            out[key] = names
    if given["self_map"] is not None:
        pairs = given["self_map"].items() if isinstance(given["self_map"], Mapping) else given["self_map"]
        out["self_map"] = []
        for model, judge in pairs:
            if not isinstance(model, str) or not isinstance(judge, str) or not model or not judge:
                raise UsageError(f"self_map: response model and judge model must be non-empty strings, "
                                 f"got {model!r}: {judge!r}")
            out["self_map"].append((model, judge))
    for key in ("baseline", "pair_rule", "length"):
        if given[key] is not None:
            if not isinstance(given[key], str):
                raise UsageError(f"{key} must be a string, got {given[key]!r}")
            out[key] = given[key]
    out["bootstrap"] = _whole(given["bootstrap"], "bootstrap", 2**32 - 1)
    out["seed"] = _whole(given["seed"], "seed")
    if given["threads"] is not None:
        out["threads"] = _whole(given["threads"], "threads", 2**32 - 1)
    for key in ("confidence", "min_length_gap"):
        if given[key] is not None:
            if isinstance(given[key], bool) or not isinstance(given[key], (int, float)):
                raise UsageError(f"{key} must be a number, got {given[key]!r}")
            out[key] = float(given[key])
    for key in ("skip_invalid", "soft", "gold_bootstrap", "strict_scale"):
        out[key] = bool(given[key])
    out["gold_covariate"] = bool(given["gold_covariate"])
    if given["max_line_bytes"] is not None:
        out["max_line_bytes"] = _whole(given["max_line_bytes"], "max_line_bytes")
    return out


def _is_dataframe(source: Any) -> bool:
    return type(source).__name__ == "DataFrame" and hasattr(source, "to_dict") and hasattr(source, "columns")


Frame = Tuple[List[List[str]], List[List[Any]], List[bool]]


def _frame_columns(df: "pandas.DataFrame") -> Frame:
    """A DataFrame's columns for the C++ side, which writes its rows as FORMAT v1 JSON Lines: nested columns (`a` holding dicts) as they are; flat columns
    `a_model`, `b_length`, `response_text`, `perturbation_kind` (the fields of _FLAT_FIELDS) or dotted ones (`a.model`,
    `a.features.headers`, as pandas.json_normalize writes them) nested; missing cells (None, NaN, NA)
    left out, except a pairwise record's verdict and a pointwise record's score, which are then null (an
    extraction failure). A float column whose values are all whole numbers is read as those numbers:
    pandas stores a column of integers with gaps (a_length where some records are pointwise) as floats."""
    import pandas

    paths: List[List[str]] = []
    cells: List[List[Any]] = []
    whole: List[bool] = []
    for k, c in enumerate(df.columns):
        name = str(c)
        if "." in name:
            paths.append(name.split("."))
        else:
            head, _, rest = name.partition("_")
            paths.append([head, rest] if rest in _FLAT_FIELDS.get(head, ()) else [name])
        column = df.iloc[:, k]
        whole.append(pandas.api.types.is_float_dtype(column.dtype) and bool((column.dropna() % 1 == 0).all()))
        cells.append(column.tolist())
    return paths, cells, whole


Sources = Tuple[List[str], Optional[List[Any]], Optional[Frame]]


def _source(source: Any) -> Sources:
    """(paths, records, frame) for the C++ side from run()'s source: files, records (mappings, checked and
    written as FORMAT v1 text in C++) or a DataFrame's columns."""
    if source is None:
        return [], None, None
    if isinstance(source, (str, os.PathLike)):
        return [os.fspath(source)], None, None
    if _is_dataframe(source):
        return [], None, _frame_columns(source)
    if isinstance(source, Mapping):
        raise UsageError("source: give a list of records, not one record (a dict)")
    try:
        items = list(source)
    except TypeError:
        raise UsageError("source: a path, a list of paths, a list of records (dicts) or a DataFrame") from None
    if items and all(isinstance(x, (str, os.PathLike)) for x in items):
        return [os.fspath(x) for x in items], None, None
    return [], items, None


def run(source: Source = None, *, modules: Union[str, Sequence[str], None] = None,
        gold_judges: Union[str, Sequence[str], None] = None,
        self_map: Union[Mapping[str, str], Sequence[Tuple[str, str]], None] = None,
        baseline: Optional[str] = None, by: Union[str, Sequence[str], None] = None,
        pair_rule: str = "each", bootstrap: int = 1000, seed: int = 0, skip_invalid: bool = False,
        threads: Optional[int] = None, confidence: float = 0.95,
        judges: Union[str, Sequence[str], None] = None, tasks: Union[str, Sequence[str], None] = None,
        compare: Optional[Tuple[str, str]] = None, from_: Optional[str] = None,
        length: str = "chars", min_length_gap: float = 30.0, soft: bool = False,
        gold_covariate: bool = True, gold_bootstrap: bool = False, strict_scale: bool = False,
        max_line_bytes: Optional[int] = None) -> Report:
    """Measures the judges' biases, as ``judgebias run``: the same options, the same numbers.

    source: a path, a list of paths, an iterable of FORMAT v1 records (dicts), a pandas DataFrame (nested
        ``a``/``b`` dicts, or flat columns ``a_model``, ``b_length``..., or dotted ``a.model``), or None for
        the embedded sample. Records are validated as the reader validates a file: a bad one raises
        FormatError naming its index and field.
    modules: the modules to run (default: all); names as a list or comma-separated.
    gold_judges: judges whose majority vote is the gold (replaces inline gold).
    self_map: {response model: judge model}, which responses count as a judge's own (``--self``).
    baseline: winrate's reference model (and arena-hard's baseline with ``from_="arena-hard"``).
    by: "task" and/or "run" breakdowns.  pair_rule: "each", "conservative" or "counter".
    bootstrap: resamples (0: closed-form intervals).  seed: the bootstrap's seed.
    skip_invalid: skip invalid records (counted in the report) instead of raising FormatError.
    threads: threads to use (None: all cores); the numbers do not depend on it.
    compare: two judges, for the paired difference of every metric (the report's ``compare``).
    from_: read the paths in another tool's format: fastchat, fastchat-single, arena-hard, alpaca-eval,
        judgebench.
    The rest are as the command line's options of the same names (docs/cli.md).

    Raises FormatError, UsageError, DataError (no records), FileError; KeyboardInterrupt on Ctrl-C.
    The GIL is released while the files are read and the judges measured.
    """
    options = _options(modules=modules, gold_judges=gold_judges, judges=judges, tasks=tasks, by=by,
                       self_map=self_map, baseline=baseline, pair_rule=pair_rule, length=length,
                       bootstrap=bootstrap, seed=seed, threads=threads, confidence=confidence,
                       min_length_gap=min_length_gap, skip_invalid=skip_invalid, soft=soft,
                       gold_covariate=gold_covariate, gold_bootstrap=gold_bootstrap,
                       strict_scale=strict_scale, max_line_bytes=max_line_bytes)
    pair = list(compare) if compare is not None else []
    if compare is not None and (len(pair) != 2 or not all(isinstance(j, str) and j for j in pair)):
        raise UsageError(f"compare takes two judges, got {compare!r}")
    if from_ is not None:
        if source is None or _is_dataframe(source):
            raise UsageError("from_ reads files: give their paths")
        paths, records, frame = _source(source)
        if records is not None or frame is not None:
            raise UsageError("from_ reads files: give their paths")
        return Report(_judgebias.run([], None, None, paths, from_, options, pair))
    paths, records, frame = _source(source)
    return Report(_judgebias.run(paths, records, frame, [], "", options, pair))


def read_report(path: PathLike) -> Report:
    """A JSON report saved by ``judgebias run`` or ``Report.write``, checked."""
    return Report(_judgebias.Report.read(os.fspath(path)))


def diff(old: Union[Report, PathLike], new: Union[Report, PathLike], *, breakdowns: bool = False) -> str:
    """The change between two reports (``judgebias diff``): per judge and metric, old and new with their
    intervals and whether they are apart. Reports or paths of JSON reports."""
    def native(r: Union[Report, PathLike]) -> _judgebias.Report:
        return r._native if isinstance(r, Report) else _judgebias.Report.read(os.fspath(r))
    return _judgebias.diff(native(old), native(new), breakdowns)


def validate(source: Union[PathLike, Sequence[PathLike], Iterable[Record]], *,
             max_line_bytes: int = 64 << 20, show: int = 100, strict_scale: bool = False) -> Dict[str, Any]:
    """Checks every line (``judgebias validate``) without stopping at the first bad one.

    Returns {"lines", "records", "invalid", "invalid_by_reason", "errors" (the first ``show`` as
    FormatError objects, not raised), "unknown_fields", "judges" (per judge: pairwise, pointwise,
    perturbed, out_of_scale)}.
    """
    if source is None:
        raise UsageError("validate: give a path, paths, records or a DataFrame")
    paths, records, frame = _source(source)
    return _judgebias.validate(paths, records, frame, _whole(max_line_bytes, "max_line_bytes"),
                               _whole(show, "show"), bool(strict_scale))


def _synth_args(logit_judges: Union[str, Sequence[str], None], length_scale: Optional[Mapping[str, float]],
                failure_rate: float) -> Tuple[List[str], List[Tuple[str, float]]]:
    if not 0 <= failure_rate <= 1:
        raise UsageError(f"failure_rate must lie in [0, 1], got {failure_rate!r}")
    judges = [logit_judges] if isinstance(logit_judges, str) else list(logit_judges or [])
    return judges, [(str(k), float(v)) for k, v in (length_scale or {}).items()]


def synth(items: int = 80, seed: int = 0, *, path: Optional[PathLike] = None, failure_rate: float = 0.005,
          text_bytes: int = 0, logit_judges: Union[str, Sequence[str], None] = None,
          length_scale: Optional[Mapping[str, float]] = None) -> Union[List[Dict[str, Any]], int]:
    """Judgments with planted biases (``judgebias synth``, docs/synth.md): the records as dicts, or with
    ``path`` written there (streamed, any size) and their count returned."""
    judges, scale = _synth_args(logit_judges, length_scale, failure_rate)
    if path is not None:
        n: int = _judgebias.synth(_whole(items, "items"), _whole(seed, "seed"), float(failure_rate),
                                  _whole(text_bytes, "text_bytes"), judges, scale, os.fspath(path))
        return n
    text: str = _judgebias.synth(_whole(items, "items"), _whole(seed, "seed"), float(failure_rate),
                                 _whole(text_bytes, "text_bytes"), judges, scale, "")
    return [json.loads(line) for line in text.splitlines()]


def synth_expected(items: int = 80, seed: int = 0, *, failure_rate: float = 0.005, text_bytes: int = 0,
                   logit_judges: Union[str, Sequence[str], None] = None,
                   length_scale: Optional[Mapping[str, float]] = None) -> Dict[str, Any]:
    """What the metrics of ``synth(items, seed, ...)`` should come out at (``synth --expected``)."""
    judges, scale = _synth_args(logit_judges, length_scale, failure_rate)
    result: Dict[str, Any] = json.loads(_judgebias.synth_expected(
        _whole(items, "items"), _whole(seed, "seed"), float(failure_rate), _whole(text_bytes, "text_bytes"),
        judges, scale))
    return result


def perturb(requests: Union[PathLike, Iterable[Record]], *, judge: str,
            kinds: Union[str, Sequence[str], None] = None, seed: int = 0,
            templates: Optional[PathLike] = None) -> List[Dict[str, Any]]:
    """The records a judge must fill in for the cue modules (``judgebias perturb``): from comparison
    requests (a path of JSON Lines, or dicts with item, question, a, b and optionally gold), the control
    and cue variants in both orders, without verdicts."""
    if isinstance(requests, (str, os.PathLike)):  # read by the library, as the binary reads it
        name, text = os.fspath(requests), None
    else:
        name, text = RECORDS, _judgebias.records_text(requests)
    out = _judgebias.perturb(name, text, judge, _names(kinds, "kinds") or [], _whole(seed, "seed"),
                             os.fspath(templates) if templates is not None else "")
    return [json.loads(line) for line in out.splitlines()]


def import_records(source: Union[PathLike, Sequence[PathLike]], *, from_: str,
                   baseline: Optional[str] = None) -> List[Dict[str, Any]]:
    """Another tool's judgments as FORMAT v1 records (``judgebias import``): from_ is fastchat,
    fastchat-single, arena-hard (with baseline), alpaca-eval or judgebench."""
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    records: List[Dict[str, Any]] = []
    for p in paths:
        text = _judgebias.import_file(os.fspath(p), from_, baseline or "")
        records.extend(json.loads(line) for line in text.splitlines())
    return records


def sample_records() -> List[Dict[str, Any]]:
    """The embedded sample (what ``run()`` reads with no source), as records."""
    return [json.loads(line) for line in _judgebias.embedded_sample().splitlines() if line.strip()]


def _server(endpoint: str, model: str, temperature: Optional[float], seed: Optional[int],
            max_tokens: Optional[int], concurrency: int, timeout: float, max_retries: int, api_key_env: str,
            cache_dir: Optional[PathLike], use_cache: bool) -> Dict[str, Any]:
    if not isinstance(endpoint, str) or not endpoint or not isinstance(model, str) or not model:
        raise UsageError("endpoint and model must be non-empty strings")
    if temperature is not None and not 0 <= temperature <= 2:
        raise UsageError(f"temperature must lie in [0, 2], got {temperature!r}")
    if not 1 <= _whole(concurrency, "concurrency") <= 1024:
        raise UsageError(f"concurrency must lie in [1, 1024], got {concurrency!r}")
    if not 0.1 <= timeout <= 86400:
        raise UsageError(f"timeout must lie in [0.1, 86400] seconds, got {timeout!r}")
    return {"endpoint": endpoint, "model": model, "temperature": temperature,
            "seed": None if seed is None else _whole(seed, "seed"),
            "max_tokens": None if max_tokens is None else _whole(max_tokens, "max_tokens", 2**32 - 1),
            "concurrency": concurrency, "timeout": float(timeout),
            "max_retries": _whole(max_retries, "max_retries", 2**32 - 1), "api_key_env": api_key_env,
            "cache_dir": None if cache_dir is None else os.fspath(cache_dir), "use_cache": bool(use_cache)}


def judge(requests: PathLike, output: PathLike, *, endpoint: str, model: str, judge: str = "",
          judge_model: str = "", template: str = "", both_orders: bool = True, logprobs: bool = False,
          top_logprobs: int = 5, runs: int = 1, keep_raw: bool = False, scale: Tuple[float, float] = (1, 10),
          temperature: Optional[float] = None, seed: Optional[int] = None, max_tokens: Optional[int] = None,
          concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
          api_key_env: str = "OPENAI_API_KEY", cache_dir: Optional[PathLike] = None,
          use_cache: bool = True) -> Dict[str, Any]:
    """Runs a judge on comparison or scoring requests against an OpenAI-compatible server and writes the
    judgment records to ``output`` (``judgebias judge``, docs/cli.md and docs/workflow.md): both orders,
    A/B token probabilities with ``logprobs=True``, ``runs`` repeats, a cache beside the output. Returns
    the run's summary (requests, records, calls, cache_hits, retries, extraction_failures, tokens,
    seconds). The GIL is released while it waits on the server; Ctrl-C is raised when it returns (the
    cache keeps every answer: a new call resumes)."""
    lo, hi = (float(x) for x in scale)
    if not lo < hi:
        raise UsageError(f"scale: MIN must be below MAX, got {scale!r}")
    options = _server(endpoint, model, temperature, seed, max_tokens, concurrency, timeout, max_retries,
                      api_key_env, cache_dir, use_cache)
    options.update({"judge": judge, "judge_model": judge_model, "template": template,
                    "both_orders": bool(both_orders), "logprobs": bool(logprobs),
                    "top_logprobs": _whole(top_logprobs, "top_logprobs", 20),
                    "runs": _whole(runs, "runs", 2**32 - 1), "keep_raw": bool(keep_raw), "scale_min": lo,
                    "scale_max": hi})
    result: Dict[str, Any] = _judgebias.judge(os.fspath(requests), os.fspath(output), options)
    return result


def respond(prompts: PathLike, output: PathLike, *, endpoint: str, model: str, system: str = "",
            temperature: Optional[float] = None, seed: Optional[int] = None, max_tokens: Optional[int] = None,
            concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
            api_key_env: str = "OPENAI_API_KEY", cache_dir: Optional[PathLike] = None,
            use_cache: bool = True) -> Dict[str, Any]:
    """Asks a model each prompt's question and writes one answer line per prompt (``judgebias respond``).
    Returns the run's summary, as judge() does."""
    options = _server(endpoint, model, temperature, seed, max_tokens, concurrency, timeout, max_retries,
                      api_key_env, cache_dir, use_cache)
    options["system"] = system
    result: Dict[str, Any] = _judgebias.respond(os.fspath(prompts), os.fspath(output), options)
    return result


def pairs(answers: Union[PathLike, Sequence[PathLike]], output: PathLike) -> Tuple[int, int]:
    """One comparison request per item and pair of models from answer lines (``judgebias pairs``):
    returns (answers read, requests written)."""
    paths = [answers] if isinstance(answers, (str, os.PathLike)) else list(answers)
    result: Tuple[int, int] = _judgebias.pairs([os.fspath(p) for p in paths], os.fspath(output))
    return result
