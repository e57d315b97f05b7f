"""The facts table from a warehouse built here by hand, each value worked out from the rows.

Rating on 30 June 2025: the spring (16 January) and summer (15 May) 2025 censuses are held by
then, the autumn 2025 census (2 October) is not, so "this term" is spring 2025 (the summer
census carries it, a term in arrears) and the roll is the summer census's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import cast

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from cwsw.cohort.status import CHILD_IN_NEED, CP_PLAN, LOOKED_AFTER, PREVIOUSLY
from cwsw.domain.calendar import census_day
from cwsw.errors import UserError
from cwsw.targeting.engine import rate
from cwsw.targeting.facts import censuses_by, rating_facts
from cwsw.targeting.rules import Term, parse_rules
from cwsw.warehouse.schema import arrow_schema, columns_arrow_schema

D = dt.date
ON = D(2025, 6, 30)
SPRING, AUTUMN = "2025_summer", "2025_spring"  # the censuses carrying spring 2025, autumn 2024

RULES = parse_rules(
    """
[[red.rule]]
name = "Suspended in the last two terms"
count = "suspensions"
in_last_terms = 2
op = ">="
value = 1

[[red.rule]]
name = "CP plan and severely absent"
all = [
  { measure = "social_care_status", op = "==", value = "Child protection plan" },
  { measure = "severely_absent", op = "==", value = true },
]

[[red.rule]]
name = "Missing from school rolls"
all = [
  { measure = "compulsory_school_age", op = "==", value = true },
  { measure = "on_roll", op = "==", value = false },
]

[[amber.rule]]
name = "Persistently absent"
measure = "persistently_absent"
op = "=="
value = true

