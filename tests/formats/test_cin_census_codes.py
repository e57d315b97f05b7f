"""Every coded field of the CIN census is checked against its code list for the file's
collection year, the lists being DfE's own (each year's XSD in ../shared/fixtures).

The lists are kept as data (``cin_census/codes.toml``, written by ``tools/cin_census_codes.py``)
and these tests hold them to the schemas: the file must be what the tool writes from them, and
each year's list must equal the enumeration read here straight from that year's XSD. Each
coded field is then read with a valid and an invalid value in two collection years, and a
failure must be a value-level finding naming the child (LAchildID), the element, the line and
the value, with the value kept.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import cast

import pytest
from lxml import etree

from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.cin_census.codes import (
    codes_in_year,
    elements_not_in_year,
    schema_facts,
)
from cwsw.formats.cin_census.spec import ITEMS, SPECS
from cwsw.formats.common import ReadResult

ROOT = Path(__file__).resolve().parents[2]
XS = "{http://www.w3.org/2001/XMLSchema}"
YEARS = range(2017, 2027)


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cin_census_codes", ROOT / "tools" / "cin_census_codes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _xsd(fixtures: Path, year: int) -> etree._ElementTree:
    return etree.parse(str(fixtures / "cin-census" / "xsd" / f"CIN_schema_{year}.xsd"))


def schema_codes(fixtures: Path, year: int, element: str) -> list[str]:
    """``element``'s enumeration in ``year``'s XSD, read here by XPath (not by the tool)."""
    tree = _xsd(fixtures, year)
    ns = {"xs": XS[1:-1]}
    types = cast(list[str], tree.xpath(f"//xs:element[@name='{element}']/@type", namespaces=ns))
    if types:
        path = f"//xs:simpleType[@name='{types[0]}']/xs:restriction/xs:enumeration/@value"
    else:  # an inline type
        path = f"//xs:element[@name='{element}']/xs:simpleType/xs:restriction/xs:enumeration/@value"
    return [str(value) for value in cast(list[str], tree.xpath(path, namespaces=ns))]


def schema_elements(fixtures: Path, year: int) -> set[str]:
    return {str(e.get("name")) for e in _xsd(fixtures, year).iter(f"{XS}element")}


def test_the_checked_in_lists_are_what_the_schemas_say(fixtures: Path) -> None:
    """``codes.toml`` cannot drift from the XSDs: rerun the tool when a schema changes."""
    tool = _tool()
    written = (ROOT / "src/cwsw/formats/cin_census/codes.toml").read_text(encoding="utf-8")
    assert written == tool.render(tool.read_schemas(fixtures / "cin-census" / "xsd"))


@pytest.mark.parametrize("year", YEARS)
def test_each_years_lists_equal_that_years_xsd(fixtures: Path, year: int) -> None:
    facts = schema_facts()
    assert (facts.first_year, facts.last_year) == (min(YEARS), max(YEARS))
    for element in facts.codes:
        assert codes_in_year(element, year) == set(schema_codes(fixtures, year, element)), element
    every = set().union(*(schema_elements(fixtures, y) for y in YEARS))
    assert elements_not_in_year(year) == every - schema_elements(fixtures, year)


def test_years_beyond_the_schemas_take_the_nearest_one(fixtures: Path) -> None:
    assert codes_in_year("ReasonForClosure", 2030) == set(
        schema_codes(fixtures, 2026, "ReasonForClosure")
    )
    assert codes_in_year("ReasonForClosure", 2010) == set(
        schema_codes(fixtures, 2017, "ReasonForClosure")
    )
    assert "GenderCurrent" in elements_not_in_year(2030)


# Where each coded field sits: its canonical (table, column), and the line the finding points
# at (the opening tag of its group, or of the element itself for a disability).
FIELDS = {
    "UPNunknown": ("cin_child", "upn_unknown", "<ChildIdentifiers>"),
    "Ethnicity": ("cin_child", "ethnicity", "<ChildIdentifiers>"),
    "Disability": ("cin_disability", "disability", "<Disability>"),
    "ReferralSource": ("cin_episode", "referral_source", "<CINdetails>"),
    "PrimaryNeedCode": ("cin_episode", "primary_need", "<CINdetails>"),
    "ReasonForClosure": ("cin_episode", "closure_reason", "<CINdetails>"),
    "AssessmentFactors": ("cin_assessment_factor", "factor", "<Assessments>"),
    "InitialCategoryOfAbuse": ("cp_plan", "initial_category", "<ChildProtectionPlans>"),
    "LatestCategoryOfAbuse": ("cp_plan", "latest_category", "<ChildProtectionPlans>"),
    "Sex": ("cin_child", "sex", "<ChildIdentifiers>"),  # GenderCurrent until 2024
}
FLAGS = {
    "ReferralNFA": ("cin_episode", "referral_nfa", "<CINdetails>"),
    "ICPCnotRequired": ("cin_s47", "icpc_not_required", "<Section47>"),
}
WHERE = {
    "<ChildIdentifiers>": "Child[{n}]/ChildIdentifiers",
    "<Disability>": "Child[{n}]/ChildCharacteristics/Disabilities",
    "<CINdetails>": "Child[{n}]/CINdetails[1]",
    "<Assessments>": "Child[{n}]/CINdetails[1]/Assessments[1]",
    "<Section47>": "Child[{n}]/CINdetails[1]/Section47[1]",
    "<ChildProtectionPlans>": "Child[{n}]/CINdetails[1]/ChildProtectionPlans[1]",
}
# Values valid in every year's schema, for the fields a test does not vary.
EVERY_YEAR = {
    "UPNunknown": "UN1",
    "Ethnicity": "WBRI",
    "Disability": "NONE",
    "ReferralSource": "1A",
    "PrimaryNeedCode": "N1",
    "ReasonForClosure": "RC1",
    "AssessmentFactors": "1A",
    "InitialCategoryOfAbuse": "NEG",
    "LatestCategoryOfAbuse": "NEG",
    "Sex": None,  # the year's own (1 as GenderCurrent, M as Sex)
    "ReferralNFA": "0",
    "ICPCnotRequired": "1",
}
TWO_YEARS = (2022, 2025)  # either side of RC9 and 5D (2023) and of Sex for GenderCurrent


def _sex_element(year: int) -> str:
    return "Sex" if year >= 2025 else "GenderCurrent"


def child(n: int, year: int, values: dict[str, str]) -> list[str]:
    """A module-complete child, one element per line."""
    v = EVERY_YEAR | values
    sex = _sex_element(year)
    v["Sex"] = v["Sex"] or ("M" if sex == "Sex" else "1")
    return [
        "<Child>",
        "<ChildIdentifiers>",
        f"<LAchildID>C{n}</LAchildID>",
        f"<UPNunknown>{v['UPNunknown']}</UPNunknown>",
        "<PersonBirthDate>2015-03-27</PersonBirthDate>",
        f"<{sex}>{v['Sex']}</{sex}>",
        "</ChildIdentifiers>",
        "<ChildCharacteristics>",
        f"<Ethnicity>{v['Ethnicity']}</Ethnicity>",
        "<Disabilities>",
        f"<Disability>{v['Disability']}</Disability>",
        "</Disabilities>",
        "</ChildCharacteristics>",
        "<CINdetails>",
        f"<CINreferralDate>{year - 1}-05-01</CINreferralDate>",
        f"<ReferralSource>{v['ReferralSource']}</ReferralSource>",
        f"<PrimaryNeedCode>{v['PrimaryNeedCode']}</PrimaryNeedCode>",
        f"<CINclosureDate>{year - 1}-12-01</CINclosureDate>",
        f"<ReasonForClosure>{v['ReasonForClosure']}</ReasonForClosure>",
        "<Assessments>",
        f"<AssessmentActualStartDate>{year - 1}-05-02</AssessmentActualStartDate>",
        "<FactorsIdentifiedAtAssessment>",
        f"<AssessmentFactors>{v['AssessmentFactors']}</AssessmentFactors>",
        "</FactorsIdentifiedAtAssessment>",
        "</Assessments>",
        "<Section47>",
        f"<S47ActualStartDate>{year - 1}-05-03</S47ActualStartDate>",
        f"<ICPCnotRequired>{v['ICPCnotRequired']}</ICPCnotRequired>",
        "</Section47>",
        f"<ReferralNFA>{v['ReferralNFA']}</ReferralNFA>",
        "<ChildProtectionPlans>",
        f"<CPPstartDate>{year - 1}-06-01</CPPstartDate>",
        f"<InitialCategoryOfAbuse>{v['InitialCategoryOfAbuse']}</InitialCategoryOfAbuse>",
        f"<LatestCategoryOfAbuse>{v['LatestCategoryOfAbuse']}</LatestCategoryOfAbuse>",
        "<NumberOfPreviousCPP>0</NumberOfPreviousCPP>",
        "</ChildProtectionPlans>",
        "</CINdetails>",
        "</Child>",
    ]


def census(tmp_path: Path, year: int, children: list[list[str]]) -> tuple[Path, list[str]]:
    """A CIN census of ``year`` holding ``children``, and its lines."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<Message>",
        "<Header>",
        "<CollectionDetails>",
        "<Collection>CIN</Collection>",
        f"<Year>{year}</Year>",
        f"<ReferenceDate>{year}-03-31</ReferenceDate>",
        "</CollectionDetails>",
        "</Header>",
        "<Children>",
        *(line for each in children for line in each),
        "</Children>",
        "</Message>",
    ]
    path = tmp_path / f"cin_census_{year}.xml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def located(lines: list[str], n: int, tag: str) -> str:
    """Where a finding about child ``n``'s field must point: its group's path, the line of
    the group's (n-th) opening tag, counted here in the file's text, and the child's ID."""
    starts = [i for i, line in enumerate(lines, start=1) if line == "<Child>"]
    first = starts[n - 1]
    line = next(i for i, text in enumerate(lines, start=1) if i > first and text.startswith(tag))
    return f"{WHERE[tag].format(n=n)} (line {line}), LAchildID C{n}"


