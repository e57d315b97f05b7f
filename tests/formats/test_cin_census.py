from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.common import ReadResult, Row
from cwsw.formats.errors import FormatError


def _child(result: ReadResult, la_child_id: str) -> Row:
    return next(row for row in result.tables["cin_child"] if row["la_child_id"] == la_child_id)


@pytest.fixture(scope="module")
def fake(fixtures: Path) -> ReadResult:
    return read_cin_census(fixtures / "cin-census/fake_CIN_data.xml")


def test_fake_cin_data_has_the_published_counts(fake: ReadResult) -> None:
    assert fake.period == "2022"
    assert len(fake.tables["cin_child"]) == 332
    assert len(fake.tables["cin_episode"]) == 402
    assert {row["collection_year"] for row in fake.tables["cin_episode"]} == {2022}
    # "no assessments / S47 / CP plans"
    for table in ("cin_assessment", "cin_plan", "cin_s47", "cp_plan"):
        assert fake.tables[table] == []


def test_fake_cin_data_child_and_episode_values(fake: ReadResult) -> None:
    first = _child(fake, "RND000215205141")
    assert first["upn_raw"] == "A850728973744"
    assert first["birth_date"] == date(2019, 12, 6)
    assert first["sex"] == "M"  # GenderCurrent 1
    assert first["ethnicity"] == "WIRT"
    episode = next(
        row for row in fake.tables["cin_episode"] if row["la_child_id"] == "RND000215205141"
    )
    assert episode["referral_date"] == date(2020, 7, 13)
    assert episode["referral_source"] == "4"
    assert episode["primary_need"] == "N6"
    assert episode["closure_date"] == date(2021, 6, 11)
    assert episode["closure_reason"] == "RC2"
    assert episode["referral_nfa"] is True  # written "true"
    assert _child(fake, "RND000824303014")["sex"] == "U"  # GenderCurrent 9
    assert _child(fake, "RND000382171815")["sex"] == "F"  # GenderCurrent 2


def test_episodes_are_numbered_within_the_child(fake: ReadResult) -> None:
    episodes = [r for r in fake.tables["cin_episode"] if r["la_child_id"] == "RND000824303014"]
    assert [(e["episode_seq"], e["referral_date"]) for e in episodes] == [
        (1, date(2013, 10, 25)),
        (2, date(2017, 10, 22)),
    ]
    assert episodes[1]["closure_date"] is None
    assert episodes[1]["referral_source"] == "3A"


def test_children_with_failing_upn_check_letters_are_kept(fake: ReadResult) -> None:
    children = fake.tables["cin_child"]
    failing = [row for row in children if row["upn"] is None]
    assert len(failing) == 320
    assert all(row["upn_raw"] for row in failing)
    upn_findings = [f for f in fake.findings if f.rule == "invalid_upn"]
    assert len(upn_findings) == 320
    assert {f.severity for f in upn_findings} == {"value"}
    valid = _child(fake, "RND000445703743")
    assert valid["upn"] == valid["upn_raw"] == "A243731687508"


def test_bar_2022_every_module(fixtures: Path) -> None:
    result = read_cin_census(fixtures / "cin-census/BAR_cin_2022.xml")
    key = {"collection_year": 2022, "la_child_id": "DFEX0000001"}
    (child,) = result.tables["cin_child"]
    assert child["upn"] is None and child["upn_raw"] == "A123456789123"
    assert child["former_upn"] is None  # X98765432123B fails its check letter
    assert child["upn_unknown"] == "UN3"
    assert child["birth_date"] == date(1966, 3, 24)
    assert child["expected_birth_date"] == date(1966, 3, 22)
    assert child["death_date"] == date(1980, 10, 8)
    assert child["sex"] == "M"
    assert child["ethnicity"] == "WBRI"
    (episode,) = result.tables["cin_episode"]
    assert episode["referral_nfa"] is False
    assert episode["primary_need"] == "N4"
    assert episode["icpc_date"] == date(1970, 2, 6)  # CINdetails/DateOfInitialCPC
    assert result.tables["cin_disability"] == [
        key | {"disability": "HAND", "disability_raw": "HAND"},
        key | {"disability": "HEAR", "disability_raw": "HEAR"},
    ]
    assert result.tables["cin_assessment"] == [
        key
        | {
            "episode_seq": 1,
            "assessment_seq": 1,
            "start_date": date(1970, 6, 3),
            "internal_review_date": date(1970, 6, 22),
            "authorisation_date": date(1971, 7, 18),
        }
    ]
    assert result.tables["cin_assessment_factor"] == [
        key | {"episode_seq": 1, "assessment_seq": 1, "factor": "2A"},
        key | {"episode_seq": 1, "assessment_seq": 1, "factor": "2B"},
    ]
    assert result.tables["cin_plan"] == [
        key | {"episode_seq": 1, "start_date": date(1971, 1, 24), "end_date": date(1971, 1, 26)}
    ]
    assert result.tables["cin_s47"] == [
        key
        | {
            "episode_seq": 1,
            "start_date": date(1970, 2, 2),
            "icpc_target": date(1970, 6, 23),
            "icpc_date": date(1970, 2, 11),
            "icpc_not_required": False,
        }
    ]
    assert result.tables["cp_plan"] == [
        key
        | {
            "episode_seq": 1,
            "start_date": date(1970, 2, 17),
            "end_date": date(1971, 3, 14),
            "initial_category": "PHY",
            "latest_category": "PHY",
            "plan_seq": 1,
            "previous_plans": 10,
        }
    ]
    assert result.tables["cp_review"] == [
        key | {"episode_seq": 1, "plan_seq": 1, "review_date": date(1971, 2, 15)}
    ]
    assert result.tables["cin_pre_proceedings"] == []  # a 2026/27 block


