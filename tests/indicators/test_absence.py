"""Absence measures on hand-built enrolments, with answers worked out by hand."""

import datetime as dt

import ibis
import pytest

from cwsw.indicators import absence

ENROLMENT_SCHEMA = {
    "census_term": "string",
    "laestab": "string",
    "enrolment_id": "string",
    "upn": "string",
    "nc_year": "string",
    "sex": "string",
    "ethnicity": "string",
    "sen_provision": "string",
    "sessions_possible": "float64",
    "summer_ht2_sessions_possible": "float64",
    "birth_date": "date",
    "on_roll": "boolean",
}
ABSENCE_SCHEMA = {
    "census_term": "string",
    "laestab": "string",
    "enrolment_id": "string",
    "attendance_code": "string",
    "sessions": "float64",
}


# Dates of birth giving each NC year of 2024/25 by age (on 31 August 2024).
Y4, Y9, Y10, R = dt.date(2016, 3, 1), dt.date(2011, 3, 1), dt.date(2010, 3, 1), dt.date(2020, 3, 1)


def table(schema: dict, rows: list[tuple]) -> ibis.Table:
    return ibis.memtable([dict(zip(schema, r, strict=True)) for r in rows], schema=schema)


@pytest.fixture(scope="module")
def sources() -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    """The enrolment rows, session codes and schools the tests below read."""
    pupils = table(
        ENROLMENT_SCHEMA,
        [
            # e1: 100 possible sessions over the year, 10 missed -> exactly 10%: persistent.
            # Born 2016: aged 8 on 31 August 2024, NC year 4.
            ("2025_spring", "P1", "e1", "A", "4", "F", "WBRI", "N", 30, None, Y4, True),
            ("2025_summer", "P1", "e1", "A", "4", "F", "WBRI", "N", 30, None, Y4, True),
            # NC year 5 is next year's.
            ("2025_autumn", "P1", "e1", "A", "5", "F", "WBRI", "N", 20, 20, Y4, True),
            # e2: 200 possible, 100 missed -> 50%: severe (and persistent).
            ("2025_spring", "S1", "e2", "B", "9", "F", "WBRI", "N", 200, None, Y9, True),
            # e3: 100 possible, 9 missed -> 9%: neither.
            ("2025_spring", "S1", "e3", "C", "10", "F", "WBRI", "N", 100, None, Y10, True),
            # e4: reception year: outside compulsory school age, left out.
            ("2025_spring", "P1", "e4", "D", "R", "F", "WBRI", "N", 100, None, R, True),
            # e5: alternative provision: outside the headline population.
            ("2025_spring", "A1", "e5", "E", "10", "F", "WBRI", "N", 100, None, Y10, True),
            # e6: last year's census: not this academic year.
            ("2024_summer", "P1", "e6", "F", "3", "F", "WBRI", "N", 100, None, Y4, True),
        ],
    )
    absences = table(
        ABSENCE_SCHEMA,
        [
            ("2025_spring", "P1", "e1", "I", 4),  # authorised
            ("2025_summer", "P1", "e1", "N", 2),  # unauthorised
            ("2025_autumn", "P1", "e1", "g", 4),  # unauthorised, lower case in the file
            ("2025_autumn", "P1", "e1", "X", 7),  # not counted: not an absence
            ("2025_spring", "S1", "e2", "E", 60),
            ("2025_spring", "S1", "e2", "O", 40),
            ("2025_spring", "S1", "e3", "C1", 9),
            ("2025_spring", "P1", "e4", "I", 50),
            ("2025_spring", "A1", "e5", "I", 50),
            ("2024_summer", "P1", "e6", "I", 50),
        ],
    )
    schools = ibis.memtable(
        {
            "laestab": ["P1", "S1", "A1"],
            "phase": ["Primary", "Secondary", "Alternative provision"],
        }
    )
    return pupils, absences, schools


