"""The school and social care calendar: academic years, terms, census days, 31 March.

Two orders of the same three seasons matter, and code must say which it means:

- an **academic year** (1 September to 31 August) runs autumn, spring, summer
  (:data:`ACADEMIC_TERMS`);
- a **census term** is named by the calendar year of its census and its season
  (``2025_spring``), so within a calendar year the censuses run spring, summer, autumn
  (:data:`CENSUS_SEASONS`); the autumn 2025 census belongs to academic year 2025/26.

Absence is collected a term in arrears: the spring census carries the autumn term's absence,
summer the spring term's and autumn the summer term's (DfE, school census guide; see
``docs/domain.md``). Social care status at 31 March of year Y pairs with the academic year
ending in summer Y (DfE, "Outcomes for children in need, including children looked after").
"""

from __future__ import annotations

import datetime as dt

# The terms of an academic year, in order.
ACADEMIC_TERMS = ("autumn", "spring", "summer")
# The school censuses of one calendar year, in order.
CENSUS_SEASONS = ("spring", "summer", "autumn")
# Census season -> the academic term whose absence it carries (a term in arrears).
ABSENCE_TERM = {"spring": "autumn", "summer": "spring", "autumn": "summer"}


def academic_year_start(day: dt.date) -> int:
    """The calendar year in which the academic year of ``day`` starts (on 1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def academic_year_label(academic_year_end: int) -> str:
    """``2025`` -> ``"2024/25"``, as DfE writes academic years."""
    return f"{academic_year_end - 1}/{str(academic_year_end)[-2:]}"


def ees_time_period_label(time_period: str) -> str:
    """EES's ``202425`` -> ``2024/25``; a reporting year (``2025``) is kept as it is."""
    if len(time_period) == 6 and time_period.isdigit():
        return f"{time_period[:4]}/{time_period[4:]}"
    return time_period


def reference_date(academic_year_end: int) -> dt.date:
    """31 March of the academic year: the date social care status is taken at."""
    return dt.date(academic_year_end, 3, 31)


def collection_year_start(reference: dt.date) -> dt.date:
    """1 April before the 31 March ``reference``: the start of its collection year."""
    return dt.date(reference.year - 1, 4, 1)


def spring_census_day(academic_year_end: int) -> dt.date:
    """The spring (January) census day: the third Thursday of January (DfE census guide)."""
    return _nth_thursday(academic_year_end, 1, 3)


def _nth_thursday(year: int, month: int, nth: int) -> dt.date:
    first = dt.date(year, month, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(weeks=nth - 1)


def census_day(census_term: str) -> dt.date:
    """The census day of a census term named as the warehouse names it (``2025_spring``):
    the third Thursday of January (spring) and of May (summer), the first Thursday of
    October (autumn) (DfE, "School census guide")."""
    year_text, _, season = census_term.partition("_")
    month, nth = {"spring": (1, 3), "summer": (5, 3), "autumn": (10, 1)}[season]
    return _nth_thursday(int(year_text), month, nth)


# A year group is born 1 September to 31 August: age is taken on 31 August, and a pupil
# aged 4 then is in Reception (NC year 0), aged 5 in Year 1 ... aged 15 in Year 11.
YEAR_GROUP_FIRST_BIRTH_MONTH = 9
RECEPTION_AGE = 4


def nc_year_from_date_of_birth(date_of_birth: dt.date, academic_year_end: int) -> int:
    """The national curriculum year a pupil's age puts them in, in an academic year.

    The pupil's age on 31 August before the year starts, less 4: 0 is Reception, 1 to 11
    are Years 1 to 11 (ages 5 to 15, compulsory school age), negative numbers nursery.
    Source: DfE, "Pupil absence in schools in England" methodology (explore-education-
    statistics, "Pupil absence statistics: methodology", explore-education-statistics.service.
    gov.uk/methodology/pupil-absence-in-schools-in-england): absence statistics cover pupils
    of compulsory school age, aged 5 to 15 at the start of the academic year, i.e. on 31
    August (as DfE's school performance tables put it, "pupils aged 5 to 15 on 31 August");
    the school census takes every age "as at 31 August" before the year (DfE, school census
    guide). The recorded NC year is not used: a leaver's "no longer on roll" row has none,
    and the autumn census records the next year's for pupils still on roll.
    """
    age = academic_year_end - 1 - date_of_birth.year
    if date_of_birth.month >= YEAR_GROUP_FIRST_BIRTH_MONTH:
        age -= 1  # not yet had this calendar year's birthday by 31 August
    return age - RECEPTION_AGE


def census_term(year: int, season: str) -> str:
    """The census term's name: ``2025_spring``."""
    return f"{year}_{season}"


def census_terms_for_absence(academic_year_end: int) -> tuple[str, str, str]:
    """The census terms carrying a year's absence, a term in arrears, in academic order.

    Academic year 2024/25 (``academic_year_end`` 2025): autumn term in the spring 2025
    census, spring term in summer 2025, the summer term's two halves in autumn 2025.
    """
    y = academic_year_end
    return (census_term(y, "spring"), census_term(y, "summer"), census_term(y, "autumn"))


def census_season_rank(season: str) -> int:
    """0, 1, 2 for spring, summer, autumn; 9 for anything else (sorts last)."""
    return CENSUS_SEASONS.index(season) if season in CENSUS_SEASONS else 9


def academic_term_rank(term: str) -> int:
    """0, 1, 2 for autumn, spring, summer; 9 for anything else (sorts last)."""
    return ACADEMIC_TERMS.index(term) if term in ACADEMIC_TERMS else 9


def census_term_sort_key(term: str) -> tuple[int, int, str]:
    """``2025_spring`` < ``2025_summer`` < ``2025_autumn`` < ``2026_spring``."""
    year, _, season = term.partition("_")
    return (int(year) if year.isdigit() else 0, census_season_rank(season), term)


def census_term_label(term: str) -> str:
    """``2025_spring`` -> ``Spring 2025``."""
    year, _, season = term.partition("_")
    return f"{season.capitalize()} {year}" if season else term
