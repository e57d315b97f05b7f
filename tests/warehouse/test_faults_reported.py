"""Every fault the synthetic LA's generator injects that changes a value is in the quality
findings of its load, located (issue 13, item 5): the council learns what to fix at source.

Truth is ``truth/faults.csv`` (file, location, LA child ID, field, fault, original, written),
written by the generator as it writes each fault. The findings are read from the warehouse's
``load_finding`` table, the store the quality report is made from. The fault → rule mapping
and the location matching below are written here, from the docs (docs/ingest.md "What was
corrected"), not taken from the readers.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from dataclasses import dataclass

import duckdb
import pytest
from tests.conftest import BuiltLA

from cwsw.synth.faults import FAULT_TYPES

# The finding each fault that changes a value must make (docs/ingest.md).
RULE_OF_FAULT = {
    "upn_lowercase": "normalised_upn",  # information: read in upper case
    "upn_whitespace": "normalised_white_space",  # information: trimmed
    "id_float": "normalised_child_id",  # information: 123456.0 read as 123456
    "yesno_truefalse": "normalised_flag",  # information: true/false read as 1/0
    "upn_bad_check": "invalid_upn",  # value: nulled, kept in upn_raw
}
# Faults that no reader can see in one file, by design.
NOT_VISIBLE = {
    "upn_missing": "a UPN left out is allowed (UN codes, a blank): nothing says one was known",
    "upn_former": "a valid UPN, wrong only against the pupil's current one in another source",
    "name_typo": "a surname spelt otherwise is still a surname: only linkage can tell",
    "name_nickname": "a nickname is a valid forename: only linkage can tell",
    "dob_swapped": "day and month both 12 or less: a valid date, wrong only against another source",
    "bom": "a byte-order mark is part of the encoding (how Excel saves UTF-8), not of a value",
}
# Each fault a reader of each family of files must report: (family, fault), as the generator
# writes them (a new combination in truth fails test_every_injected_fault_is_accounted_for).
FAMILIES = {
    ("cin_census", "upn_lowercase"),
    ("cin_census", "upn_whitespace"),
    ("cin_census", "yesno_truefalse"),
    ("cin_census", "upn_bad_check"),
    ("ssda903", "upn_lowercase"),
    ("ssda903", "upn_whitespace"),
    ("ssda903", "id_float"),
    ("ssda903", "upn_bad_check"),
    ("person_extract", "upn_lowercase"),
    ("person_extract", "upn_whitespace"),
    ("person_extract", "id_float"),
    ("person_extract", "upn_bad_check"),
}
# Known gaps, each to be closed in its reader (strict: the mark must go once it is).
GAPS: dict[tuple[str, str], str] = {}
_CIN_LOCATION = re.compile(r"\(line (\d+)\), LAchildID (\S+)$")
_CSV_ROW = re.compile(r"^row (\d+)\b")


@dataclass(frozen=True)
class Fault:
    file: str  # relative to the LA's folder
    location: int  # XML line of the element, or CSV data row (the first data row is 1)
    child: str
    field: str
    fault: str
    written: str

    @property
    def family(self) -> str:
        return "person_extract" if self.file == "person_extract.csv" else self.file.split("/")[0]


@dataclass(frozen=True)
class Found:
    file: str
    location: str
    field: str
    value: str | None
    rule: str
    severity: str


def _faults(built: BuiltLA) -> list[Fault]:
    with (built.data_dir / "truth" / "faults.csv").open(encoding="utf-8", newline="") as f:
        return [
            Fault(
                r["file"],
                int(r["location"]),
                r["la_child_id"],
                r["field"],
                r["fault"],
                r["written"],
            )
            for r in csv.DictReader(f)
        ]


def _findings(built: BuiltLA) -> list[Found]:
    """Every stored finding of a current load, with the file it came from (by content)."""
    by_digest = {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.relative_to(built.data_dir).as_posix()
        for path in built.data_dir.rglob("*")
        if path.is_file() and "truth" not in path.parts
    }
    with duckdb.connect(str(built.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "SELECT l.sha256, f.location, f.field, f.value, f.rule, f.severity "
            "FROM load_finding f JOIN loads l USING (load_id) WHERE l.superseded_by IS NULL"
        ).fetchall()
    return [Found(by_digest[digest], *rest) for digest, *rest in rows]


def _matches(fault: Fault, finding: Found) -> bool:
    """Same file, field, value as written and rule; the location is the fault's own."""
    if (finding.file, finding.field.lower(), finding.value, finding.rule) != (
        fault.file,
        fault.field.lower(),
        fault.written,
        RULE_OF_FAULT[fault.fault],
    ):
        return False
    if fault.file.endswith(".xml"):  # the element's parent (e.g. ChildIdentifiers) and child
        at = _CIN_LOCATION.search(finding.location)
        return at is not None and at[2] == fault.child and int(at[1]) <= fault.location
    row = _CSV_ROW.match(finding.location)  # "row N": the header is row 1
    return row is not None and int(row[1]) == fault.location + 1