def _valid(fixtures: Path, element: str, year: int) -> str:
    """A code valid in ``year`` (one that only that year of the two allows, where there is)."""
    element = _sex_element(year) if element == "Sex" else element
    own = schema_codes(fixtures, year, element)
    other = set(schema_codes(fixtures, sum(TWO_YEARS) - year, element))
    only = [code for code in own if code not in other]
    return (only or own)[-1]


def _column(result: ReadResult, table: str, column: str, la_child_id: str) -> object:
    (value,) = [row[column] for row in result.tables[table] if row["la_child_id"] == la_child_id]
    return value


@pytest.mark.parametrize("year", TWO_YEARS)
@pytest.mark.parametrize("element", sorted(FIELDS))
def test_every_coded_field_is_checked_against_its_years_list(
    fixtures: Path, tmp_path: Path, element: str, year: int
) -> None:
    good = _valid(fixtures, element, year)
    bad = "XX9"
    path, lines = census(
        tmp_path, year, [child(1, year, {element: good}), child(2, year, {element: bad})]
    )
    result = read_cin_census(path)
    table, column, tag = FIELDS[element]
    name = _sex_element(year) if element == "Sex" else element
    mapped = {"1": "M", "2": "F", "0": "U", "9": "U"}
    expected_good = mapped.get(good, good) if element == "Sex" else good
    assert _column(result, table, column, "C1") == expected_good
    # the invalid code is kept as written (sex, mapped to M / F / U, is nulled)
    assert _column(result, table, column, "C2") == (None if element == "Sex" else bad)
    found = [
        (f.location, f.field, f.value, f.rule, f.severity)
        for f in result.findings
        if f.severity != "information"
    ]
    assert found == [(located(lines, 2, tag), name, bad, "invalid_code", "value")]


