"""What the parse helpers correct to read a value is reported, as written (issue 13, item 5).

Each helper: a clean value makes no finding, a value read corrected makes an information
finding naming what was corrected (``normalised_*``), a value that cannot be read makes a
value finding as before. The expected rules are those docs/ingest.md lists.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cwsw.domain.upn import check_letter
from cwsw.formats.common import Collector, CsvSource
from cwsw.formats.errors import Finding, findings_from_table
from cwsw.formats.person import read_person_extract
from cwsw.formats.school_census import read_school_census

BODY = "201123420001"
UPN = check_letter(BODY) + BODY
FILE = Path("la/file.csv")


def _found(values: Collector) -> list[tuple[str, str, str | None, str, str]]:
    return [(f.location, f.field, f.value, f.rule, f.severity) for f in values.findings]


def _one(
    call: str, raw: str, *args: Any, **kw: Any
) -> tuple[Any, list[tuple[str, str | None, str]]]:
    """``Collector.<call>(raw, *args, "row 2", "f")``: the value read and (field, value, rule) of
    each finding, the severity checked against the rule."""
    values = Collector(FILE)
    value = getattr(values, call)(raw, *args, "row 2", "f", **kw)
    for f in values.findings:
        assert f.file == str(FILE) and f.location == "row 2"
        assert f.severity == ("information" if f.rule.startswith("normalised_") else "value")
    return value, [(f.field, f.value, f.rule) for f in values.findings]


@pytest.mark.parametrize(
    ("raw", "read", "rule"),
    [
        (UPN, UPN, None),
        (UPN.lower(), UPN, "normalised_upn"),
        (f" {UPN} ", UPN, "normalised_white_space"),
        (f" {UPN.lower()}", UPN, "normalised_upn"),  # the case is what matters
        ("A" + BODY, None, "invalid_upn"),  # a wrong check letter: nulled, as before
    ],
)
def test_upn(raw: str, read: str | None, rule: str | None) -> None:
    assert _one("upn", raw) == (read, [] if rule is None else [("f", raw, rule)])


@pytest.mark.parametrize(
    ("raw", "read", "rule"),
    [
        ("123456", "123456", None),
        ("123456.0", "123456", "normalised_child_id"),
        ("ab12", "AB12", "normalised_child_id"),
        (" 123456 ", "123456", "normalised_white_space"),
    ],
)
def test_child_id(raw: str, read: str, rule: str | None) -> None:
    assert _one("child_id", raw) == (read, [] if rule is None else [("f", raw, rule)])


def test_school_id() -> None:
    assert _one("identifier", "2012001.0") == ("2012001", [("f", "2012001.0", "normalised_id")])
    assert _one("identifier", "2012001") == ("2012001", [])


@pytest.mark.parametrize(
    ("raw", "read", "rule"),
    [
        ("1", True, None),
        ("0", False, None),
        ("true", True, "normalised_flag"),
        ("False", False, "normalised_flag"),
        ("1.0", True, "normalised_flag"),
        (" 1", True, "normalised_white_space"),
        ("yes", None, "invalid_flag"),
    ],
)
def test_flag(raw: str, read: bool | None, rule: str | None) -> None:
    assert _one("flag", raw) == (read, [] if rule is None else [("f", raw, rule)])


@pytest.mark.parametrize(
    ("raw", "kw", "read", "rule"),
    [
        ("136", {}, 136, None),
        ("136.0", {}, 136, "normalised_number"),
        ("136.0", {"as_float": True}, 136, None),  # the school census writes counts so
        (" 5", {}, 5, "normalised_white_space"),
        ("1.5", {}, None, "invalid_integer"),
    ],
)
def test_integer(raw: str, kw: dict[str, bool], read: int | None, rule: str | None) -> None:
    assert _one("integer", raw, **kw) == (read, [] if rule is None else [("f", raw, rule)])


@pytest.mark.parametrize(
    ("raw", "read", "rule"),
    [
        ("K3", "K3", None),
        ("k3", "K3", "normalised_code"),
        (" K3", "K3", "normalised_white_space"),
        ("ZZ", None, "invalid_code"),
    ],
)
def test_code(raw: str, read: str | None, rule: str | None) -> None:
    found = _one("code", raw, frozenset({"K3", "U1"}))
    assert found == (read, [] if rule is None else [("f", raw, rule)])


@pytest.mark.parametrize(
    ("raw", "read", "rule"),
    [
        ("Primary", "Primary", None),  # the value a key maps to, as written
        ("PRIMARY", "Primary", None),  # the key itself
        ("primary", "Primary", "normalised_code"),
        ("1", "M", None),  # a code of the standard that maps to another: no fault
        ("Nursery", None, "invalid_code"),
    ],
)
def test_mapped(raw: str, read: str | None, rule: str | None) -> None:
    found = _one("mapped", raw, {"PRIMARY": "Primary", "1": "M"})
    assert found == (read, [] if rule is None else [("f", raw, rule)])


def test_date_padding_is_reported_at_every_row_though_parsed_once() -> None:
    values = Collector(FILE)
    for row in (2, 3):
        assert values.date(" 2023-05-01", f"row {row}", "f") == date(2023, 5, 1)
        assert values.date("2023-05-01", f"row {row}", "g") == date(2023, 5, 1)
    assert _found(values) == [
        ("row 2", "f", " 2023-05-01", "normalised_white_space", "information"),
        ("row 3", "f", " 2023-05-01", "normalised_white_space", "information"),
    ]
    assert len(values._dates) == 2  # each distinct text parsed once


def test_text() -> None:
    assert _one("text", " Amy ") == ("Amy", [("f", " Amy ", "normalised_white_space")])
    assert _one("text", "Amy") == ("Amy", [])


def test_the_same_finding_twice_in_a_row_is_recorded_once() -> None:
    """A reader that reports a correction the Collector reported too makes it once."""
    for as_tables in (False, True):
        values = Collector(FILE, as_tables=as_tables)
        values.upn(UPN.lower(), "row 2", "UPN")
        values.add("row 2", "UPN", UPN.lower(), "normalised_upn", "information")
        values.add("row 3", "UPN", UPN.lower(), "normalised_upn", "information")
        found = (
            findings_from_table(values.finding_table(), str(FILE)) if as_tables else values.findings
        )
        assert [(f.location, f.rule) for f in found] == [
            ("row 2", "normalised_upn"),
            ("row 3", "normalised_upn"),
        ]


def _column(as_tables: bool) -> tuple[Any, list[Finding], list[str]]:
    raws = ["true", "1", None, "x", "true", "0", "1.0", "1"]
    converted: list[str] = []

    def convert(raw: str) -> bool | None:
        converted.append(raw)
        return {"1": True, "0": False, "true": True, "1.0": True}.get(raw)

    def normalised(raw: str, value: object) -> str | None:
        return None if raw in ("0", "1") else "normalised_flag"

    values = Collector(FILE, as_tables=as_tables)
    locations = [f"row {n}" for n in range(2, 2 + len(raws))]
    out = values.column(raws, locations, "F", convert, "invalid_flag", normalised)
    found = findings_from_table(values.finding_table(), str(FILE)) if as_tables else values.findings
    return out, found, converted


@pytest.mark.parametrize("as_tables", [False, True])
def test_column_decides_once_per_distinct_value_and_locates_each_row(as_tables: bool) -> None:
    out, found, converted = _column(as_tables)
    assert out.to_pylist() == [True, True, None, None, True, False, True, True]
    assert sorted(converted) == ["0", "1", "1.0", "true", "x"]  # each distinct value once
    assert [(f.location, f.value, f.rule, f.severity) for f in found] == [
        ("row 5", "x", "invalid_flag", "value"),
        ("row 2", "true", "normalised_flag", "information"),
        ("row 6", "true", "normalised_flag", "information"),
        ("row 8", "1.0", "normalised_flag", "information"),
    ]


def test_column_without_normalised_reports_only_what_it_nulls() -> None:
    values = Collector(FILE)
    values.column(["true", "1"], ["row 2", "row 3"], "F", lambda raw: raw == "1", "invalid_flag")
    assert values.findings == []


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_source_reports_trimmed_values_to_its_collector(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "Child, UPN ,Name\n 7 ,x,Amy\n8,,\n9,  ,Ben \n")
    values = Collector(path)
    rows = [row.values for row in CsvSource(path, collector=values).rows()]
    assert rows == [
        {"child": "7", "upn": "x", "name": "Amy"},
        {"child": "8", "upn": None, "name": None},
        {"child": "9", "upn": None, "name": "Ben"},
    ]
    # Named as the header writes them; a blank of spaces is blank, not a value.
    assert _found(values) == [
        ("row 2", "Child", " 7 ", "normalised_white_space", "information"),
        ("row 4", "Name", "Ben ", "normalised_white_space", "information"),
    ]
    assert [row.values for row in CsvSource(path).rows()] == rows  # no collector: as before


def test_person_extract_reports_what_it_corrected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "person_extract.csv",
        "la_child_id,forename,surname,date_of_birth,sex,upn,postcode\n"
        f"123.0, Amy ,Smith,2012-09-01,f,{UPN.lower()},ab1  2cd\n"
        f"456,Ben,Jones,2013-02-03,M,{UPN},AB1 2CD\n",
    )
    result = read_person_extract(path)
    first, second = result.tables["person"]
    assert (first["la_child_id"], first["forename"], first["sex"], first["upn"]) == (
        "123",
        "Amy",
        "F",
        UPN,
    )
    assert (first["upn_raw"], first["postcode"]) == (UPN.lower(), "AB1 2CD")
    assert {(f.location, f.field, f.value, f.rule) for f in result.findings} == {
        ("row 2", "forename", " Amy ", "normalised_white_space"),
        ("row 2", "la_child_id", "123.0", "normalised_child_id"),
        ("row 2", "postcode", "ab1  2cd", "normalised_postcode"),
        ("row 2", "sex", "f", "normalised_code"),
        ("row 2", "upn", UPN.lower(), "normalised_upn"),
    }
    assert {f.severity for f in result.findings} == {"information"}
    assert second["la_child_id"] == "456"  # the clean row: no finding


def test_school_census_reports_each_row_though_values_are_parsed_once(tmp_path: Path) -> None:
    """The census's caches parse a distinct value once; one read corrected is still reported
    at every row holding it (its own ``142.0`` counts are no fault)."""
    path = _write(
        tmp_path,
        "2025_spring_pupilonroll.csv",
        "pupilonrolltableid,NativeId,upn,dob,sex,ethnicity,termlysessionspossible\n"
        f"A1,8881234,{UPN.lower()},2015-Sep-01 00:00:00,m,WBRI,142.0\n"
        f"A2,8881234, {UPN},2015-Sep-01 00:00:00,m,WBRI ,142.0\n"
        f"A3,8881234,{UPN},2015-Sep-01 00:00:00,M,WBRI,142.0\n"
        f" A4,8881234,{UPN},2015-Sep-01 00:00:00,M,WBRI ,142.0\n",
    )
    result = read_school_census(path)
    rows = result.tables["pupil_enrolment"]
    assert [(r["enrolment_id"], r["upn"], r["sex"], r["ethnicity"]) for r in rows] == [
        ("A1", UPN, "M", "WBRI"),
        ("A2", UPN, "M", "WBRI"),
        ("A3", UPN, "M", "WBRI"),
        ("A4", UPN, "M", "WBRI"),
    ]
    assert [r["sessions_possible"] for r in rows] == [142] * 4
    assert [(f.location, f.field, f.value, f.rule) for f in result.findings] == [
        ("row 2", "upn", UPN.lower(), "normalised_upn"),
        ("row 2", "sex", "m", "normalised_code"),
        ("row 3", "upn", f" {UPN}", "normalised_white_space"),
        ("row 3", "sex", "m", "normalised_code"),
        ("row 3", "ethnicity", "WBRI ", "normalised_white_space"),
        ("row 5", "pupilonrolltableid", " A4", "normalised_white_space"),
        ("row 5", "ethnicity", "WBRI ", "normalised_white_space"),
    ]
    assert {f.severity for f in result.findings} == {"information"}
