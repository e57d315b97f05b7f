"""Named cohorts: the in-year and ever-N-years kinds, currently open, NFA, and combinations a
user names in configuration, on hand-built timelines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pytest

from cwsw.cohort import definitions
from cwsw.cohort.definitions import (
    CohortConfigError,
    CohortSpec,
    Timelines,
    child_members,
    cohort_tagged,
    load_cohorts,
    parse_cohorts,
    pupil_memberships,
    with_defaults,
)
from cwsw.cohort.groups import CINO_IN_YEAR, CLA_IN_YEAR, CPPO_IN_YEAR, social_care_group_in_year
from tests.cohort.test_groups import cin, spells

D = dt.date
REF = D(2025, 3, 31)


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


@pytest.fixture(scope="module")
def data() -> Timelines:
    episodes = cin(
        ("cin_now", 2025, D(2024, 9, 1), None, False),
        ("cin_closed_in_year", 2025, D(2024, 5, 1), D(2024, 8, 1), False),
        ("cin_last_year", 2024, D(2023, 5, 1), D(2023, 8, 1), False),
        ("nfa_now", 2025, D(2025, 1, 1), None, True),
        ("cp_child", 2025, D(2022, 1, 1), None, False),
        ("cla_child", 2025, D(2019, 1, 1), None, False),
        ("old", 2020, D(2018, 1, 1), D(2018, 6, 1), False),
    )
    cp = spells(
        ("cp_child", 2023, D(2022, 2, 1), D(2023, 1, 1)),  # CP in 2022/23, not since
        ("cin_now", 2025, D(2024, 10, 1), D(2024, 12, 1)),  # CP for two months this year
    )
    cla = spells(("cla_child", 2025, D(2024, 6, 1), D(2025, 2, 1)))  # care this year, left
    return Timelines(episodes, cp, cla)


def members(con: ibis.BaseBackend, spec: CohortSpec, data: Timelines, known=None) -> set[str]:
    table = child_members(spec, data, REF, known)
    return set(con.execute(table).la_child_id)


def test_in_year_hierarchy_takes_the_highest_status_of_the_year(
    con: ibis.BaseBackend, data: Timelines
) -> None:
    frame = con.execute(
        social_care_group_in_year(data.cin_episode, data.cp_plan, data.cla_episode, REF)
    )
    assert dict(zip(frame.la_child_id, frame.social_care_group, strict=True)) == {
        "cin_now": CPPO_IN_YEAR,  # CP plan for part of the year outranks CIN
        "cin_closed_in_year": CINO_IN_YEAR,
        "cp_child": CINO_IN_YEAR,  # CP ended in 2023: only in need this year
        "cla_child": CLA_IN_YEAR,
    }


def test_ever_currently_open_and_nfa(con: ibis.BaseBackend, data: Timelines) -> None:
    ever_cp_3 = CohortSpec("e", "ever", status="CP", years=3)
    assert members(con, ever_cp_3, data) == {"cp_child", "cin_now"}
    ever_cp_1 = CohortSpec("e", "ever", status="CP", years=1)
    assert members(con, ever_cp_1, data) == {"cin_now"}
    ever_cin_6 = CohortSpec("e", "ever", status="CIN", years=6)
    assert "old" not in members(con, ever_cin_6, data)  # closed June 2018: before April 2019
    assert "nfa_now" not in members(con, ever_cin_6, data)
    open_cin = CohortSpec("o", "open", status="CIN")
    assert members(con, open_cin, data) == {"cin_now", "cp_child", "cla_child"}
    with_nfa = CohortSpec("o", "open", status="CIN", include_nfa=True)
    assert members(con, with_nfa, data) == {"cin_now", "cp_child", "cla_child", "nfa_now"}
    assert members(con, CohortSpec("o", "open", status="CLA"), data) == set()


def test_combinations_union_intersection_and_exclusion(
    con: ibis.BaseBackend, data: Timelines
) -> None:
    specs = parse_cohorts(
        {
            "cohorts": {
                "Ever CP 3": {"kind": "ever", "status": "CP", "years": 3},
                "CIN or CP": {"any_of": ["CIN at any point in the year", "Ever CP 3"]},
                "Both": {"all_of": ["CIN at any point in the year", "Ever CP 3"]},
                "CIN not CP": {
                    "any_of": ["CIN at any point in the year"],
                    "exclude": ["Ever CP 3"],
                },
            }
        }
    )
    known = {s.name: s for s in with_defaults(specs)}
    in_year = {"cin_now", "cin_closed_in_year", "cp_child", "cla_child"}
    assert members(con, known["CIN or CP"], data, known) == in_year
    assert members(con, known["Both"], data, known) == {"cin_now", "cp_child"}
    assert members(con, known["CIN not CP"], data, known) == {"cin_closed_in_year", "cla_child"}


def test_pupils_through_links_with_all_and_not_cohorts(
    con: ibis.BaseBackend, data: Timelines
) -> None:
    link = ibis.memtable({"la_child_id": ["cin_now", "cla_child"], "upn": ["U1", "U2"]})
    population = ibis.memtable({"upn": ["U1", "U2", "U3", None]}, schema={"upn": "string"})
    specs = definitions.DEFAULT_COHORTS
    memberships = pupil_memberships(specs, data, link, REF)
    tagged = con.execute(cohort_tagged(population, memberships, specs))
    by_cohort = tagged.groupby("cohort").upn.apply(lambda s: sorted(s.fillna("-")))
    assert by_cohort["All pupils"] == ["-", "U1", "U2", "U3"]
    assert by_cohort["Ever CIN last 6 years"] == ["U1", "U2"]
    assert by_cohort["Not CIN in last 6 years"] == ["-", "U3"]
    # Both in need at 31 March: the CP plan ended in December, and care in February.
    assert by_cohort["CINO"] == ["U1", "U2"]
    assert "CLA 12 months" not in by_cohort


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"x": {"kind": "ever", "colour": "red"}}, "unknown keys"),
        ({"x": {"kind": "sometimes"}}, "kind must be one of"),
        ({"x": {"kind": "ever", "years": 0}}, "years must be"),
        ({"x": {"kind": "ever", "status": "SEN"}}, "status must be one of"),
        ({"x": {"kind": "at", "groups": ["CINX"]}}, "groups must be among"),
        ({"x": {"any_of": ["nobody"]}}, "unknown cohort 'nobody'"),
        ({"x": {"any_of": ["All pupils"]}}, "combinations are of children"),
        ({"a": {"any_of": ["b"]}, "b": {"any_of": ["a"]}}, "in a circle"),
        ({"x": {"kind": "not", "of": "nobody"}}, "'of' must name"),
        ({"x": {"kind": "ever", "include_nfa": "yes"}}, "include_nfa must be"),
    ],
)
def test_bad_configuration_is_refused_by_name(config: dict, message: str) -> None:
    with pytest.raises(CohortConfigError, match=message):
        parse_cohorts({"cohorts": config})


def test_toml_file_adds_to_and_replaces_defaults(tmp_path: Path) -> None:
    path = tmp_path / "cohorts.toml"
    path.write_text(
        '[cohorts."Ever CIN last 6 years"]\nkind = "ever"\nyears = 6\ninclude_nfa = true\n'
        'version = "2"\n\n[cohorts."Ever CLA"]\nkind = "ever"\nstatus = "CLA"\n',
        encoding="utf-8",
    )
    specs = load_cohorts(path)
    names = [s.name for s in specs]
    assert names[: len(definitions.DEFAULT_COHORTS)] == [
        s.name for s in definitions.DEFAULT_COHORTS
    ]
    assert names[-1] == "Ever CLA"
    replaced = next(s for s in specs if s.name == "Ever CIN last 6 years")
    assert replaced.include_nfa and replaced.definition_version == "ever-2"
    (tmp_path / "bad.toml").write_text("[cohorts\n", encoding="utf-8")
    with pytest.raises(CohortConfigError, match="not valid TOML"):
        load_cohorts(tmp_path / "bad.toml")