[[amber.rule]]
name = "Attendance fell"
change = "attendance_pct"
from_terms_ago = 1
op = "<="
value = -5
"""
)


def enrolment(census: str, upn: str, school: str, possible: int, on_roll: bool = True) -> dict:
    return {
        "census_term": census,
        "laestab": school,
        "enrolment_id": f"{upn}-{school}",
        "on_roll": on_roll,
        "upn": upn,
        "birth_date": D(2012, 5, 1),
        "sessions_possible": possible,
    }


def sessions(census: str, upn: str, school: str, code: str, count: int) -> dict:
    return {
        "census_term": census,
        "laestab": school,
        "enrolment_id": f"{upn}-{school}",
        "attendance_code": code,
        "sessions": count,
    }


TABLES: dict[str, list[dict]] = {
    # C1 CP plan; C2 in need; C3 looked after; C4 previously (closed 2024); C5 in need.
    "cin_episode": [
        {"la_child_id": "C1", "collection_year": 2025, "referral_date": D(2024, 12, 1)},
        {"la_child_id": "C2", "collection_year": 2025, "referral_date": D(2024, 9, 1)},
        {
            "la_child_id": "C4",
            "collection_year": 2024,
            "referral_date": D(2023, 6, 1),
            "closure_date": D(2024, 5, 1),
        },
        {"la_child_id": "C5", "collection_year": 2025, "referral_date": D(2025, 2, 1)},
    ],
    "cp_plan": [{"la_child_id": "C1", "collection_year": 2025, "start_date": D(2025, 1, 10)}],
    "cla_episode": [{"la_child_id": "C3", "collection_year": 2025, "start_date": D(2024, 1, 1)}],
    "cin_child": [
        {"la_child_id": "C1", "collection_year": 2025, "birth_date": D(2012, 5, 1)},  # Year 8
        {"la_child_id": "C2", "collection_year": 2025, "birth_date": D(2015, 10, 15)},  # Year 4
        {"la_child_id": "C4", "collection_year": 2024, "birth_date": D(2021, 2, 1)},  # aged 3
        {"la_child_id": "C5", "collection_year": 2025},  # no date of birth
    ],
    "cla_child": [{"la_child_id": "C3", "collection_year": 2025, "birth_date": D(2010, 3, 1)}],
    "pupil_enrolment": [
        enrolment(AUTUMN, "U1", "S1", 120),
        enrolment(SPRING, "U1", "S1", 100),
        enrolment(AUTUMN, "U2", "S1", 100),
        enrolment(SPRING, "U2", "S1", 60),  # C2 moved school in the spring term
        enrolment(SPRING, "U2", "S2", 40),
        enrolment(AUTUMN, "U4", "S1", 50),  # C4 left before the summer census
        enrolment(SPRING, "U5", "S2", 30, on_roll=False),  # C5 no longer on roll in summer
        enrolment("2025_autumn", "U5", "S2", 60),  # back on roll after the rating date
        enrolment(SPRING, "U6", "S1", 100),  # C6 has no social worker
    ],
    "pupil_absence": [
        sessions(AUTUMN, "U1", "S1", "I", 6),  # 6 / 120 = 5%
        sessions(SPRING, "U1", "S1", "I", 30),  # (30 + 25) / 100 = 55%: severe
        sessions(SPRING, "U1", "S1", "O", 25),
        sessions(SPRING, "U1", "S1", "/", 45),  # present: not absence
        sessions(SPRING, "U2", "S1", "N", 5),  # (5 + 5) / (60 + 40) = 10%: persistent
        sessions(SPRING, "U2", "S2", "C", 5),
        sessions(SPRING, "U5", "S2", "X", 4),  # not counted: not absence
    ],
    "pupil_exclusion": [
        {"census_term": SPRING, "laestab": "S1", "enrolment_id": "U2-S1", "category": "SUSP"},
        {"census_term": SPRING, "laestab": "S1", "enrolment_id": "U6-S1", "category": "SUSP"},
    ],
    "establishment": [
        {"laestab": "S1", "phase": "Secondary"},
        {"laestab": "S2", "phase": "Primary"},
    ],
}
LINKS = [{"la_child_id": c, "upn": u} for c, u in (("C1", "U1"), ("C2", "U2"), ("C4", "U4"))] + [
    {"la_child_id": "C5", "upn": "U5"}
]


@pytest.fixture(scope="module")
def con() -> Iterator[ibis.BaseBackend]:
    backend = ibis.duckdb.connect()
    for name, rows in TABLES.items():
        backend.create_table(name, pa.Table.from_pylist(rows, schema=arrow_schema(name)))
    link_schema = columns_arrow_schema({"la_child_id": "VARCHAR", "upn": "VARCHAR"})
    backend.create_table("child_pupil_link", pa.Table.from_pylist(LINKS, schema=link_schema))
    yield backend
    backend.disconnect()


def test_census_days_and_the_censuses_held_by_a_date(con: ibis.BaseBackend) -> None:
    """DfE census days: third Thursday of January and May, first Thursday of October."""
    assert census_day("2025_spring") == D(2025, 1, 16)
    assert census_day("2025_summer") == D(2025, 5, 15)
    assert census_day("2025_autumn") == D(2025, 10, 2)
    assert censuses_by(con, ON) == ["2025_spring", "2025_summer"]
    assert censuses_by(con, D(2025, 5, 14)) == ["2025_spring"]


def test_facts_worked_by_hand(con: ibis.BaseBackend) -> None:
    facts = rating_facts(con, RULES, ON)
    assert facts.this_term == Term.parse("spring 2025")
    assert facts.roll_census == "2025_summer"
    table = facts.table.set_index("la_child_id")
    assert list(table.index) == ["C1", "C2", "C3", "C4", "C5"]  # C6 has no social worker

    def row(child: str) -> dict[str, object]:
        values = table.loc[child]
        return {str(k): (None if v is pd.NA else v) for k, v in values.items()}

    expected: dict[str, dict[str, object]] = {
        "C1": {
            "social_care_status": CP_PLAN,
            "compulsory_school_age": True,
            "on_roll": True,
            "attendance_pct[autumn 2024]": 95.0,
            "attendance_pct[spring 2025]": 45.0,
            "absence_pct[spring 2025]": 55.0,
            "persistently_absent[spring 2025]": True,
            "severely_absent[spring 2025]": True,
            "severely_absent[autumn 2024]": False,
            "suspensions[autumn 2024]": 0,
            "suspensions[spring 2025]": 0,
        },
        "C2": {
            "social_care_status": CHILD_IN_NEED,
            "compulsory_school_age": True,
            "on_roll": True,
            "attendance_pct[autumn 2024]": 100.0,
            "attendance_pct[spring 2025]": 90.0,
            "persistently_absent[spring 2025]": True,
            "severely_absent[spring 2025]": False,
            "suspensions[autumn 2024]": 0,
            "suspensions[spring 2025]": 1,
            "permanent_exclusions[spring 2025]": 0,
        },
        "C3": {  # looked after, linked to no pupil
            "social_care_status": LOOKED_AFTER,
            "compulsory_school_age": True,
            "on_roll": False,
            "attendance_pct[spring 2025]": math.nan,
            "persistently_absent[spring 2025]": None,
            "suspensions[spring 2025]": None,
        },
        "C4": {
            "social_care_status": PREVIOUSLY,
            "compulsory_school_age": False,
            "on_roll": False,
            "attendance_pct[autumn 2024]": 100.0,
            "attendance_pct[spring 2025]": math.nan,
            "suspensions[autumn 2024]": 0,
            "suspensions[spring 2025]": None,
        },
        "C5": {
            "social_care_status": CHILD_IN_NEED,
            "compulsory_school_age": None,
            "on_roll": False,
            "attendance_pct[autumn 2024]": math.nan,
            "attendance_pct[spring 2025]": 100.0,
            "suspensions[autumn 2024]": None,
            "suspensions[spring 2025]": 0,
        },
    }
    for child, values in expected.items():
        got = row(child)
        for name, value in values.items():
            if isinstance(value, float) and math.isnan(value):
                assert got[name] is None or math.isnan(cast(float, got[name])), (child, name)
            elif isinstance(value, float):
                assert got[name] == pytest.approx(value), (child, name)
            else:
                assert got[name] == value, (child, name, got[name])


def test_rated_from_the_warehouse(con: ibis.BaseBackend) -> None:
    """The rules above read in order against the facts worked out by hand."""
    facts = rating_facts(con, RULES, ON)
    rated = rate(RULES, facts.table, facts.this_term).children.set_index("la_child_id")
    assert rated.rule.to_dict() == {
        "C1": "CP plan and severely absent",
        "C2": "Suspended in the last two terms",
        "C3": "Missing from school rolls",
        "C4": None,
        "C5": None,
    }
    assert rated.loc["C3", "not_known"] == "Suspended in the last two terms"
    assert rated.loc["C4", "not_known"] == (
        "Suspended in the last two terms; Persistently absent; Attendance fell"
    )
    assert rated.loc["C5", "not_known"] == (
        "Suspended in the last two terms; Missing from school rolls; Attendance fell"
    )


def test_no_census_by_the_date_is_refused(con: ibis.BaseBackend) -> None:
    with pytest.raises(UserError, match="no school census loaded with a census day on or before"):
        rating_facts(con, RULES, D(2024, 12, 31))
