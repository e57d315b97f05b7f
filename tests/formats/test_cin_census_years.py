"""A CIN census header's ``Year``, its ``ReferenceDate`` (31 March of that year) and the year
in the file's name are checked against each other, one rule each whatever the year, each a
finding located at the element and line with its value; and every value the reader changes to
read it is an information finding, with either walk."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwsw.formats.cin_census import WALK_VARIABLE, read_cin_census
from cwsw.formats.errors import Finding

VALID_UPN = "A243731687508"  # passes its check letter (fake_CIN_data.xml)


def _census(folder: Path, name: str, year: str, reference: str | None, child: str = "") -> Path:
    dated = f"<ReferenceDate>{reference}</ReferenceDate>" if reference is not None else ""
    lines = [
        "<Message>",
        "<Header>",
        "<CollectionDetails>",
        "<Collection>CIN</Collection>",
        f"<Year>{year}</Year>",  # line 5
        dated,  # line 6
        "</CollectionDetails>",
        "</Header>",
        "<Children>",
        child or "<Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers></Child>",
        "</Children>",
        "</Message>",
    ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _header_findings(path: Path) -> list[tuple[str, str, str | None, str, str]]:
    return [
        (f.location, f.field, f.value, f.rule, f.severity)
        for f in read_cin_census(path).findings
        if f.location.startswith("Header/")
    ]


YEAR = "Header/CollectionDetails/Year (line 5)"
REFERENCE = "Header/CollectionDetails/ReferenceDate (line 6)"


@pytest.mark.parametrize("year", [2019, 2023, 2025])
def test_each_pair_is_checked_with_one_rule_whatever_the_year(tmp_path: Path, year: int) -> None:
    # all three agree
    ok = _census(tmp_path, f"cin_census_{year}.xml", str(year), f"{year}-03-31")
    assert _header_findings(ok) == []
    # the case: a return of year Y dated 31 March Y+1, in a file named Y+1
    late = f"{year + 1}-03-31"
    path = _census(tmp_path, f"CIN_Census_{year + 1}.xml", str(year), late)
    assert _header_findings(path) == [
        (
            f"{REFERENCE} against Year {year}",
            "ReferenceDate",
            late,
            "reference_date_differs_from_year",
            "record",
        ),
        (
            f"{YEAR} against {year + 1} in the file name",
            "Year",
            str(year),
            "year_differs_from_file_name",
            "record",
        ),
    ]
    # the same date in a file named for the header's year: the date is the odd one out
    path = _census(tmp_path, f"cin_census_{year}.xml", str(year), late)
    assert _header_findings(path) == [
        (
            f"{REFERENCE} against Year {year}",
            "ReferenceDate",
            late,
            "reference_date_differs_from_year",
            "record",
        ),
        (
            f"{REFERENCE} against {year} in the file name",
            "ReferenceDate",
            late,
            "reference_date_differs_from_file_name",
            "record",
        ),
    ]
    # the header agrees with itself, the name does not: the name is the odd one out
    path = _census(tmp_path, f"cin_{year - 1}.xml", str(year), f"{year}-03-31")
    assert _header_findings(path) == [
        (
            f"{YEAR} against {year - 1} in the file name",
            "Year",
            str(year),
            "year_differs_from_file_name",
            "record",
        ),
        (
            f"{REFERENCE} against {year - 1} in the file name",
            "ReferenceDate",
            f"{year}-03-31",
            "reference_date_differs_from_file_name",
            "record",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "reference", "expected"),
    [
        # an academic year in the name is the year of its 31 March
        ("CIN 2022-23.xml", "2023-03-31", []),
        ("cin_2022_23.xml", "2023-03-31", []),
        # no year in the name: only the header is checked
        ("return.xml", "2023-06-30", ["reference_date_differs_from_year"]),
        # the reference date is optional in the schema
        ("cin_census_2023.xml", None, []),
        # a date DfE's schema does not allow (xs:date): reported, not compared
        ("cin_census_2023.xml", "31/03/2023", ["invalid_date"]),
    ],
)
def test_names_and_dates(
    tmp_path: Path, name: str, reference: str | None, expected: list[str]
) -> None:
    path = _census(tmp_path, name, "2023", reference)
    assert [rule for _, _, _, rule, _ in _header_findings(path)] == expected


def test_the_fixture_dated_a_year_late_is_reported(fixtures: Path) -> None:
    """CIN_Census_2024.xml: Year 2023, ReferenceDate 2024-03-31, named 2024."""
    found = _header_findings(fixtures / "cin-census/CIN_Census_2024.xml")
    assert [(field, value, rule) for _, field, value, rule, _ in found] == [
        ("ReferenceDate", "2024-03-31", "reference_date_differs_from_year"),
        ("Year", "2023", "year_differs_from_file_name"),
    ]
    assert found[0][0] == "Header/CollectionDetails/ReferenceDate (line 6) against Year 2023"


# One child with every kind of value the reader changes to read it; each line numbered.
NORMALISED = "\n".join(
    [
        "<Child>",
        "<ChildIdentifiers>",  # line 11
        "<LAchildID>123.0</LAchildID>",
        f"<UPN> {VALID_UPN} </UPN>",
        f"<FormerUPN>{VALID_UPN.lower()}</FormerUPN>",
        "<PersonBirthDate> 2015-03-27 </PersonBirthDate>",  # xs:date: white space is allowed
        "<Sex>f</Sex>",
        "</ChildIdentifiers>",
        "<ChildCharacteristics>",
        "<Ethnicity>WBRI</Ethnicity>",
        "<Disabilities>",
        "<Disability> HAND </Disability>",  # line 21
        "</Disabilities>",
        "</ChildCharacteristics>",
        "<CINdetails>",  # line 24
        "<CINreferralDate>2024-05-01</CINreferralDate>",
        "<ReferralSource>1A</ReferralSource>",
        "<PrimaryNeedCode>n4</PrimaryNeedCode>",
        "<ReferralNFA>true</ReferralNFA>",
        "<ChildProtectionPlans>",  # line 29
        "<CPPstartDate>2024-06-01</CPPstartDate>",
        "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>",
        "<LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>",
        "<NumberOfPreviousCPP>2.0</NumberOfPreviousCPP>",
        "</ChildProtectionPlans>",
        "</CINdetails>",
        "</Child>",
    ]
)


def _read(path: Path, walk: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, list[Finding]]:
    monkeypatch.setenv(WALK_VARIABLE, walk)
    result = read_cin_census(path, workers=1)
    return result.tables, result.findings


def test_every_normalisation_is_an_information_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the council must fix at source although cwsw could read it: a flag written
    ``true`` (the schema's yes/no is 0/1), a UPN padded or in lower case, a code in lower
    case, a count written ``2.0``, an LA child ID written ``123.0``."""
    path = _census(tmp_path, "cin_census_2025.xml", "2025", "2025-03-31", NORMALISED)
    tables, findings = _read(path, "compiled", monkeypatch)
    assert (tables, findings) == _read(path, "python", monkeypatch)
    (child,) = tables["cin_child"]  # type: ignore[index]
    assert (child["la_child_id"], child["upn"], child["former_upn"], child["sex"]) == (
        "123",
        VALID_UPN,
        VALID_UPN,
        "F",
    )
    (episode,) = tables["cin_episode"]  # type: ignore[index]
    assert (episode["primary_need"], episode["referral_nfa"]) == ("N4", True)
    assert tables["cp_plan"][0]["previous_plans"] == 2  # type: ignore[index]
    assert tables["cin_disability"][0]["disability"] == "HAND"  # type: ignore[index]
    ids = "Child[1]/ChildIdentifiers (line 11), LAchildID 123"
    details = "Child[1]/CINdetails[1] (line 24), LAchildID 123"
    plan = "Child[1]/CINdetails[1]/ChildProtectionPlans[1] (line 29), LAchildID 123"
    disability = "Child[1]/ChildCharacteristics/Disabilities (line 21), LAchildID 123"
    assert {(f.location, f.field, f.value, f.rule, f.severity) for f in findings} == {
        (ids, "LAchildID", "123.0", "normalised_child_id", "information"),
        (ids, "UPN", f" {VALID_UPN} ", "normalised_white_space", "information"),
        (ids, "FormerUPN", VALID_UPN.lower(), "normalised_upn", "information"),
        (ids, "Sex", "f", "normalised_code", "information"),
        (disability, "Disability", " HAND ", "normalised_white_space", "information"),
        (details, "PrimaryNeedCode", "n4", "normalised_code", "information"),
        (details, "ReferralNFA", "true", "normalised_flag", "information"),
        (plan, "NumberOfPreviousCPP", "2.0", "normalised_number", "information"),
    }
    assert len(findings) == 8


def test_a_clean_return_has_nothing_to_say(tmp_path: Path) -> None:
    clean = (
        NORMALISED.replace("123.0", "123")
        .replace(f" {VALID_UPN} ", VALID_UPN)
        .replace(VALID_UPN.lower(), VALID_UPN)
        .replace("<Sex>f<", "<Sex>F<")
        .replace(" HAND ", "HAND")
        .replace(">n4<", ">N4<")
        .replace(">true<", ">1<")
        .replace(">2.0<", ">2<")
    )
    path = _census(tmp_path, "cin_census_2025.xml", "2025", "2025-03-31", clean)
    assert read_cin_census(path).findings == []