def _unreported(faults: list[Fault], findings: list[Found]) -> list[Fault]:
    """The faults with no finding, each finding used once (in XML, the nearest before)."""
    left = list(findings)
    missing = []
    for fault in sorted(faults, key=lambda f: (f.file, f.location)):
        candidates = [f for f in left if _matches(fault, f)]
        if not candidates:
            missing.append(fault)
            continue
        nearest = max(candidates, key=lambda f: _line_or_row(f.location))
        left.remove(nearest)
    return missing


def _line_or_row(location: str) -> int:
    at = _CIN_LOCATION.search(location) or _CSV_ROW.match(location)
    return int(at[1]) if at else 0


@pytest.fixture(scope="module")
def truth_and_findings(built_la: BuiltLA) -> tuple[list[Fault], list[Found]]:
    return _faults(built_la), _findings(built_la)


def test_every_injected_fault_is_accounted_for(
    truth_and_findings: tuple[list[Fault], list[Found]],
) -> None:
    faults, _ = truth_and_findings
    assert set(RULE_OF_FAULT) | set(NOT_VISIBLE) == set(FAULT_TYPES)
    assert not set(RULE_OF_FAULT) & set(NOT_VISIBLE)
    seen = {(f.family, f.fault) for f in faults if f.fault in RULE_OF_FAULT}
    assert seen <= FAMILIES, "a new kind of file carries a fault: add it to FAMILIES"
    # The default faults reach every combination, so no parametrisation below is vacuous.
    assert seen == FAMILIES


@pytest.mark.parametrize(
    ("family", "fault"),
    [
        pytest.param(*key, marks=pytest.mark.xfail(strict=True, reason=GAPS[key]))
        if key in GAPS
        else key
        for key in sorted(FAMILIES)
    ],
)
def test_fault_is_in_the_quality_findings(
    truth_and_findings: tuple[list[Fault], list[Found]], family: str, fault: str
) -> None:
    faults, findings = truth_and_findings
    injected = [f for f in faults if (f.family, f.fault) == (family, fault)]
    missing = _unreported(injected, findings)
    assert not missing, f"{len(missing)} of {len(injected)} not reported, e.g. {missing[:3]}"


def test_corrections_reported_are_the_injected_ones(
    truth_and_findings: tuple[list[Fault], list[Found]],
) -> None:
    """No correction is reported that the generator did not inject (it writes clean values
    otherwise): the report's counts are what the council has to fix, no more."""
    faults, findings = truth_and_findings
    corrected = Counter((f.file, f.rule) for f in findings if f.rule.startswith("normalised_"))
    injected = Counter(
        (f.file, RULE_OF_FAULT[f.fault])
        for f in faults
        if f.fault in RULE_OF_FAULT
        and RULE_OF_FAULT[f.fault].startswith("normalised_")
        and (f.family, f.fault) not in GAPS
    )
    assert corrected == injected
    assert {f.severity for f in findings if f.rule.startswith("normalised_")} == {"information"}


def test_matching_is_exact(truth_and_findings: tuple[list[Fault], list[Found]]) -> None:
    """The matching can fail: a finding one row off, of another rule or value, is no match."""
    faults, findings = truth_and_findings
    fault = next(f for f in faults if f.fault == "id_float" and f.family == "person_extract")
    (found,) = [f for f in findings if _matches(fault, f)]
    assert _unreported([fault], [found]) == []
    for other in (
        Found(found.file, f"row {fault.location}", found.field, found.value, found.rule, "x"),
        Found(found.file, found.location, found.field, fault.child, found.rule, "x"),
        Found(found.file, found.location, found.field, found.value, "normalised_upn", "x"),
        Found("ssda903/2025/header.csv", found.location, found.field, found.value, found.rule, "x"),
    ):
        assert _unreported([fault], [other]) == [fault]


# Findings the generator's layout gives by design, not faults: how each SSDA903 file's
# collection year was known (its folder).
EXPECTED_FINDINGS = {"collection_year_source"}


def test_values_the_generator_writes_clean_raise_no_finding(
    truth_and_findings: tuple[list[Fault], list[Found]],
) -> None:
    """Every finding on the synthetic LA is explained by an injected fault or is one the
    generator's layout gives by design: its codes are valid for each year's code list (SSDA903
    SEX M / F and supported accommodation K3 from 2024/25), so a code-list finding on a council's
    file is the council's, never noise the synthetic LA taught users to ignore."""
    faults, findings = truth_and_findings
    explained = {RULE_OF_FAULT[f.fault] for f in faults if f.fault in RULE_OF_FAULT}
    unexplained = Counter(f.rule for f in findings if f.rule not in explained | EXPECTED_FINDINGS)
    assert not unexplained, unexplained.most_common(5)
