"""Each child's social care status on a date, in words: the DfE groups' hierarchy, one rule.

Highest first, as DfE's mutually exclusive groups at 31 March (:mod:`cwsw.cohort.groups`;
DfE, "Outcomes for children in need, including children looked after", methodology): looked
after (for 12 months or more, or under) > on a child protection plan > in need (a CIN episode
open, not a no-further-action referral) > previously had a social worker (a CIN episode, CP
plan or period of care begun by the date, none open on it). It is built from
:func:`~cwsw.cohort.groups.social_care_group_at` over the same timelines
(:mod:`cwsw.cohort.timelines`: the newest return's version of each episode wins), so a child's
status and their DfE group can never disagree. Ibis expressions, any backend.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.expr.types import Table

from cwsw.cohort.groups import social_care_group_at
from cwsw.cohort.timelines import status_spells
from cwsw.domain.calendar import reference_date
from cwsw.domain.labels import CINO, CLA_12_MONTHS, CLA_UNDER_12_MONTHS, CPPO

DEFINITION_VERSION = "status-1"

LOOKED_AFTER = "Looked after"
CP_PLAN = "Child protection plan"
CHILD_IN_NEED = "Child in need"
PREVIOUSLY = "Previously had a social worker"
# Highest first: a child is given the first that applies.
STATUS_PRIORITY = (LOOKED_AFTER, CP_PLAN, CHILD_IN_NEED, PREVIOUSLY)
# DfE's group at a date -> the status it is. Both CLA groups are "looked after": the 12
# months matter to DfE's outcome tables, not to whether a child is looked after now.
GROUP_STATUS = {
    CLA_12_MONTHS: LOOKED_AFTER,
    CLA_UNDER_12_MONTHS: LOOKED_AFTER,
    CPPO: CP_PLAN,
    CINO: CHILD_IN_NEED,
}


def social_care_status_at(
    cin_episode: Table,
    cp_plan: Table,
    cla_episode: Table,
    on: dt.date,
    *,
    include_nfa: bool = False,
) -> Table:
    """Each child's social care status on ``on`` (one row per child; see the module docstring).

    Columns: ``la_child_id``, ``social_care_status`` (one of :data:`STATUS_PRIORITY`). A child
    with no CIN episode, CP plan or period of care begun by ``on`` has no row.
    """
    groups = social_care_group_at(cin_episode, cp_plan, cla_episode, on, include_nfa=include_nfa)
    status = ibis.cases(
        *((groups.social_care_group == group, label) for group, label in GROUP_STATUS.items()),
        else_=ibis.null("string"),
    )
    current = groups.select("la_child_id", social_care_status=status)
    spells = status_spells(cin_episode, cp_plan, cla_episode, include_nfa=include_nfa)
    begun = spells.filter(spells.start_date <= ibis.literal(on)).select("la_child_id").distinct()
    previously = begun.anti_join(current, "la_child_id").select(
        "la_child_id", social_care_status=ibis.literal(PREVIOUSLY)
    )
    return current.union(previously)


def latest_reference_date(*returns: Table) -> dt.date | None:
    """31 March ending the newest collection year in ``returns`` (tables with a
    ``collection_year``, the year ending 31 March), or None if they are empty: the date of
    the latest data, when a status "now" is wanted."""
    years = [t.collection_year.max().execute() for t in returns]
    found = [int(year) for year in years if year is not None and year == year]  # not NaN
    return reference_date(max(found)) if found else None
