"""The school calendar: census days, academic years and the two orders of the terms."""

from __future__ import annotations

import datetime as dt

import pytest

from cwsw.domain import calendar

D = dt.date


@pytest.mark.parametrize(
    ("year", "day"), [(2025, D(2025, 1, 16)), (2024, D(2024, 1, 18)), (2026, D(2026, 1, 15))]
)
def test_spring_census_day_is_the_third_thursday_of_january(year: int, day: dt.date) -> None:
    assert calendar.spring_census_day(year) == day


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (D(2024, 9, 1), 2024),
        (D(2024, 8, 31), 2023),
        (D(2025, 3, 31), 2024),
        (D(2024, 12, 31), 2024),
    ],
)
def test_an_academic_year_starts_on_1_september(day: dt.date, start: int) -> None:
    assert calendar.academic_year_start(day) == start


def test_labels_of_years_as_dfe_writes_them() -> None:
    assert calendar.academic_year_label(2025) == "2024/25"
    assert calendar.academic_year_label(2000) == "1999/00"
    assert calendar.ees_time_period_label("202425") == "2024/25"
    assert calendar.ees_time_period_label("2025") == "2025"


def test_31_march_and_the_collection_year() -> None:
    assert calendar.reference_date(2025) == D(2025, 3, 31)
    assert calendar.collection_year_start(D(2025, 3, 31)) == D(2024, 4, 1)


def test_census_terms_sort_in_calendar_order_and_terms_in_academic_order() -> None:
    shuffled = ["2026_spring", "2025_autumn", "2025_spring", "2025_summer"]
    assert sorted(shuffled, key=calendar.census_term_sort_key) == [
        "2025_spring",
        "2025_summer",
        "2025_autumn",
        "2026_spring",
    ]
    assert sorted(["summer", "autumn", "spring"], key=calendar.academic_term_rank) == [
        "autumn",
        "spring",
        "summer",
    ]
    assert calendar.census_term_label("2025_autumn") == "Autumn 2025"


def test_a_years_absence_is_in_the_next_three_censuses() -> None:
    # 2024/25: autumn term in spring 2025, spring in summer 2025, summer in autumn 2025.
    terms = calendar.census_terms_for_absence(2025)
    assert terms == ("2025_spring", "2025_summer", "2025_autumn")
    carried = [calendar.ABSENCE_TERM[t.split("_")[1]] for t in terms]
    assert carried == list(calendar.ACADEMIC_TERMS)
