"""Every real public fixture file reads, with counts computed independently of the readers."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import cast

import pytest
from lxml import etree

from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.detect import read_file
from cwsw.formats.school_census import read_school_census
from cwsw.formats.ssda903 import TABLES, read_ssda903_table, read_ssda903_xml

CIN_FILES = [
    "BAR_cin_2022.xml",
    "CIN2rows.xml",
    "CIN_Census_2021.xml",
    "CIN_Census_2024.xml",
    "CIN_Census_2026.xml",
    "fake_CIN_data.xml",
]


def _count(path: Path, xpath: str) -> int:
    """An independent count over the whole parsed document (the reader streams instead)."""
    # An XPath count() evaluates to a float; the stub types xpath() as any XPath result.
    return int(cast(float, etree.parse(str(path)).xpath(f"count({xpath})")))


@pytest.mark.parametrize("name", CIN_FILES)
def test_every_cin_file_reads_every_element(fixtures: Path, name: str) -> None:
    path = fixtures / "cin-census" / name
    result = read_cin_census(path)
    expected = {
        "cin_child": "//Child",
        "cin_episode": "//CINdetails",
        "cin_assessment": "//Assessments",
        "cin_assessment_factor": "//AssessmentFactors[normalize-space()]",
        "cin_plan": "//CINPlanDates",
        "cin_s47": "//Section47",
        "cp_plan": "//ChildProtectionPlans",
        "cp_review": "//CPPreviewDate[normalize-space()]",
        "cin_disability": "//Disability[normalize-space()]",
        "cin_pre_proceedings": "//PreProceedingsandFGDM",
    }
    assert result.counts == {table: _count(path, xpath) for table, xpath in expected.items()}
    assert result.period is not None


def test_fake_cin_data_counts_from_the_fixture_readme(fixtures: Path) -> None:
    counts = read_cin_census(fixtures / "cin-census/fake_CIN_data.xml").counts
    assert (counts["cin_child"], counts["cin_episode"]) == (332, 402)


def test_2026_pre_proceedings_block(fixtures: Path) -> None:
    result = read_cin_census(fixtures / "cin-census/CIN_Census_2026.xml")
    (block,) = result.tables["cin_pre_proceedings"]
    assert block == {
        "collection_year": 2023,
        "la_child_id": "DFEX0000001",
        "episode_seq": 1,
        "start_date": date(2026, 9, 9),
        "letter_before_proceedings_date": date(2026, 9, 20),
        "fgdm_offered": True,
        "fgdm_facilitated": True,
        "initial_meeting_date": date(2026, 9, 28),
        "review_meetings": 3,
        "step_decision_date": date(2026, 12, 1),
        "outcome": "A",
        "court_application_date": date(2026, 12, 18),
        "letter_initial_cp_date": date(2027, 2, 5),
    }
    factors = [row["factor"] for row in result.tables["cin_assessment_factor"]]
    assert factors == ["1C", "RB", "6B"]
    # <Disability>NONE</Disability> is a code, not a missing value.
    assert [r["disability"] for r in result.tables["cin_disability"]] == ["HAND", "HEAR", "NONE"]


def test_rc9_before_2023_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cin_census_2022.xml"
    path.write_text(
        "<Message><Header><CollectionDetails><Year>2022</Year></CollectionDetails></Header>"
        "<Children><Child><ChildIdentifiers><LAchildID>1</LAchildID></ChildIdentifiers>"
        "<CINdetails><ReasonForClosure>RC9</ReasonForClosure></CINdetails></Child></Children>"
        "</Message>",
        encoding="utf-8",
    )
    result = read_cin_census(path)
    assert result.tables["cin_episode"][0]["closure_reason"] == "RC9"  # kept, and reported
    assert [(f.field, f.value, f.rule) for f in result.findings] == [
        ("ReasonForClosure", "RC9", "code_not_valid_in_year")
    ]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("stem", sorted(TABLES))
def test_every_ssda903_csv_table(fixtures: Path, stem: str) -> None:
    path = fixtures / "ssda903" / f"{stem}.csv"
    result = read_ssda903_table(path)
    spec = TABLES[stem]
    (rows,) = result.tables.values()
    source = _csv_rows(path)
    assert len(rows) == len(source)
    assert result.period == "2018"  # inferred from episodes.csv: latest DECOM 31/03/2018
    # Every text column equals the file's value, trimmed; blanks are None.
    for source_name, name, kind in spec.columns:
        if kind == "text" and source_name in source[0]:
            assert [r[name] for r in rows] == [(s[source_name].strip() or None) for s in source]


def test_ssda903_table_values(fixtures: Path) -> None:
    review = read_ssda903_table(fixtures / "ssda903/reviews.csv").tables["cla_review"][0]
    first = _csv_rows(fixtures / "ssda903/reviews.csv")[0]
    day, month, year = map(int, first["REVIEW"].split("/"))
    assert review["la_child_id"] == first["CHILD"]
    assert review["review_date"] == date(year, month, day)
    sw = read_ssda903_table(fixtures / "ssda903/sw_episodes.csv").tables["cla_sw_episode"]
    assert len(sw) == 1 and sw[0]["la_child_id"] is not None  # the file starts with a BOM
    oc2 = read_ssda903_table(fixtures / "ssda903/oc2.csv")
    flags = {row["convicted"] for row in oc2.tables["cla_outcome_oc2"]}
    assert flags <= {True, False, None} and True in flags


def test_ssda903_xml_every_table(fixtures: Path) -> None:
    path = fixtures / "ssda903/fake_903.xml"
    result = read_ssda903_xml(path)
    assert result.period == "2018"
    assert result.counts == {
        "cla_child": _count(path, "//CHILD"),
        "cla_episode": _count(path, "//EPISODE"),
        "cla_review": _count(path, "//AREVIEW"),
        "cla_uasc": _count(path, "//HEADER[DUC]"),
        "cla_outcome_oc2": _count(path, "//OC2"),
        "cla_outcome_oc3": _count(path, "//HEADER[IN_TOUCH or ACTIV or ACCOM]"),
        "cla_adoption": _count(path, "//HEADER[DATE_INT or DATE_MATCH]"),
        "cla_missing": _count(path, "//AMISSING"),
        "cla_placed_for_adoption": _count(path, "//AD_PLACED"),
        "cla_previous_permanence": _count(path, "//PERMANENCE[normalize-space()]"),
        "cla_sw_episode": 0,
    }
    assert (result.counts["cla_child"], result.counts["cla_episode"]) == (253, 459)
    child = result.tables["cla_child"][0]
    assert (child["la_child_id"], child["upn_raw"], child["sex"]) == (
        "907440",
        "O013219285333",
        "F",
    )
    assert child["birth_date"] == date(2010, 7, 28)
    first, second = result.tables["cla_episode"][:2]
    assert (first["start_date"], first["placement"], first["end_date"]) == (
        date(2017, 1, 6),
        "R5",  # <PL> in the XML is PLACE in the CSV
        date(2017, 10, 6),
    )
    assert second["reason_end"] == "E11"
    reviews = [r for r in result.tables["cla_review"] if r["la_child_id"] == "907440"]
    assert [(r["review_date"], r["review_code"]) for r in reviews] == [
        (date(2015, 9, 27), "PN0"),
        (date(2016, 7, 14), "PN1"),
    ]
    assert result.tables["cla_outcome_oc2"][0]["sdq_score"] == 21


def test_school_census_every_sample_file(fixtures: Path) -> None:
    for path in sorted((fixtures / "school-census/samples").glob("*.csv")):
        result = read_file(path)
        data_rows = len(_csv_rows(path))
        if result.messages:  # a table cwsw does not use (addresses)
            assert result.counts == {} and "addresses" in path.name
            continue
        assert sum(result.counts.values()) == data_rows, path.name


def test_sen_needs(fixtures: Path) -> None:
    result = read_school_census(fixtures / "school-census/samples/2025_spring_senneeds.csv")
    rows = result.tables["pupil_sen_need"]
    assert len(rows) == 16954
    assert rows[0] == {
        "census_term": "2025_spring",
        "laestab": "SCH2",
        "enrolment_id": "003aa1bb-f6b",
        "sen_type_rank": 2,  # 2.0
        "sen_type": "73e987da",
    }
