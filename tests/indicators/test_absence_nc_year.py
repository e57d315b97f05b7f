"""The absence population's NC year by age (DfE: aged 5 to 15 on 31 August before the year),
on birthdays either side of 1 September and on hand-built leavers and late joiners."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from cwsw.domain.calendar import nc_year_from_date_of_birth
from cwsw.indicators import absence


@pytest.mark.parametrize(
    ("born", "academic_year_end", "nc_year"),
    [
        (dt.date(2019, 8, 31), 2025, 1),  # 5 on 31 August 2024: Year 1
        (dt.date(2019, 9, 1), 2025, 0),  # 4 until 1 September: Reception
        (dt.date(2009, 9, 1), 2025, 10),  # 14 on 31 August 2024
        (dt.date(2009, 8, 31), 2025, 11),  # 15: Year 11, the last of compulsory school age
        (dt.date(2008, 8, 31), 2025, 12),  # 16: sixth form
        (dt.date(2012, 2, 29), 2025, 8),  # 12 on 31 August 2024
        (dt.date(2012, 2, 29), 2024, 7),  # a year earlier, a year lower
        (dt.date(2021, 1, 1), 2025, -1),  # 3: nursery
    ],
)
def test_nc_year_from_date_of_birth(born: dt.date, academic_year_end: int, nc_year: int) -> None:
    assert nc_year_from_date_of_birth(born, academic_year_end) == nc_year


def test_the_expression_is_the_domain_rule_on_every_day() -> None:
    """Every birth date from 1995 to 2022, as the expression labels it on DuckDB."""
    first, last = dt.date(1995, 1, 1), dt.date(2022, 12, 31)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    born = ibis.memtable(pd.DataFrame({"born": days}), schema={"born": "date"})
    got = born.mutate(nc=absence.nc_year_by_age(born.born, 2025)).execute()
    labels = {-2: "N1", -1: "N2", 0: "R", **{y: str(y) for y in range(1, 15)}}
    want = [labels.get(nc_year_from_date_of_birth(d, 2025)) for d in days]
    shown = [None if pd.isna(v) else v for v in got.nc]
    assert shown == want
    assert {"R", "1", "11", "14", "N1"} <= set(shown)


SCHEMA = {
    "census_term": "string",
    "laestab": "string",
    "enrolment_id": "string",
    "on_roll": "boolean",
    "upn": "string",
    "birth_date": "date",
    "nc_year": "string",
    "sex": "string",
    "ethnicity": "string",
    "sen_provision": "string",
    "sessions_possible": "float64",
    "summer_ht2_sessions_possible": "float64",
}
Y7 = dt.date(2013, 3, 1)  # 11 on 31 August 2024: Year 7 in 2024/25
RECEPTION = dt.date(2020, 3, 1)  # 4 on 31 August 2024


def row(term: str, enrolment: str, on_roll: bool, born: dt.date | None, nc: str | None) -> dict:
    ht2 = 20.0 if term == "2025_autumn" else None
    values = (term, "S1", enrolment, on_roll, f"U{enrolment}", born, nc, "F", "WBRI", None)
    return dict(zip(SCHEMA, (*values, 50.0, ht2), strict=True))


def test_leavers_and_late_joiners_are_in_the_population_in_the_year_their_age_gives() -> None:
    enrolments = ibis.memtable(
        pd.DataFrame(
            [
                # Left in the autumn term: only the spring census's "no longer on roll" table,
                # which has no NC year.
                row("2025_spring", "leaver", False, Y7, None),
                # Joined after the summer census: only the autumn roll, next year's NC year.
                row("2025_autumn", "late", True, Y7, "8"),
                # A late joiner of Reception age: the autumn roll says Year 1; out by age.
                row("2025_autumn", "reception", True, RECEPTION, "1"),
                # On roll all year, recorded in a year other than their age's: age decides.
                row("2025_spring", "held_back", True, Y7, "6"),
                # No readable date of birth: the NC year the year's censuses record, spring's
                # first; on the autumn roll only, none (it is next year's), so left out.
                row("2025_spring", "no_dob", True, None, "9"),
                row("2025_summer", "no_dob", True, None, "9"),
                row("2025_autumn", "no_dob", True, None, "10"),
                row("2025_autumn", "no_dob_late", True, None, "10"),
                # An autumn leaver without a date of birth: the year they left in.
                row("2025_autumn", "no_dob_left", False, None, "11"),
            ]
        ),
        schema=SCHEMA,
    )
    codes = ibis.memtable(
        {
            "census_term": [],
            "laestab": [],
            "enrolment_id": [],
            "attendance_code": [],
            "sessions": [],
        },
        schema={
            "census_term": "string",
            "laestab": "string",
            "enrolment_id": "string",
            "attendance_code": "string",
            "sessions": "float64",
        },
    )
    schools = ibis.memtable({"laestab": ["S1"], "phase": ["Secondary"]})
    table = absence.enrolment_absence(enrolments, codes, schools, 2025)
    every = dict(zip(*table.execute()[["enrolment_id", "nc_year"]].T.values, strict=True))
    assert every == {
        "leaver": "7",
        "late": "7",
        "reception": "R",
        "held_back": "7",
        "no_dob": "9",
        "no_dob_late": None,
        "no_dob_left": "11",
    }
    headline = absence.headline_enrolments(table).execute()
    assert sorted(headline.enrolment_id) == ["held_back", "late", "leaver", "no_dob", "no_dob_left"]
    # Each in the phase of its school, against its own possible sessions.
    assert set(headline.phase) == {"Secondary"}
    possible = dict(zip(headline.enrolment_id, headline.sessions_possible, strict=True))
    assert possible == {
        "held_back": 50,
        "late": 70,
        "leaver": 50,
        "no_dob": 170,
        "no_dob_left": 70,
    }