def test_2026_file_with_sex_element(fixtures: Path) -> None:
    result = read_cin_census(fixtures / "cin-census/CIN_Census_2026.xml")
    first, second = result.tables["cin_child"]
    assert first["sex"] == "M"  # <Sex>1</Sex>: the old code set under the new name
    assert second["la_child_id"] == "CHILD_FAILS_ASSESSMENTS"
    assert second["sex"] == "M"  # <Sex>M</Sex>
    assert second["upn"] is None and second["upn_raw"] is None
    assert second["upn_unknown"] == "UN1"
    assert result.tables["cin_episode"][1]["closure_reason"] == "RC9"
    assert result.tables["cin_episode"][0]["referral_nfa"] is False  # written "0"
    # The header says 2023 although the file is named 2026: kept, and reported.
    assert result.period == "2023"
    assert any(f.field == "Year" and f.value == "2023" for f in result.findings)


def test_two_cp_plans_in_one_episode(fixtures: Path) -> None:
    result = read_cin_census(fixtures / "cin-census/CIN2rows.xml")
    assert [row["episode_seq"] for row in result.tables["cp_plan"]] == [1, 1]


def _write(tmp_path: Path, body: str, name: str = "cin_census_2024.xml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


_MESSAGE = """<Message>
  <Header><CollectionDetails><Collection>CIN</Collection><Year>2024</Year></CollectionDetails>
  </Header>
  <Children>
    <Child>
      <ChildIdentifiers>
        <LAchildID> 123.0 </LAchildID>
        <PersonBirthDate>2019-13-45</PersonBirthDate>
        <GenderCurrent>7</GenderCurrent>
      </ChildIdentifiers>
      <CINdetails>
        <CINreferralDate>2023-05-01</CINreferralDate>
        <PrimaryNeedCode>N99</PrimaryNeedCode>
        <ReferralNFA>maybe</ReferralNFA>
      </CINdetails>
    </Child>
  </Children>
</Message>
"""


def test_invalid_values_are_reported_naming_the_child(tmp_path: Path) -> None:
    """A value that fails its type is nulled, a code not in its list is kept as written; each
    finding names the child, the element, the line and the value; what was changed to read
    it (the ID's padding and ``.0``) is an information finding."""
    result = read_cin_census(_write(tmp_path, _MESSAGE))
    (child,) = result.tables["cin_child"]
    assert child["la_child_id"] == "123"
    assert child["birth_date"] is None and child["sex"] is None
    (episode,) = result.tables["cin_episode"]
    assert episode["referral_date"] == date(2023, 5, 1)
    assert episode["primary_need"] == "N99"  # kept: the canonical column is the code
    assert episode["referral_nfa"] is None
    ids = "Child[1]/ChildIdentifiers (line 6), LAchildID 123"
    details = "Child[1]/CINdetails[1] (line 11), LAchildID 123"
    found = {(f.field, f.value, f.rule, f.location, f.severity) for f in result.findings}
    assert found == {
        ("PersonBirthDate", "2019-13-45", "invalid_date", ids, "value"),
        ("GenderCurrent", "7", "invalid_code", ids, "value"),
        ("PrimaryNeedCode", "N99", "invalid_code", details, "value"),
        ("ReferralNFA", "maybe", "invalid_flag", details, "value"),
        ("LAchildID", "123.0", "normalised_child_id", ids, "information"),
        ("LAchildID", " 123.0 ", "normalised_white_space", ids, "information"),
    }


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("LAchildID,UPN\n1,2\n", "not well-formed XML", 1),
        ("<Root><Child/></Root>", "root element is <Root>", 1),
        (_MESSAGE[: _MESSAGE.index("</CINdetails>")], "not well-formed XML", 15),
        (_MESSAGE.replace("<Year>2024</Year>", ""), "no valid Header/CollectionDetails/Year", None),
    ],
    ids=["not-xml", "wrong-root", "truncated", "no-year"],
)
def test_unreadable_files_raise_a_located_format_error(
    tmp_path: Path, body: str, message: str, line: int | None
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(FormatError) as raised:
        read_cin_census(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)
    assert raised.value.line == line
