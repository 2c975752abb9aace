"""Shared fixtures of the Python package's tests: the judgebias binary to compare with, the test data.

JUDGEBIAS_BINARY names the binary built from the same sources (scripts/test.sh sets it); without it the
tests that compare with the binary are skipped, except under CI=true, where they fail.
"""
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
REAL = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def binary() -> str:
    path = os.environ.get("JUDGEBIAS_BINARY")
    if not path or not os.access(path, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail("JUDGEBIAS_BINARY does not name the judgebias binary (scripts/test.sh sets it)")
        pytest.skip("JUDGEBIAS_BINARY is not set")
    return path


def binary_report(binary: str, *args: str) -> Dict[str, Any]:
    """The JSON report the binary writes for `judgebias run ARGS --format json` (standard output)."""
    out = subprocess.run([binary, "run", *args, "--format", "json"], check=True, capture_output=True,
                         text=True).stdout
    result: Dict[str, Any] = json.loads(out)
    return result


def read_records(path: Path) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def real() -> Path:
    if not (REAL / "llmbar.jsonl").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real data are not at {REAL}")
        pytest.skip(f"the real data are not at {REAL}")
    return REAL
