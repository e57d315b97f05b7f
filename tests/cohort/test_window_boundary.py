"""Episodes closed on the first or last day of a window (docs/marts.md, "Cohorts").

DfE counts an episode closed on the first day of a collection year (1 April) as open in that
year, since it was open that day; one closed on the 31 March reference date is not open at it
(the CIN census counts a case closed on 31 March as closed). The same for CIN episodes, CP
plans and periods of care, in every kind of window: the year (``in_year``), the last N years
(``ever``) and the day (``at``, ``open``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from cwsw.cohort.definitions import DEFAULT_COHORTS, CohortSpec, Timelines, child_members
from tests.cohort.test_groups import cin, spells

D = dt.date
REF = D(2025, 3, 31)
YEAR_START = D(2024, 4, 1)  # the collection year 2024/25 runs 1 April 2024 to 31 March 2025
SIX_YEARS_START = D(2019, 4, 1)  # the six collection years to 31 March 2025
DAY_BEFORE = dt.timedelta(days=1)
BY_NAME = {spec.name: spec for spec in DEFAULT_COHORTS}


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def timelines(status: str, *episodes: tuple[str, dt.date, dt.date | None]) -> Timelines:
    """Each ``(child, start, end)`` as a CIN episode, a CP plan or a care episode (the plans
    and care of a child also in need, so that the CIN census lists them)."""
    year = 2025
    as_cin = [(c, year, s, e if status == "CIN" else None, False) for c, s, e in episodes]
    as_spells = [(c, year, s, e) for c, s, e in episodes]
    return Timelines(
        cin(*as_cin),
        spells(*as_spells) if status == "CP" else spells(),
        spells(*as_spells) if status == "CLA" else spells(),
    )


def members(con: ibis.BaseBackend, spec: CohortSpec, data: Timelines) -> set[str]:
    return set(con.execute(child_members(spec, data, REF)).la_child_id)


@pytest.mark.parametrize("status", ["CIN", "CP", "CLA"])
def test_closed_on_the_first_day_of_the_year_is_in_the_year(
    con: ibis.BaseBackend, status: str
) -> None:
    data = timelines(
        status,
        ("closed_on_1_april", D(2023, 6, 1), YEAR_START),
        ("closed_the_day_before", D(2023, 6, 1), YEAR_START - DAY_BEFORE),
        ("begun_on_31_march", REF, None),
    )
    in_year = CohortSpec(
        "in year", "in_year", groups=BY_NAME["CIN at any point in the year"].groups
    )
    got = members(con, in_year, data)
    if status == "CIN":
        assert got == {"closed_on_1_april", "begun_on_31_march"}
    else:
        # The child's CIN episode (open, begun 2023) puts all three in the year in need; the
        # plan or care decides the group, tested below.
        assert got == {"closed_on_1_april", "closed_the_day_before", "begun_on_31_march"}
    higher = CohortSpec(
        "higher", "in_year", groups=("CPPO in year",) if status == "CP" else ("CLA in year",)
    )
    if status != "CIN":
        assert members(con, higher, data) == {"closed_on_1_april", "begun_on_31_march"}


@pytest.mark.parametrize("status", ["CIN", "CP", "CLA"])
def test_closed_on_the_first_day_of_the_six_years_is_ever(
    con: ibis.BaseBackend, status: str
) -> None:
    data = timelines(
        status,
        ("closed_on_1_april", D(2018, 6, 1), SIX_YEARS_START),
        ("closed_the_day_before", D(2018, 6, 1), SIX_YEARS_START - DAY_BEFORE),
    )
    ever = CohortSpec("ever", "ever", status=status, years=6)
    assert members(con, ever, data) == {"closed_on_1_april"}


@pytest.mark.parametrize("status", ["CIN", "CP", "CLA"])
def test_closed_on_the_reference_date_is_not_open_at_it(con: ibis.BaseBackend, status: str) -> None:
    data = timelines(
        status,
        ("closed_on_31_march", D(2023, 6, 1), REF),
        ("closed_the_day_after", D(2023, 6, 1), REF + DAY_BEFORE),
        ("begun_on_31_march", REF, None),
    )
    open_now = CohortSpec("open", "open", status=status)
    assert members(con, open_now, data) == {"closed_the_day_after", "begun_on_31_march"}
    group = {"CIN": "CINO", "CP": "CPPO", "CLA": "CLA 12 months"}[status]
    at = members(con, BY_NAME[group], data)
    # Begun on the reference date: in need or on a plan at it, but not looked after for 12
    # months (that is CLA under 12 months).
    want = {"closed_the_day_after"} | ({"begun_on_31_march"} if status != "CLA" else set())
    assert at == want
