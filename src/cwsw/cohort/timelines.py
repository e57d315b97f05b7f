"""Status timelines: each child's spells of need, protection and care, from every return loaded.

A child appears in every yearly return in which an episode was open, so the same episode is
read several times; the newest return's version wins (its closure date may have been added).
All functions take and return Ibis expressions, so the logic runs on any Ibis backend.
"""

from __future__ import annotations

import ibis
from ibis import _
from ibis.expr.types import Table

DEFINITION_VERSION = "timelines-2"

# The statuses a timeline holds (docs/domain.md §2).
CIN = "CIN"
CP = "CP"
CLA = "CLA"
STATUSES = (CIN, CP, CLA)


def _newest_version(table: Table, key: list[str]) -> Table:
    """Keep the rows from the newest collection year for each ``key`` (latest return wins).

    Every row of that return is kept: a return can list two episodes with the same start
    (e.g. two referrals on one day), and picking one by row number was arbitrary, so builds
    of the same data could differ.
    """
    newest = table.collection_year.max().over(ibis.window(group_by=key))
    ranked = table.mutate(_newest_year=newest)
    return ranked.filter(ranked.collection_year == ranked._newest_year).drop("_newest_year")


def cin_spells(cin_episode: Table, *, include_nfa: bool = False) -> Table:
    """Children in need spells: one row per CIN episode (referral to closure).

    A referral with ``ReferralNFA`` true (no further action) does not make a child "in need" in
    DfE statistics (Children in need census guide), so it is left out unless asked for.
    Columns: ``la_child_id``, ``start_date``, ``end_date`` (null while open).
    """
    episodes = cin_episode.filter(_.referral_date.notnull())
    if not include_nfa:
        episodes = episodes.filter(~_.referral_nfa.fill_null(False))
    episodes = _newest_version(episodes, ["la_child_id", "referral_date"])
    return episodes.select(
        "la_child_id", start_date=_.referral_date, end_date=_.closure_date
    ).distinct()


def cp_spells(cp_plan: Table) -> Table:
    """Child protection plan spells (``CPPstartDate`` to ``CPPendDate``)."""
    plans = _newest_version(cp_plan.filter(_.start_date.notnull()), ["la_child_id", "start_date"])
    return plans.select("la_child_id", "start_date", "end_date").distinct()


def care_periods(cla_episode: Table) -> Table:
    """Periods of care: SSDA903 episodes chained end to start, merged into continuous periods.

    An episode that starts on or before the previous one's end continues the same period
    (a change of placement or legal status); a gap starts a new period of care.
    Columns: ``la_child_id``, ``start_date``, ``end_date`` (null while looked after).
    """
    episodes = _newest_version(
        cla_episode.filter(_.start_date.notnull()), ["la_child_id", "start_date"]
    )
    before = ibis.window(group_by="la_child_id", order_by="start_date", rows=(None, -1))
    up_to = ibis.window(group_by="la_child_id", order_by="start_date", rows=(None, 0))
    # The furthest end reached so far; an open episode (null end) keeps the period open.
    far_future = ibis.date(9999, 12, 31)
    reach = episodes.end_date.fill_null(far_future)
    with_prev = episodes.mutate(_prev_reach=reach.max().over(before))
    starts_period = with_prev._prev_reach.isnull() | (with_prev.start_date > with_prev._prev_reach)
    # A boolean's running sum counts the periods begun (PostgreSQL cannot cast boolean to
    # bigint, so no cast("int64") first).
    numbered = with_prev.mutate(_period=starts_period.sum().over(up_to), _reach=reach)
    periods = numbered.group_by(["la_child_id", "_period"]).aggregate(
        start_date=_.start_date.min(), _reach=_._reach.max()
    )
    return periods.select(
        "la_child_id",
        "start_date",
        end_date=ibis.ifelse(periods._reach == far_future, ibis.null("date"), periods._reach),
    )


def open_at(spells: Table, on: ibis.Value) -> ibis.ir.BooleanColumn:
    """True for a spell open on date ``on``: started on or before it and not ended by it.

    A spell that ends on the reference date is closed at that date, as in the CIN census,
    where a case closed on 31 March is not counted as open at 31 March.
    """
    return (spells.start_date <= on) & (spells.end_date.isnull() | (spells.end_date > on))


def overlaps(spells: Table, start: ibis.Value, end: ibis.Value) -> ibis.ir.BooleanColumn:
    """True for a spell open at any point between ``start`` and ``end`` inclusive.

    A spell closed on ``start`` (the first day of a collection year, 1 April) was open that
    day, so it counts in the window, as DfE counts a case closed on 1 April in that year's
    children in need; one begun on ``end`` counts too (docs/marts.md, "Cohorts").
    """
    return (spells.start_date <= end) & (spells.end_date.isnull() | (spells.end_date >= start))


def status_spells(
    cin_episode: Table, cp_plan: Table, cla_episode: Table, *, include_nfa: bool = False
) -> Table:
    """Every child's status timeline: CIN episodes, CP plans and periods of care, one table.

    Columns: ``la_child_id``, ``status`` (``CIN``, ``CP`` or ``CLA``), ``start_date``,
    ``end_date`` (null while open). NFA referrals are left out unless ``include_nfa``.
    """
    parts = (
        (CIN, cin_spells(cin_episode, include_nfa=include_nfa)),
        (CP, cp_spells(cp_plan)),
        (CLA, care_periods(cla_episode)),
    )
    tables = [
        spells.select(
            "la_child_id", status=ibis.literal(status), start_date="start_date", end_date="end_date"
        )
        for status, spells in parts
    ]
    return tables[0].union(tables[1]).union(tables[2])
