"""The quality report shows what was corrected apart from the problems (issue 13, item 5):
by rule, with counts and located examples, never counted as a problem, never with a value."""

from __future__ import annotations

import re
from pathlib import Path

from cwsw.formats.errors import Finding, FindingSummary
from cwsw.warehouse.load import LoadResult
from cwsw.warehouse.quality import file_summary, render_html

UPN_LOWER = "u201123420001"  # a value: it must not leave the warehouse


def _result(name: str, findings: list[Finding]) -> LoadResult:
    return LoadResult(
        file=Path(name),
        format="person_extract",
        period=None,
        sha256="0" * 64,
        status="loaded",
        rows={"person": 10},
        findings=FindingSummary.of(findings),
    )


def _f(file: str, row: int, field: str, value: str | None, rule: str, level: str) -> Finding:
    return Finding(file, f"row {row}", field, value, rule, level)  # type: ignore[arg-type]


def _results() -> list[LoadResult]:
    a, b = "la/a.csv", "la/b.csv"
    first = [
        _f(a, 2, "upn", UPN_LOWER, "normalised_upn", "information"),
        _f(a, 3, "upn", "A0", "invalid_upn", "value"),
        *[_f(a, n, "upn", UPN_LOWER, "normalised_upn", "information") for n in range(4, 11)],
        _f(a, 5, "la_child_id", "12.0", "normalised_child_id", "information"),
        _f(a, 0, "folder", "2025", "collection_year_source", "information"),
        _f(a, 6, "la_child_id", None, "missing_child_id", "record"),
    ]
    second = [_f(b, 9, "UPN", UPN_LOWER, "normalised_upn", "information")]
    return [_result(a, first), _result(b, second)]


def test_summary_counts_problems_and_information_apart() -> None:
    summary = file_summary(_results()[0])
    assert (summary["problems"], summary["information"]) == (2, 10)
    assert summary["findings_by_level"] == {"record": 1, "value": 1, "information": 10}
    assert summary["findings_by_rule"]["normalised_upn"] == 8
    # Problems first (the worse first), then information, the most frequent first.
    assert [(r["rule"], r["severity"], r["count"]) for r in summary["findings"]] == [
        ("missing_child_id", "record", 1),
        ("invalid_upn", "value", 1),
        ("normalised_upn", "information", 8),
        ("normalised_child_id", "information", 1),
        ("collection_year_source", "information", 1),
    ]
    upn = summary["findings"][2]
    assert upn["examples"] == [{"location": f"row {n}", "field": "upn"} for n in (2, 4, 5, 6, 7)]


def test_html_lists_corrections_by_rule_across_files_and_no_value() -> None:
    page = render_html(_results())
    assert UPN_LOWER not in page and "12.0" not in page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    overview = text[
        text.index("Corrected to read: fix at source") : text.index("la/a.csv Problems")
    ]
    # normalised_upn: 8 in a.csv and 1 in b.csv, in 2 files; the year's source is no correction
    assert "normalised_upn a UPN written in lower case 9 2" in overview
    assert "normalised_child_id" in overview and "collection_year_source" not in overview
    # The file table counts problems and information apart.
    assert "la/a.csv person_extract loaded 10 10 0 2 10" in text
    assert "la/b.csv person_extract loaded 10 10 0 0 1" in text
    # Each file's findings: problems, then what was corrected or how the file was read.
    section = text[text.index("la/a.csv Problems") :]
    assert section.index("missing_child_id") < section.index("For information")
    assert section.index("For information") < section.index("normalised_upn information 8")
    assert "collection_year_source information 1 row 0 folder" in section
