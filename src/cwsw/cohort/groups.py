"""Cohort definitions: named, versioned functions from status timelines to groups of children.

DfE's mutually exclusive social care groups at 31 March, highest first (docs/domain.md §2;
DfE, "Outcomes for children in need, including children looked after", methodology):
CLA (for outcomes, looked after continuously for 12 months or more) > CPPO (on a child
protection plan, not looked after) > CINO (in need, neither).
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis import _
from ibis.expr.types import Table

from cwsw.cohort.timelines import (
    CLA,
    CP,
    STATUSES,
    care_periods,
    cin_spells,
    cp_spells,
    open_at,
    overlaps,
    status_spells,
)
from cwsw.domain.calendar import collection_year_start
from cwsw.domain.labels import (
    CINO,
    CINO_IN_YEAR,
    CLA_12_MONTHS,
    CLA_IN_YEAR,
    CLA_UNDER_12_MONTHS,
    CPPO,
    CPPO_IN_YEAR,
)

DEFINITION_VERSION = "groups-2"

# The groups' names (and labels) are the shared vocabulary of cwsw.domain.labels.
__all__ = [
    "CINO",
    "CINO_IN_YEAR",
    "CLA_12_MONTHS",
    "CLA_IN_YEAR",
    "CLA_UNDER_12_MONTHS",
    "CPPO",
    "CPPO_IN_YEAR",
]

# Highest priority first: a child in several is counted in the first only.
GROUP_PRIORITY = (CLA_12_MONTHS, CLA_UNDER_12_MONTHS, CPPO, CINO)
IN_YEAR_PRIORITY = (CLA_IN_YEAR, CPPO_IN_YEAR, CINO_IN_YEAR)


def looked_after_at(cla_episode: Table, reference_date: dt.date) -> Table:
    """Children looked after on ``reference_date``, with whether for 12 months or more.

    "Looked after continuously for at least 12 months at 31 March" (DfE SSDA903 guidance, the
    OC2 cohort): the child's current period of care began on or before the same date a year
    earlier. Columns: ``la_child_id``, ``twelve_months``.
    """
    periods = care_periods(cla_episode)
    year_before = dt.date(reference_date.year - 1, reference_date.month, reference_date.day)
    current = periods.filter(open_at(periods, ibis.literal(reference_date)))
    return current.group_by("la_child_id").aggregate(
        twelve_months=(current.start_date <= ibis.literal(year_before)).any()
    )


def on_cp_plan_at(cp_plan: Table, reference_date: dt.date) -> Table:
    """Children with a child protection plan open on ``reference_date`` (``la_child_id``)."""
    spells = cp_spells(cp_plan)
    return spells.filter(open_at(spells, ibis.literal(reference_date))).select("la_child_id")


def in_need_at(cin_episode: Table, reference_date: dt.date, *, include_nfa: bool = False) -> Table:
    """Children with a CIN episode (not a no-further-action referral) open on the date."""
    spells = cin_spells(cin_episode, include_nfa=include_nfa)
    return spells.filter(open_at(spells, ibis.literal(reference_date))).select("la_child_id")


def social_care_group_at(
    cin_episode: Table,
    cp_plan: Table,
    cla_episode: Table,
    reference_date: dt.date,
    *,
    include_nfa: bool = False,
) -> Table:
    """Each child's DfE social care group at ``reference_date`` (one row per child).

    Columns: ``la_child_id``, ``social_care_group`` (one of :data:`GROUP_PRIORITY`).
    Children looked after for under 12 months are labelled as such: DfE's outcome tables
    leave them out of all three groups.
    """
    cla = looked_after_at(cla_episode, reference_date).select(
        "la_child_id",
        social_care_group=ibis.ifelse(_.twelve_months, CLA_12_MONTHS, CLA_UNDER_12_MONTHS),
    )
    cp = on_cp_plan_at(cp_plan, reference_date).mutate(social_care_group=ibis.literal(CPPO))
    cin = in_need_at(cin_episode, reference_date, include_nfa=include_nfa).mutate(
        social_care_group=ibis.literal(CINO)
    )
    return highest_group(cla.union(cp).union(cin).distinct(), "la_child_id")


def highest_group(
    memberships: Table, key: str, priority: tuple[str, ...] = GROUP_PRIORITY
) -> Table:
    """Keep each ``key``'s highest-priority ``social_care_group`` (DfE's hierarchy)."""
    rank = ibis.cases(
        *((memberships.social_care_group == g, i) for i, g in enumerate(priority)),
        else_=len(priority),
    )
    window = ibis.window(group_by=key, order_by=rank)
    ranked = memberships.mutate(_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._rank == 0).select(key, "social_care_group")


def social_care_group_in_year(
    cin_episode: Table,
    cp_plan: Table,
    cla_episode: Table,
    reference_date: dt.date,
    *,
    include_nfa: bool = False,
) -> Table:
    """Each child's highest social care status at any point in the collection year.

    The year runs from 1 April to the 31 March ``reference_date`` (DfE's "at any point in the
    year" groups): looked after at any point > on a CP plan at any point (not looked after)
    > in need at any point (neither). Columns: ``la_child_id``, ``social_care_group`` (one of
    :data:`IN_YEAR_PRIORITY`).
    """
    start = ibis.literal(collection_year_start(reference_date))
    end = ibis.literal(reference_date)
    spells = status_spells(cin_episode, cp_plan, cla_episode, include_nfa=include_nfa)
    label = ibis.cases(
        (spells.status == CLA, CLA_IN_YEAR),
        (spells.status == CP, CPPO_IN_YEAR),
        else_=CINO_IN_YEAR,
    )
    in_year = spells.filter(overlaps(spells, start, end)).select(
        "la_child_id", social_care_group=label
    )
    return highest_group(in_year.distinct(), "la_child_id", IN_YEAR_PRIORITY)


def ever_with_status(spells: Table, status: str, reference_date: dt.date, years: int = 6) -> Table:
    """Children with a ``status`` spell open at any time in the ``years`` collection years
    ending ``reference_date`` (from 1 April ``years`` years before). ``spells`` is
    :func:`~cwsw.cohort.timelines.status_spells`. Columns: ``la_child_id``."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    start = ibis.literal(dt.date(reference_date.year - years, 4, 1))
    chosen = spells.filter(spells.status == status)
    return (
        chosen.filter(overlaps(chosen, start, ibis.literal(reference_date)))
        .select("la_child_id")
        .distinct()
    )


def currently_open(spells: Table, as_of: dt.date, statuses: tuple[str, ...] = STATUSES) -> Table:
    """Children with an open case on ``as_of`` (a CIN episode, CP plan or period of care not
    closed by then; by default any of the three). Columns: ``la_child_id``."""
    chosen = spells.filter(spells.status.isin(statuses))
    return chosen.filter(open_at(chosen, ibis.literal(as_of))).select("la_child_id").distinct()


def cohort_ever_cin(
    cin_episode: Table, reference_date: dt.date, years: int = 6, *, include_nfa: bool = False
) -> Table:
    """Children in need at any point in the ``years`` collection years ending ``reference_date``.

    DfE's "Ever CIN – last 6 years" (Outcomes for children in need, 2019 review onwards): a CIN
    episode (not a no-further-action referral) open at any time from 1 April ``years`` years
    before to the reference 31 March. Columns: ``la_child_id``.
    """
    start = dt.date(reference_date.year - years, 4, 1)
    spells = cin_spells(cin_episode, include_nfa=include_nfa)
    return (
        spells.filter(overlaps(spells, ibis.literal(start), ibis.literal(reference_date)))
        .select("la_child_id")
        .distinct()
    )


def cohort_in_need_in_year(cin_episode: Table, reference_date: dt.date) -> Table:
    """Children in need at any point in the collection year ending ``reference_date``."""
    return cohort_ever_cin(cin_episode, reference_date, years=1)
