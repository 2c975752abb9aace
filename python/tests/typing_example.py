"""A notebook's use of judgebias, checked by `mypy --strict` against the package's annotations and the
extension's stubs (tests/test_tools.py)."""
from typing import Any, Dict, List

import judgebias


def summary() -> List[Dict[str, Any]]:
    report: judgebias.Report = judgebias.run(modules=["self_preference"], bootstrap=100, seed=1)
    failures = report.check("self_preference.dbg_pairwise.ci_low > 5")
    rows = report.rows()
    html: str = report.to_html()
    table: str = report.table(color=False)
    data: Dict[str, Any] = report.to_dict()
    records = judgebias.synth(10, 2)
    assert isinstance(records, list)
    checked: Dict[str, Any] = judgebias.validate(records)
    try:
        judgebias.run([{"judge": "J"}])
    except judgebias.FormatError as e:
        where: int = e.line + e.column
        index = e.index
        assert where > 0 and index == 0
    print(html[:10], table[:10], data["schema_version"], checked["records"])
    return failures + rows