@pytest.mark.parametrize("year", TWO_YEARS)
@pytest.mark.parametrize("element", sorted(FLAGS))
def test_every_yes_no_field_is_checked(tmp_path: Path, element: str, year: int) -> None:
    """Yes/no is 0/1 in every year's schema: 1 reads as true, ``true`` too (with an
    information finding, below), anything else is nulled with a value finding."""
    path, lines = census(
        tmp_path, year, [child(1, year, {element: "1"}), child(2, year, {element: "Y"})]
    )
    result = read_cin_census(path)
    table, column, tag = FLAGS[element]
    assert _column(result, table, column, "C1") is True
    assert _column(result, table, column, "C2") is None
    found = [(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings]
    assert found == [(located(lines, 2, tag), element, "Y", "invalid_flag", "value")]


def test_a_code_of_another_year_is_kept_and_reported(fixtures: Path, tmp_path: Path) -> None:
    """RC9 and referral source 5D came in 2023, AssessmentFactors 24A in 2022 and 18B in
    2021 (each year's XSD): in an earlier year's return each is kept, with a finding; the
    same values in a later year's return are valid."""
    later = {"ReasonForClosure": "RC9", "ReferralSource": "5D", "AssessmentFactors": "24A"}
    for element, code in later.items():
        years = [y for y in YEARS if code in schema_codes(fixtures, y, element)]
        assert years and years[0] > 2017, element
    path, lines = census(tmp_path, 2021, [child(1, 2021, later)])
    result = read_cin_census(path)
    assert _column(result, "cin_episode", "closure_reason", "C1") == "RC9"
    assert _column(result, "cin_episode", "referral_source", "C1") == "5D"
    assert _column(result, "cin_assessment_factor", "factor", "C1") == "24A"
    found = {(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings}
    assert found == {
        (located(lines, 1, FIELDS[e][2]), e, code, "code_not_valid_in_year", "value")
        for e, code in later.items()
    }
    again, _ = census(tmp_path, 2023, [child(1, 2023, later | {"AssessmentFactors": "24A"})])
    assert read_cin_census(again).findings == []


def test_gender_current_in_a_2025_return_is_a_finding(tmp_path: Path) -> None:
    """GenderCurrent became Sex in 2024/25 (the 2025 XSD): the old element is read, as M / F
    / U, with a finding where the year expects the other, and so is Sex before 2025."""
    lines_2025 = child(1, 2025, {}).copy()
    lines_2025[5] = "<GenderCurrent>2</GenderCurrent>"
    path, lines = census(tmp_path, 2025, [lines_2025])
    result = read_cin_census(path)
    assert _column(result, "cin_child", "sex", "C1") == "F"
    found = [(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings]
    assert found == [
        (
            located(lines, 1, "<ChildIdentifiers>"),
            "GenderCurrent",
            "2",
            "element_not_in_year",
            "value",
        ),
        # 2 is GenderCurrent's code, not Sex's: the 2025 list has M / F / U
        (
            located(lines, 1, "<ChildIdentifiers>"),
            "GenderCurrent",
            "2",
            "code_not_valid_in_year",
            "value",
        ),
    ]
    lines_2024 = child(1, 2024, {})
    lines_2024[5] = "<Sex>F</Sex>"
    path, lines = census(tmp_path, 2024, [lines_2024])
    result = read_cin_census(path)
    assert _column(result, "cin_child", "sex", "C1") == "F"
    assert {(f.field, f.rule) for f in result.findings} == {
        ("Sex", "element_not_in_year"),
        ("Sex", "code_not_valid_in_year"),
    }
    # the year's own element and codes: nothing to say
    path, _ = census(tmp_path, 2025, [child(1, 2025, {"Sex": "F"})])
    assert read_cin_census(path).findings == []


def test_cin_plan_dates_before_2022_are_read_with_a_finding(tmp_path: Path) -> None:
    """CINPlanDates is in the schemas from 2022: an earlier return's are read and reported."""
    lines = child(1, 2021, {})
    at = lines.index("<Section47>")
    lines[at:at] = [
        "<CINPlanDates>",
        "<CINPlanStartDate>2020-06-01</CINPlanStartDate>",
        "</CINPlanDates>",
    ]
    path, text = census(tmp_path, 2021, [lines])
    result = read_cin_census(path)
    assert len(result.tables["cin_plan"]) == 1
    line = text.index("<CINPlanDates>") + 1
    assert [(f.location, f.field, f.value, f.rule) for f in result.findings] == [
        (
            f"Child[1]/CINdetails[1]/CINPlanDates[1] (line {line}), LAchildID C1",
            "CINPlanDates",
            None,
            "element_not_in_year",
        )
    ]


def test_every_coded_element_the_reader_checks_has_a_list() -> None:
    """A ``code`` kind in the spec with no list in the schemas would reject every value."""
    coded = {leaf for spec in SPECS.values() for _, leaf, kind in spec if kind == "code"}
    coded |= {tag for tag, (_, _, _, kind, _) in ITEMS.items() if kind == "code"}
    assert coded == set(FIELDS) - {"Sex"}
    assert coded <= set(schema_facts().codes)
