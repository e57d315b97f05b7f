"""What the child-level pages read from the warehouse: typed rows, each read once per build.

Every read is one query over a whole table (linked pupils or social care children only),
kept in the snapshot's facts (:mod:`cwsw.warehouse.snapshot`, ADR 0013): the pages then look
children up without a query. Each row type's fields are the columns it is read from, selected
by name (:func:`select`). Children are found by LA child ID through ``child_pupil_link``
(linkage, issue 4) and named in URLs and the audit log by their pseudonymous key only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from django.conf import settings

from cwsw.domain.calendar import census_term_sort_key
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.snapshot import Snapshot, open_snapshot, tables
from cwsw.web.children import keys

LINK_TABLE = "child_pupil_link"  # cwsw.linkage.run.CHILD_PUPIL_LINK
LINKED_UPNS = f"SELECT upn FROM {LINK_TABLE}"
LINKED_ENROLMENTS = f"SELECT enrolment_id FROM pupil_enrolment WHERE upn IN ({LINKED_UPNS})"
R = TypeVar("R", bound=NamedTuple)


@contextmanager
def open_warehouse(path: Path | None = None) -> Iterator[Snapshot]:
    """A read-only snapshot of the site's warehouse (or of ``path``) for one request.

    Raises :class:`~cwsw.warehouse.snapshot.WarehouseUnavailable` if it cannot be read now.
    """
    with open_snapshot(Path(path or settings.CWSW.warehouse_path)) as snapshot:
        yield snapshot


def select(
    warehouse: Warehouse,
    row: type[R],
    source: str,
    params: Sequence[Any] | None = None,
    **expressions: str,
) -> list[R]:
    """The rows of ``SELECT <row's fields> <source>`` as ``row``s.

    Each field is the column of its name, or ``expressions[field] AS field``: a row is built
    by name, so a column added or moved in the query cannot land in the wrong field.
    """
    fields: tuple[str, ...] = row._fields
    make: Callable[..., R] = row
    columns = ", ".join(
        f"{expressions[name]} AS {name}" if name in expressions else name for name in fields
    )
    found = warehouse.execute(f"SELECT {columns} {source}", params)
    return [make(**dict(zip(fields, values, strict=True))) for values in found]


def grouped(rows: Iterable[R], key: Callable[[R], object]) -> dict[str, tuple[R, ...]]:
    """``rows`` grouped by ``str(key(row))``, in their order."""
    found: dict[str, list[R]] = {}
    for row in rows:
        found.setdefault(str(key(row)), []).append(row)
    return {k: tuple(group) for k, group in found.items()}


def linked(snapshot: Snapshot, *needed: str) -> bool:
    """Whether the link table and ``needed`` tables are all there to read."""
    return {LINK_TABLE, *needed} <= tables(snapshot)


# --- the latest census, and who a child is ----------------------------------------------------


class Term(NamedTuple):
    census_term: str


def latest_term(snapshot: Snapshot) -> str | None:
    """The latest school census term loaded (``2025_autumn``), or None."""

    def read() -> str | None:
        if "pupil_enrolment" not in tables(snapshot):
            return None
        found = select(snapshot, Term, "FROM pupil_enrolment GROUP BY census_term")
        terms = [str(t.census_term) for t in found]
        return max(terms, key=census_term_sort_key) if terms else None

    return snapshot.facts.get("latest_term", read)


@dataclass(frozen=True)
class ChildScope:
    """What the permission rules need to know about a child (accounts/rules.py)."""

    la_child_id: str
    key: str
    upn: str | None
    current_schools: frozenset[str]


def find_child(snapshot: Snapshot, key: str) -> str | None:
    """The LA child ID whose pseudonymous key is ``key``, or None."""
    if not keys.is_key(key):
        return None
    return child_by_key(snapshot).get(key)


def child_scope(snapshot: Snapshot, la_child_id: str) -> ChildScope:
    upn = upn_by_child(snapshot).get(la_child_id)
    schools = schools_on_roll(snapshot).get(upn, frozenset()) if upn is not None else frozenset()
    return ChildScope(la_child_id, keys.child_key(la_child_id), upn, schools)


class ChildKey(NamedTuple):
    key: str
    la_child_id: str


def child_by_key(snapshot: Snapshot) -> dict[str, str]:
    """Every child's key -> LA child ID, computed in the warehouse once (not a child a page)."""

    def read() -> dict[str, str]:
        sources = [t for t in ("cin_child", "cla_child", LINK_TABLE) if t in tables(snapshot)]
        if not sources:
            return {}
        union = " UNION ".join(f"SELECT DISTINCT la_child_id FROM {t}" for t in sources)
        rows = select(
            snapshot,
            ChildKey,
            f"FROM ({union}) ORDER BY la_child_id",
            [keys.secret()],
            key=keys.SQL_KEY,
        )
        found: dict[str, str] = {}
        for row in rows:
            found.setdefault(str(row.key), str(row.la_child_id))
        return found

    return snapshot.facts.get("child_by_key", read)


