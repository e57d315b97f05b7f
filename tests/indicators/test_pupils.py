"""Census-based measures on hand-built rows: the headcount, FSM on census day, exclusions."""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from cwsw.indicators import pupils
from tests.indicators.test_absence import table

D = dt.date
ENROLMENT = {
    "census_term": "string",
    "laestab": "string",
    "enrolment_id": "string",
    "on_roll": "boolean",
    "upn": "string",
    "enrol_status": "string",
    "nc_year": "string",
    "sex": "string",
    "ethnicity": "string",
    "sen_provision": "string",
}
FSM = {
    "census_term": "string",
    "laestab": "string",
    "enrolment_id": "string",
    "start_date": "date",
    "end_date": "date",
}
EXCLUSION = {
    "census_term": "string",
    "laestab": "string",
    "enrolment_id": "string",
    "category": "string",
}


@pytest.fixture(scope="module")
def headcount() -> dict:
    enrolment = table(
        ENROLMENT,
        [
            # A: dual registered, subsidiary at S1, main at S2: counted once, at S2.
            ("2025_spring", "S1", "a1", True, "A", "S", "7", "F", "WBRI", "N"),
            ("2025_spring", "S2", "a2", True, "A", "C", "7", "F", "WBRI", "K"),
            # Two pupils without a valid UPN stay two pupils.
            ("2025_spring", "S1", "n1", True, None, "C", "3", "M", "REFU", "E"),
            ("2025_spring", "S1", "n2", True, None, "C", "3", "M", "REFU", "N"),
            # B has left by the spring census: not in the headcount, but in the year.
            ("2025_spring", "S1", "b1", False, "B", None, None, "M", "WBRI", None),
            ("2025_summer", "S2", "a2", True, "A", "C", "7", "F", "WBRI", "K"),
        ],
    )
    fsm = table(
        FSM,
        [
            ("2025_spring", "S2", "a2", D(2024, 9, 1), D(2025, 1, 16)),  # ends on census day
            ("2025_spring", "S1", "n1", D(2015, 9, 1), D(2018, 12, 31)),  # over six years ago
            ("2025_spring", "S1", "n2", D(2020, 9, 1), D(2021, 7, 1)),  # within six years
        ],
    )
    exclusion = table(
        EXCLUSION,
        [
            ("2025_spring", "S1", "a1", "SUSP"),  # at the other school: still pupil A's
            ("2025_summer", "S2", "a2", "susp"),
            ("2025_autumn", "S1", "n1", "PERM"),  # no such enrolment in the autumn census
            ("2025_spring", "S1", "n1", "LNCH"),  # lunchtime: neither
            ("2024_autumn", "S2", "a2", "SUSP"),  # the previous year's
        ],
    )
    schools = ibis.memtable({"laestab": ["S1", "S2"], "phase": ["Primary", "Secondary"]})
    frame = pupils.census_pupils(enrolment, exclusion, fsm, schools, 2025).execute()
    return {(r.upn or r.sen_provision): r for r in frame.itertuples()}


def test_headcount_is_one_row_per_pupil_at_the_main_registration(headcount: dict) -> None:
    assert sorted(headcount) == ["A", "E", "N"]
    a = headcount["A"]
    assert (a.laestab, a.phase, a.sen_provision) == ("S2", "Secondary", "K")


def test_fsm_on_census_day_and_in_six_years(headcount: dict) -> None:
    assert (headcount["A"].fsm, headcount["A"].fsm6) == (True, True)
    assert (headcount["E"].fsm, headcount["E"].fsm6) == (False, False)
    assert (headcount["N"].fsm, headcount["N"].fsm6) == (False, True)


def test_exclusions_of_the_year_follow_the_pupil_across_schools(headcount: dict) -> None:
    assert (headcount["A"].suspensions, headcount["A"].permanent_exclusions) == (2, 0)
    assert (headcount["E"].suspensions, headcount["E"].permanent_exclusions) == (0, 0)


def test_measures_on_the_headcount(headcount: dict) -> None:
    frame = ibis.memtable(
        [
            {
                "suspensions": r.suspensions,
                "permanent_exclusions": r.permanent_exclusions,
                "sen_provision": r.sen_provision,
                "fsm": r.fsm,
                "fsm6": r.fsm6,
            }
            for r in headcount.values()
        ]
    )

    def parts(fn) -> tuple[float, float]:
        p = fn(frame)
        row = frame.aggregate(n=p["numerator"], d=p["denominator"]).execute().iloc[0]
        return float(row.n), float(row.d)

    assert parts(pupils.pupil_count) == (3, 3)
    assert parts(pupils.one_plus_suspension_rate) == (1, 3)
    assert parts(pupils.suspension_rate) == (2, 3)
    assert parts(pupils.sen_support) == (1, 3)
    assert parts(pupils.ehc_plan) == (1, 3)
    assert parts(pupils.fsm_eligible) == (1, 3)
    assert parts(pupils.fsm6_eligible) == (2, 3)