@pytest.fixture(scope="module")
def enrolments(sources: tuple[ibis.Table, ibis.Table, ibis.Table]) -> ibis.Table:
    pupils, absences, schools = sources
    return absence.headline_enrolments(absence.enrolment_absence(pupils, absences, schools, 2025))


def by_enrolment(table: ibis.Table) -> dict[str, tuple]:
    frame = table.execute()
    columns = ("sessions_possible", "authorised", "unauthorised")
    return {
        r.enrolment_id: tuple(float(getattr(r, c)) for c in columns) for r in frame.itertuples()
    }


def test_a_term_alone_takes_that_census_only(
    sources: tuple[ibis.Table, ibis.Table, ibis.Table],
) -> None:
    pupils, absences, schools = sources
    year = absence.enrolment_year(pupils, absences, 2025)

    def term(census_term: str) -> dict[str, tuple]:
        return by_enrolment(
            absence.enrolment_absence(
                pupils, absences, schools, 2025, terms=(census_term,), year=year
            )
        )

    # e1's spring term (the summer census): 30 possible, 2 unauthorised (N).
    assert term("2025_summer") == {"e1": (30, 0, 2)}
    # The summer term (the autumn census) with its second half term: 20 + 20; g counted, X not.
    assert term("2025_autumn") == {"e1": (40, 0, 4)}
    assert term("2025_spring")["e2"] == (200, 60, 40)


def test_the_year_read_whole_equals_the_year_read_by_term(
    sources: tuple[ibis.Table, ibis.Table, ibis.Table],
) -> None:
    pupils, absences, schools = sources
    whole = absence.enrolment_year(pupils, absences, 2025, by_term=False)
    by_term = absence.enrolment_year(pupils, absences, 2025)
    assert len(whole.parts) == 1 and len(by_term.parts) == 3

    def year(read: absence.EnrolmentYear) -> dict[str, tuple]:
        return by_enrolment(absence.enrolment_absence(pupils, absences, schools, 2025, year=read))

    assert year(whole) == year(by_term)
    assert year(whole)["e1"] == (100, 4, 6)
    with pytest.raises(ValueError, match="not by"):
        absence.enrolment_absence(
            pupils, absences, schools, 2025, terms=("2025_spring",), year=whole
        )


def test_only_the_details_asked_for_are_carried(
    sources: tuple[ibis.Table, ibis.Table, ibis.Table],
) -> None:
    pupils, absences, _schools = sources
    read = absence.enrolment_year(pupils, absences, 2025, details=("sex",))
    assert read.details == ("upn", "nc_year", "sex")
    assert {"ethnicity", "sen_provision"}.isdisjoint(read.table.columns)


def measure(enrolments: ibis.Table, name: str) -> tuple[float, float]:
    fn, _pct = absence.ABSENCE_MEASURES[name]
    parts = fn(enrolments)
    row = enrolments.aggregate(n=parts["numerator"], d=parts["denominator"]).execute().iloc[0]
    return float(row.n), float(row.d)


def test_population_is_this_years_compulsory_age_headline_phases(enrolments: ibis.Table) -> None:
    frame = enrolments.execute().set_index("enrolment_id")
    assert sorted(frame.index) == ["e1", "e2", "e3"]
    # Details as at the year's first census: e1 is in NC year 4, not the autumn's 5.
    assert frame.loc["e1", "nc_year"] == "4"
    assert frame.loc["e1", "sessions_possible"] == 100


def test_overall_authorised_unauthorised(enrolments: ibis.Table) -> None:
    assert measure(enrolments, "overall_absence") == (10 + 100 + 9, 400)
    assert measure(enrolments, "authorised_absence") == (4 + 60 + 9, 400)
    assert measure(enrolments, "unauthorised_absence") == (6 + 40, 400)


def test_persistent_and_severe_thresholds_are_inclusive(enrolments: ibis.Table) -> None:
    assert measure(enrolments, "persistent_absence") == (2, 3)
    assert measure(enrolments, "severe_absence") == (1, 3)
    assert measure(enrolments, "enrolments") == (3, 3)
