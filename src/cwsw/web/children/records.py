"""A child's records for the profile: social care episodes, and a linked pupil's exclusions,
free school meals periods, SEN needs and key stage results. Typed rows, read once per build.

Each is a few rows per child: one query per table and process (all children's rows, kept in
the snapshot's facts, ADR 0013), not one per page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import NamedTuple

from cwsw.warehouse.snapshot import Snapshot, tables
from cwsw.web.children.reads import (
    LINKED_ENROLMENTS,
    LINKED_UPNS,
    Enrolment,
    R,
    grouped,
    linked,
    select,
)

# --- social care: the newest return's version of each episode ---------------------------------


class CinEpisode(NamedTuple):
    la_child_id: str
    collection_year: int | None
    referral_date: dt.date | None
    closure_date: dt.date | None
    primary_need: str | None
    referral_nfa: bool | None
    closure_reason: str | None


class CinPlan(NamedTuple):
    la_child_id: str
    collection_year: int | None
    start_date: dt.date | None
    end_date: dt.date | None


class Section47(NamedTuple):
    la_child_id: str
    collection_year: int | None
    start_date: dt.date | None
    icpc_date: dt.date | None
    icpc_not_required: bool | None


class CpPlan(NamedTuple):
    la_child_id: str
    collection_year: int | None
    start_date: dt.date | None
    end_date: dt.date | None
    latest_category: str | None


class ClaEpisode(NamedTuple):
    la_child_id: str
    collection_year: int | None
    start_date: dt.date | None
    end_date: dt.date | None
    legal_status: str | None
    placement: str | None


def _latest_per_start(
    snapshot: Snapshot, row: type[R], table: str, la_child_id: str, start: Callable[[R], object]
) -> list[R]:
    """One row per episode (by ``start``), from the latest return holding it (returns repeat
    open episodes), in the order each episode first appears."""
    if table not in tables(snapshot):
        return []
    by_child = snapshot.facts.get(
        f"{table}_by_child",
        lambda: grouped(
            select(snapshot, row, f"FROM {table} ORDER BY la_child_id, collection_year"),
            attrgetter("la_child_id"),
        ),
    )
    latest: dict[object, R] = {}
    for found in by_child.get(la_child_id, ()):
        latest[start(found)] = found  # a later return's version replaces an earlier one's
    return list(latest.values())


def cin_episodes(snapshot: Snapshot, la_child_id: str) -> list[CinEpisode]:
    return _latest_per_start(
        snapshot, CinEpisode, "cin_episode", la_child_id, lambda e: e.referral_date
    )


def cin_plans(snapshot: Snapshot, la_child_id: str) -> list[CinPlan]:
    return _latest_per_start(snapshot, CinPlan, "cin_plan", la_child_id, lambda e: e.start_date)


def section_47s(snapshot: Snapshot, la_child_id: str) -> list[Section47]:
    return _latest_per_start(snapshot, Section47, "cin_s47", la_child_id, lambda e: e.start_date)


def cp_plans(snapshot: Snapshot, la_child_id: str) -> list[CpPlan]:
    return _latest_per_start(snapshot, CpPlan, "cp_plan", la_child_id, lambda e: e.start_date)


def cla_episodes(snapshot: Snapshot, la_child_id: str) -> list[ClaEpisode]:
    return _latest_per_start(
        snapshot, ClaEpisode, "cla_episode", la_child_id, lambda e: e.start_date
    )


# --- a linked pupil's census records, by enrolment -------------------------------------------


class Exclusion(NamedTuple):
    enrolment_id: str
    start_date: dt.date | None
    category: str | None
    sessions: int | None
    laestab: str


class FsmPeriod(NamedTuple):
    enrolment_id: str
    start_date: dt.date | None
    end_date: dt.date | None


class SenNeed(NamedTuple):
    enrolment_id: str
    census_term: str
    laestab: str
    sen_type: str | None
    sen_type_rank: int | None


def of_enrolments(
    by_enrolment: dict[str, tuple[R, ...]], enrolments: Iterable[Enrolment]
) -> list[R]:
    """The rows of these enrolments (an enrolment ID may recur across terms: once each)."""
    ids = dict.fromkeys(str(e.enrolment_id) for e in enrolments)
    return [row for enrolment in ids for row in by_enrolment.get(enrolment, ())]


def _by_enrolment(snapshot: Snapshot, row: type[R], table: str) -> dict[str, tuple[R, ...]]:
    """Linked pupils' rows of ``table`` by enrolment ID, in the table's order."""

    def read() -> dict[str, tuple[R, ...]]:
        if not linked(snapshot, "pupil_enrolment", table):
            return {}
        rows = select(snapshot, row, f"FROM {table} WHERE enrolment_id IN ({LINKED_ENROLMENTS})")
        return grouped(rows, attrgetter("enrolment_id"))

    return snapshot.facts.get(f"{table}_by_enrolment", read)


def exclusions(snapshot: Snapshot) -> dict[str, tuple[Exclusion, ...]]:
    return _by_enrolment(snapshot, Exclusion, "pupil_exclusion")


def fsm_periods(snapshot: Snapshot) -> dict[str, tuple[FsmPeriod, ...]]:
    return _by_enrolment(snapshot, FsmPeriod, "pupil_fsm")


def sen_needs(snapshot: Snapshot) -> dict[str, tuple[SenNeed, ...]]:
    return _by_enrolment(snapshot, SenNeed, "pupil_sen_need")


# --- key stage results, by UPN ---------------------------------------------------------------


class Ks2Result(NamedTuple):
    upn: str
    year: int | None
    ks2_rwm_exp: bool | None


class Ks4Result(NamedTuple):
    upn: str
    year: int | None
    att8: float | None
    p8score: float | None
    l2basics_94: bool | None


def _by_upn(snapshot: Snapshot, row: type[R], table: str) -> dict[str, tuple[R, ...]]:
    """Linked pupils' rows of ``table`` by UPN, oldest year first."""

    def read() -> dict[str, tuple[R, ...]]:
        if not linked(snapshot, table):
            return {}
        rows = select(
            snapshot, row, f"FROM {table} WHERE upn IN ({LINKED_UPNS}) ORDER BY upn, year"
        )
        return grouped(rows, attrgetter("upn"))

    return snapshot.facts.get(f"{table}_by_upn", read)


def ks2_results(snapshot: Snapshot) -> dict[str, tuple[Ks2Result, ...]]:
    return _by_upn(snapshot, Ks2Result, "ks2_result")


def ks4_results(snapshot: Snapshot) -> dict[str, tuple[Ks4Result, ...]]:
    return _by_upn(snapshot, Ks4Result, "ks4_result")
