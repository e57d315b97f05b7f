"""Cohort definitions on hand-built timelines, each case reasoned from DfE's definitions."""

import datetime as dt

import ibis
import pytest

from cwsw.cohort.groups import (
    CINO,
    CLA_12_MONTHS,
    CLA_UNDER_12_MONTHS,
    CPPO,
    cohort_ever_cin,
    cohort_in_need_in_year,
    social_care_group_at,
)
from cwsw.cohort.timelines import care_periods

D = dt.date
REF = D(2025, 3, 31)
EPISODE_SCHEMA = {
    "la_child_id": "string",
    "collection_year": "int64",
    "referral_date": "date",
    "closure_date": "date",
    "referral_nfa": "boolean",
}
SPELL_SCHEMA = {
    "la_child_id": "string",
    "collection_year": "int64",
    "start_date": "date",
    "end_date": "date",
}


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def cin(*rows: tuple) -> ibis.Table:
    return ibis.memtable(
        [dict(zip(EPISODE_SCHEMA, r, strict=True)) for r in rows], schema=EPISODE_SCHEMA
    )


def spells(*rows: tuple) -> ibis.Table:
    return ibis.memtable(
        [dict(zip(SPELL_SCHEMA, r, strict=True)) for r in rows], schema=SPELL_SCHEMA
    )


NO_SPELLS = spells()


def groups(con: ibis.BaseBackend, cin_t: ibis.Table, cp_t: ibis.Table, cla_t: ibis.Table) -> dict:
    frame = con.execute(social_care_group_at(cin_t, cp_t, cla_t, REF))
    return dict(zip(frame.la_child_id, frame.social_care_group, strict=True))


def test_open_cin_episode_is_cino_and_nfa_or_closed_is_not(con: ibis.BaseBackend) -> None:
    episodes = cin(
        ("open", 2025, D(2024, 9, 1), None, False),
        ("nfa", 2025, D(2025, 1, 1), None, True),
        ("closed_before", 2025, D(2024, 5, 1), D(2025, 1, 31), False),
        # Closed on the reference date itself: not open at 31 March.
        ("closed_on_ref", 2025, D(2024, 5, 1), D(2025, 3, 31), False),
        ("closes_after", 2025, D(2024, 5, 1), D(2025, 4, 2), False),
        ("starts_on_ref", 2025, D(2025, 3, 31), None, False),
    )
    assert groups(con, episodes, NO_SPELLS, NO_SPELLS) == {
        "open": CINO,
        "closes_after": CINO,
        "starts_on_ref": CINO,
    }


def test_newest_return_wins_for_an_episode_closed_later(con: ibis.BaseBackend) -> None:
    # Open in the 2024 return, closed in the 2025 return: closed at 31 March 2025.
    episodes = cin(
        ("a", 2024, D(2023, 6, 1), None, False),
        ("a", 2025, D(2023, 6, 1), D(2024, 8, 1), False),
    )
    assert groups(con, episodes, NO_SPELLS, NO_SPELLS) == {}


def test_two_episodes_with_one_referral_date_in_one_return_both_count(
    con: ibis.BaseBackend,
) -> None:
    # The same return lists two episodes referred on one day, one closed and one still open
    # at 31 March: the child is in need, whichever order the rows come in (picking one row
    # by row number made builds of the same data differ).
    rows = [
        ("b", 2025, D(2024, 6, 1), D(2024, 7, 1), False),
        ("b", 2025, D(2024, 6, 1), None, False),
        ("b", 2024, D(2024, 6, 1), D(2024, 6, 2), False),  # an older return's version
    ]
    for ordered in (rows, rows[::-1]):
        assert groups(con, cin(*ordered), NO_SPELLS, NO_SPELLS) == {"b": CINO}


def test_hierarchy_cla_over_cp_over_cin(con: ibis.BaseBackend) -> None:
    episodes = cin(
        ("cin_cp", 2025, D(2024, 1, 1), None, False),
        ("cin_cp_cla", 2025, D(2022, 1, 1), None, False),
        ("cin_only", 2025, D(2024, 1, 1), None, False),
    )
    cp = spells(
        ("cin_cp", 2025, D(2025, 1, 10), None),
        ("cin_cp_cla", 2025, D(2022, 2, 1), None),
        ("cp_ended", 2025, D(2024, 1, 10), D(2024, 4, 10)),
    )
    cla = spells(("cin_cp_cla", 2025, D(2022, 6, 1), None))
    assert groups(con, episodes, cp, cla) == {
        "cin_cp": CPPO,
        "cin_cp_cla": CLA_12_MONTHS,
        "cin_only": CINO,
    }


def test_cla_twelve_months_follows_the_period_of_care_across_episodes(
    con: ibis.BaseBackend,
) -> None:
    cla = spells(
        # A placement change on the same day continues the period: looked after since 2023.
        ("moves", 2024, D(2023, 5, 1), D(2024, 9, 1)),
        ("moves", 2025, D(2024, 9, 1), None),
        # A gap starts a new period: back in care in October 2024, under 12 months.
        ("gap", 2023, D(2022, 1, 1), D(2023, 1, 1)),
        ("gap", 2025, D(2024, 10, 1), None),
        # Exactly 12 months at 31 March: started 31 March 2024.
        ("exactly", 2025, D(2024, 3, 31), None),
        ("one_day_short", 2025, D(2024, 4, 1), None),
        ("left_care", 2025, D(2020, 1, 1), D(2025, 2, 1)),
    )
    assert groups(con, cin(), NO_SPELLS, cla) == {
        "moves": CLA_12_MONTHS,
        "gap": CLA_UNDER_12_MONTHS,
        "exactly": CLA_12_MONTHS,
        "one_day_short": CLA_UNDER_12_MONTHS,
    }


def test_care_periods_merge_chained_and_overlapping_episodes(con: ibis.BaseBackend) -> None:
    cla = spells(
        ("a", 2025, D(2020, 1, 1), D(2020, 6, 1)),
        ("a", 2025, D(2020, 6, 1), D(2021, 1, 1)),
        ("a", 2025, D(2022, 1, 1), None),
    )
    periods = con.execute(care_periods(cla).order_by("start_date"))
    assert len(periods) == 2
    first, second = periods.itertuples()
    assert (first.start_date.date(), first.end_date.date()) == (D(2020, 1, 1), D(2021, 1, 1))
    assert second.start_date.date() == D(2022, 1, 1) and periods.end_date.isna().iloc[1]


def test_ever_cin_six_years_window(con: ibis.BaseBackend) -> None:
    episodes = cin(
        ("in_window_start", 2020, D(2019, 1, 1), D(2019, 4, 1), False),  # open on 1 Apr 2019
        ("before_window", 2019, D(2018, 1, 1), D(2019, 3, 31), False),
        ("nfa_only", 2023, D(2022, 1, 1), D(2022, 1, 2), True),
        ("recent", 2025, D(2025, 3, 1), None, False),
        ("after_ref", 2026, D(2025, 4, 1), None, False),
    )
    ever = set(con.execute(cohort_ever_cin(episodes, REF)).la_child_id)
    assert ever == {"in_window_start", "recent"}
    in_year = set(con.execute(cohort_in_need_in_year(episodes, REF)).la_child_id)
    assert in_year == {"recent"}
