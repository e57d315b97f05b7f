"""Cohort definitions: named, versioned functions from status timelines to groups of children.

DfE's mutually exclusive social care groups at 31 March, highest first (DOMAIN.md §2;
DfE, "Outcomes for children in need, including children looked after", methodology):
CLA (for outcomes, looked after continuously for 12 months or more) > CPPO (on a child
protection plan, not looked after) > CINO (in need, neither).
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis import _
from ibis.expr.types import Table

from cwsw.cohort.timelines import care_periods, cin_spells, cp_spells, open_at, overlaps

DEFINITION_VERSION = "groups-1"

CLA_12_MONTHS = "CLA 12 months"
CLA_UNDER_12_MONTHS = "CLA under 12 months"
CPPO = "CPPO"
CINO = "CINO"

# Highest priority first: a child in several is counted in the first only.
GROUP_PRIORITY = (CLA_12_MONTHS, CLA_UNDER_12_MONTHS, CPPO, CINO)


def collection_year_start(reference_date: dt.date) -> dt.date:
    """1 April before the 31 March ``reference_date``: the start of its collection year."""
    return dt.date(reference_date.year - 1, 4, 1)


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


def in_need_at(cin_episode: Table, reference_date: dt.date) -> Table:
    """Children with a CIN episode (not a no-further-action referral) open on the date."""
    spells = cin_spells(cin_episode)
    return spells.filter(open_at(spells, ibis.literal(reference_date))).select("la_child_id")


def social_care_group_at(
    cin_episode: Table, cp_plan: Table, cla_episode: Table, reference_date: dt.date
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
    cin = in_need_at(cin_episode, reference_date).mutate(social_care_group=ibis.literal(CINO))
    return highest_group(cla.union(cp).union(cin).distinct(), "la_child_id")


def highest_group(memberships: Table, key: str) -> Table:
    """Keep each ``key``'s highest-priority ``social_care_group`` (DfE's hierarchy)."""
    rank = ibis.cases(
        *((memberships.social_care_group == g, i) for i, g in enumerate(GROUP_PRIORITY)),
        else_=len(GROUP_PRIORITY),
    )
    window = ibis.window(group_by=key, order_by=rank)
    ranked = memberships.mutate(_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._rank == 0).select(key, "social_care_group")


def cohort_ever_cin(cin_episode: Table, reference_date: dt.date, years: int = 6) -> Table:
    """Children in need at any point in the ``years`` collection years ending ``reference_date``.

    DfE's "Ever CIN – last 6 years" (Outcomes for children in need, 2019 review onwards): a CIN
    episode (not a no-further-action referral) open at any time from 1 April ``years`` years
    before to the reference 31 March. Columns: ``la_child_id``.
    """
    start = dt.date(reference_date.year - years, 4, 1)
    spells = cin_spells(cin_episode)
    return (
        spells.filter(overlaps(spells, ibis.literal(start), ibis.literal(reference_date)))
        .select("la_child_id")
        .distinct()
    )


def cohort_in_need_in_year(cin_episode: Table, reference_date: dt.date) -> Table:
    """Children in need at any point in the collection year ending ``reference_date``."""
    return cohort_ever_cin(cin_episode, reference_date, years=1)