class Link(NamedTuple):
    la_child_id: str
    upn: str


def links(snapshot: Snapshot) -> tuple[Link, ...]:
    """Every child linked to a pupil (``child_pupil_link``), in the table's order."""

    def read() -> tuple[Link, ...]:
        if LINK_TABLE not in tables(snapshot):
            return ()
        return tuple(select(snapshot, Link, f"FROM {LINK_TABLE}"))

    return snapshot.facts.get("links", read)


def upn_by_child(snapshot: Snapshot) -> dict[str, str]:
    def read() -> dict[str, str]:
        found: dict[str, str] = {}
        for link in links(snapshot):
            found.setdefault(str(link.la_child_id), str(link.upn))
        return found

    return snapshot.facts.get("upn_by_child", read)


def children_by_upn(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    def read() -> dict[str, tuple[str, ...]]:
        by_upn = grouped(links(snapshot), lambda link: link.upn)
        return {upn: tuple(str(link.la_child_id) for link in rows) for upn, rows in by_upn.items()}

    return snapshot.facts.get("children_by_upn", read)


class Place(NamedTuple):
    upn: str
    laestab: str


def schools_on_roll(snapshot: Snapshot) -> dict[str, frozenset[str]]:
    """The schools each linked pupil is on roll at in the latest census (UPN -> laestabs)."""

    def read() -> dict[str, frozenset[str]]:
        term = latest_term(snapshot)
        if term is None or not linked(snapshot):
            return {}
        rows = select(
            snapshot,
            Place,
            f"FROM (SELECT DISTINCT upn, laestab FROM pupil_enrolment "
            f"WHERE census_term = ? AND on_roll AND upn IN ({LINKED_UPNS}))",
            [term],
        )
        return {
            upn: frozenset(str(p.laestab) for p in places)
            for upn, places in grouped(rows, lambda p: p.upn).items()
        }

    return snapshot.facts.get("schools_by_upn", read)


class School(NamedTuple):
    laestab: str
    establishment_name: str


def school_name(snapshot: Snapshot, laestab: str) -> str:
    def read() -> dict[str, str]:
        if "establishment" not in tables(snapshot):
            return {}
        found: dict[str, str] = {}
        for school in select(
            snapshot, School, "FROM establishment WHERE establishment_name IS NOT NULL"
        ):
            found.setdefault(str(school.laestab), str(school.establishment_name))
        return found

    return snapshot.facts.get("school_names", read).get(laestab) or f"School {laestab}"


class Person(NamedTuple):
    """A child as the case management system's person extract names them."""

    la_child_id: str
    forename: str | None
    surname: str | None
    birth_date: dt.date | None
    sex: str | None


def people(snapshot: Snapshot, la_child_ids: Sequence[str]) -> list[Person]:
    """These children's rows of the person extract (one query for any number of them)."""
    if not la_child_ids or "person" not in tables(snapshot):
        return []
    marks = ", ".join("?" for _ in la_child_ids)
    return select(snapshot, Person, f"FROM person WHERE la_child_id IN ({marks})", la_child_ids)


class OnRoll(NamedTuple):
    laestab: str
    la_child_id: str


def linked_on_roll(snapshot: Snapshot) -> list[OnRoll]:
    """Linked children on roll in the latest census, by school then LA child ID (not kept:
    the demo accounts read it once)."""
    term = latest_term(snapshot)
    if term is None or not linked(snapshot):
        return []
    return select(
        snapshot,
        OnRoll,
        f"FROM pupil_enrolment e JOIN {LINK_TABLE} l ON l.upn = e.upn "
        "WHERE e.census_term = ? AND e.on_roll ORDER BY e.laestab, l.la_child_id",
        [term],
        laestab="e.laestab",
        la_child_id="l.la_child_id",
    )


# --- linked pupils' census records ------------------------------------------------------------
# The child-level pages show linked pupils only: their census rows, termly absence, exclusion
# counts and open free school meals periods are a few per pupil (megabytes at LA scale).


class Enrolment(NamedTuple):
    """A linked pupil's row of one school census."""

    upn: str
    census_term: str
    laestab: str
    enrolment_id: str
    forename: str | None
    surname: str | None
    birth_date: dt.date | None
    sex: str | None
    nc_year: str | None
    on_roll: bool | None
    sessions_possible: int | None
    sessions_authorised: int | None
    sessions_unauthorised: int | None
    sen_provision: str | None
    entry_date: dt.date | None
    leaving_date: dt.date | None


def linked_enrolments(snapshot: Snapshot) -> dict[str, tuple[Enrolment, ...]]:
    """Each linked pupil's census rows (UPN -> rows, in the order they were loaded)."""

    def read() -> dict[str, tuple[Enrolment, ...]]:
        if not linked(snapshot, "pupil_enrolment"):
            return {}
        rows = select(
            snapshot,
            Enrolment,
            f"FROM pupil_enrolment WHERE upn IN ({LINKED_UPNS}) ORDER BY upn, rowid",
        )
        return grouped(rows, lambda e: e.upn)

    return snapshot.facts.get("linked_enrolments", read)


def school_roll(snapshot: Snapshot) -> dict[str, tuple[Enrolment, ...]]:
    """Each school's linked pupils on roll in the latest census (laestab -> census rows)."""

    def read() -> dict[str, tuple[Enrolment, ...]]:
        term = latest_term(snapshot)
        on_roll = (
            row
            for rows in linked_enrolments(snapshot).values()
            for row in rows
            if row.census_term == term and row.on_roll
        )
        return grouped(on_roll, lambda e: e.laestab)

    return snapshot.facts.get("school_roll", read)


AbsenceKey = tuple[str, str, str]  # census term, laestab, enrolment ID


class TermlyAbsence(NamedTuple):
    census_term: str
    laestab: str
    enrolment_id: str
    absence_type: str
    sessions: int | None


def termly_absence(snapshot: Snapshot) -> dict[AbsenceKey, dict[str, int | None]]:
    """Sessions missed per enrolment and absence type (the termly block), linked pupils."""

    def read() -> dict[AbsenceKey, dict[str, int | None]]:
        found: dict[AbsenceKey, dict[str, int | None]] = {}
        if not linked(snapshot, "pupil_absence"):
            return found
        for row in select(
            snapshot,
            TermlyAbsence,
            f"FROM pupil_absence WHERE block = 'termly' AND enrolment_id IN ({LINKED_ENROLMENTS}) "
            "GROUP BY ALL",
            sessions="sum(sessions)",
        ):
            key = (str(row.census_term), str(row.laestab), str(row.enrolment_id))
            sessions = None if row.sessions is None else int(row.sessions)
            found.setdefault(key, {})[str(row.absence_type)] = sessions
        return found

    return snapshot.facts.get("termly_absence", read)


class ExclusionCount(NamedTuple):
    upn: str
    category: str
    exclusions: int


def exclusion_counts(snapshot: Snapshot) -> dict[tuple[str, str], int]:
    """Exclusion rows per linked pupil and category (each census repeats the year's)."""

    def read() -> dict[tuple[str, str], int]:
        if not linked(snapshot, "pupil_exclusion"):
            return {}
        rows = select(
            snapshot,
            ExclusionCount,
            f"""
            FROM pupil_exclusion x
            JOIN pupil_enrolment e ON e.census_term = x.census_term AND e.laestab = x.laestab
                AND e.enrolment_id = x.enrolment_id
            WHERE e.upn IN ({LINKED_UPNS}) GROUP BY ALL
            """,
            upn="e.upn",
            category="x.category",
            exclusions="count(*)",
        )
        return {(str(r.upn), str(r.category)): int(r.exclusions) for r in rows}

    return snapshot.facts.get("exclusion_counts", read)


class OpenFsm(NamedTuple):
    census_term: str
    laestab: str
    upn: str


def current_fsm(snapshot: Snapshot) -> frozenset[OpenFsm]:
    """(census term, laestab, UPN) of linked pupils with an open free school meals period."""

    def read() -> frozenset[OpenFsm]:
        if not linked(snapshot, "pupil_fsm"):
            return frozenset()
        rows = select(
            snapshot,
            OpenFsm,
            f"""
            FROM (SELECT DISTINCT f.census_term, f.laestab, e.upn FROM pupil_fsm f
            JOIN pupil_enrolment e ON e.census_term = f.census_term AND e.laestab = f.laestab
                AND e.enrolment_id = f.enrolment_id
            WHERE f.end_date IS NULL AND e.upn IN ({LINKED_UPNS}))
            """,
        )
        return frozenset(OpenFsm(str(r.census_term), str(r.laestab), str(r.upn)) for r in rows)

    return snapshot.facts.get("current_fsm", read)
