"""Child-level reads of the warehouse for the school page, the caseload and the child profile.

Read-only (the warehouse is opened ``read_only``), plain functions over a :class:`Warehouse`
usable without a request. Children are found by LA child ID through ``child_pupil_link``
(linkage, issue 4) and named in URLs and the audit log by their pseudonymous key only.

Fast enough for many users (ADR 0013): each process keeps the warehouse open while pages are
asked for (:func:`open_warehouse`), and what the pages read about linked and social care
children is read once per built warehouse (:func:`fact`), not scanned for on every page.

Social care status here is a child's position in the latest return that holds them: an open
CLA episode, else an open CP plan, else an open CIN episode (not NFA), else "previously". It
is a page label, not a DfE cohort: the cohorts themselves live in :mod:`cwsw.cohort`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from django.conf import settings

from cwsw.warehouse.connection import Warehouse
from cwsw.web.children import keys

LINK_TABLE = "child_pupil_link"  # cwsw.linkage.run.CHILD_PUPIL_LINK
TERM_ORDER = {"spring": 0, "summer": 1, "autumn": 2}

LOOKED_AFTER = "Looked after"
CP_PLAN = "Child protection plan"
CHILD_IN_NEED = "Child in need"
PREVIOUSLY = "Previously had a social worker"


class WarehouseUnavailable(RuntimeError):
    """The warehouse has not been built, or is being written by a load right now."""


# Opening a DuckDB file reads its catalogue (tens of milliseconds at LA scale), yet a second
# connection to a file the process already has open is nearly free: so each process keeps one
# read-only "anchor" connection per file while pages are being asked for, and lets go of it
# HOLD_SECONDS after the last one, so that a load can take the file's write lock (ADR 0013).
HOLD_SECONDS = 2.0
Signature = tuple[int, int, int]  # inode, modification time (ns), size: a new build changes it


@dataclass
class _Anchor:
    signature: Signature
    connection: Warehouse
    last_used: float


_anchors: dict[str, _Anchor] = {}
_anchors_lock = threading.Lock()
_release_timer: threading.Timer | None = None
# Facts read once per built warehouse (tables, latest term, children's keys and statuses,
# school names): the warehouse cannot change under a reader, and a rebuild changes the signature.
_facts: dict[str, tuple[Signature, dict[str, Any]]] = {}


def _signature(path: Path) -> Signature:
    found = path.stat()
    return (found.st_ino, found.st_mtime_ns, found.st_size)


def _hold(path: Path, signature: Signature) -> dict[str, Any]:
    """Keep (or open) the process's anchor on ``path``; return its facts cache."""
    global _release_timer
    key = str(path)
    with _anchors_lock:
        anchor = _anchors.get(key)
        if anchor is not None and anchor.signature != signature:
            anchor.connection.close()  # a rebuilt file: open connections keep the old one
            anchor = None
        if anchor is None:
            anchor = _Anchor(signature, Warehouse.open(path, read_only=True), time.monotonic())
            # Pages run small queries side by side: one thread each costs less CPU than
            # DuckDB's pool handing each one round (ADR 0013). A setting of the database.
            anchor.connection.execute("SET threads = 1")
            _anchors[key] = anchor
        anchor.last_used = time.monotonic()
        if _release_timer is None:
            _release_timer = _release_later()
        known = _facts.get(key)
        if known is None or known[0] != signature:
            known = (signature, {})
            _facts[key] = known
        return known[1]


def _release_idle() -> None:
    """Close the anchors no page has used for HOLD_SECONDS; check again when the next one is due."""
    global _release_timer
    with _anchors_lock:
        now = time.monotonic()
        for key, anchor in list(_anchors.items()):
            if now - anchor.last_used >= HOLD_SECONDS:
                anchor.connection.close()
                del _anchors[key]
        if _anchors:
            # Wake when the first remaining anchor falls due, not a whole hold later.
            due = min(anchor.last_used for anchor in _anchors.values()) + HOLD_SECONDS
            _release_timer = _release_later(max(due - now, 0.01))
        else:
            _release_timer = None


def _release_later(delay: float | None = None) -> threading.Timer:
    timer = threading.Timer(HOLD_SECONDS if delay is None else delay, _release_idle)
    timer.daemon = True  # never keeps a process alive
    timer.start()
    return timer


def release_anchors() -> None:
    """Let go of every anchor now, and of the timer (tests start and end with none held)."""
    global _release_timer
    with _anchors_lock:
        if _release_timer is not None:
            _release_timer.cancel()
            _release_timer = None
        for anchor in _anchors.values():
            anchor.connection.close()
        _anchors.clear()


@contextmanager
def open_warehouse(path: Path | None = None) -> Iterator[Warehouse]:
    """A read-only connection to the warehouse for one request (one thread)."""
    target = Path(path or settings.CWSW.warehouse_path)
    try:
        signature = _signature(target)
    except FileNotFoundError:
        raise WarehouseUnavailable("No data has been loaded yet") from None
    try:
        facts = _hold(target, signature)
        warehouse = Warehouse.open(target, read_only=True)
    except Exception as error:  # DuckDB's lock error while a load writes the file
        raise WarehouseUnavailable("The data is being updated: try again in a few minutes") from (
            error
        )
    setattr(warehouse, FACTS, facts)  # not an attribute of the class
    with warehouse:
        yield warehouse


FACTS = "_web_facts"
T = TypeVar("T")


def fact(warehouse: Warehouse, name: str, read: Callable[[], T]) -> T:
    """``read()`` once per built warehouse (per opened one, outside :func:`open_warehouse`)."""
    facts: dict[str, Any] | None = getattr(warehouse, FACTS, None)
    if facts is None:
        facts = {}
        setattr(warehouse, FACTS, facts)  # not an attribute of the class
    if name not in facts:
        facts[name] = read()
    found: T = facts[name]
    return found


def tables(warehouse: Warehouse) -> frozenset[str]:
    """The warehouse's tables."""
    return fact(
        warehouse,
        "tables",
        lambda: frozenset(
            str(row[0])
            for row in warehouse.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ),
    )


def term_sort_key(term: str) -> tuple[int, int, str]:
    """``2025_spring`` < ``2025_summer`` < ``2025_autumn`` < ``2026_spring``."""
    year, _, season = term.partition("_")
    return (int(year) if year.isdigit() else 0, TERM_ORDER.get(season, 9), term)


def term_label(term: str) -> str:
    year, _, season = term.partition("_")
    return f"{season.capitalize()} {year}" if season else term


def latest_term(warehouse: Warehouse) -> str | None:
    return fact(warehouse, "latest_term", lambda: _read_latest_term(warehouse))


def _read_latest_term(warehouse: Warehouse) -> str | None:
    if "pupil_enrolment" not in tables(warehouse):
        return None
    terms = [
        str(r[0]) for r in warehouse.execute("SELECT DISTINCT census_term FROM pupil_enrolment")
    ]
    return max(terms, key=term_sort_key) if terms else None


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


# --- who a child is, and where they are on roll -------------------------------------------


@dataclass(frozen=True)
class ChildScope:
    """What the permission rules need to know about a child (accounts/rules.py)."""

    la_child_id: str
    key: str
    upn: str | None
    current_schools: frozenset[str]


def find_child(warehouse: Warehouse, key: str) -> str | None:
    """The LA child ID whose pseudonymous key is ``key``, or None."""
    if not keys.is_key(key):
        return None
    return fact(warehouse, "child_by_key", lambda: _read_child_keys(warehouse)).get(key)


def _read_child_keys(warehouse: Warehouse) -> dict[str, str]:
    """Every child's key, computed in the warehouse once (not a child at a time per page)."""
    present = tables(warehouse)
    sources = [t for t in ("cin_child", "cla_child", LINK_TABLE) if t in present]
    if not sources:
        return {}
    union = " UNION ".join(f"SELECT DISTINCT la_child_id FROM {t}" for t in sources)
    rows = warehouse.execute(
        f"SELECT {keys.SQL_KEY} AS key, la_child_id FROM ({union}) ORDER BY la_child_id",
        [keys.secret()],
    )
    found: dict[str, str] = {}
    for key, child in rows:
        found.setdefault(str(key), str(child))
    return found


def linked_upn(warehouse: Warehouse, la_child_id: str) -> str | None:
    return fact(warehouse, "upn_by_child", lambda: _read_links(warehouse)).get(la_child_id)


def _read_links(warehouse: Warehouse) -> dict[str, str]:
    if LINK_TABLE not in tables(warehouse):
        return {}
    found: dict[str, str] = {}
    for child, upn in warehouse.execute(f"SELECT la_child_id, upn FROM {LINK_TABLE}"):
        found.setdefault(str(child), str(upn))
    return found


def child_scope(warehouse: Warehouse, la_child_id: str) -> ChildScope:
    upn = linked_upn(warehouse, la_child_id)
    schools: frozenset[str] = frozenset()
    if upn is not None:
        schools = fact(warehouse, "schools_by_upn", lambda: _read_schools_on_roll(warehouse)).get(
            upn, frozenset()
        )
    return ChildScope(la_child_id, keys.child_key(la_child_id), upn, schools)


def _read_schools_on_roll(warehouse: Warehouse) -> dict[str, frozenset[str]]:
    """The schools each linked pupil is on roll at in the latest census."""
    term = latest_term(warehouse)
    if term is None or LINK_TABLE not in tables(warehouse):
        return {}
    found: dict[str, set[str]] = {}
    for upn, laestab in warehouse.execute(
        f"SELECT DISTINCT e.upn, e.laestab FROM pupil_enrolment e "
        f"WHERE e.census_term = ? AND e.on_roll AND e.upn IN (SELECT upn FROM {LINK_TABLE})",
        [term],
    ):
        found.setdefault(str(upn), set()).add(str(laestab))
    return {upn: frozenset(schools) for upn, schools in found.items()}


# --- linked pupils' census records, read once per built warehouse ---------------------------
# The child-level pages show linked pupils only: their census rows, termly absence, exclusion
# counts and open free school meals periods are a few per pupil (megabytes at LA scale), so
# each process reads them once rather than scanning the census tables on every page.


class Enrolment(NamedTuple):
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


def linked_enrolments(warehouse: Warehouse) -> dict[str, tuple[Enrolment, ...]]:
    """Each linked pupil's census rows (UPN -> rows, in the order they were loaded)."""
    return fact(warehouse, "linked_enrolments", lambda: _read_linked_enrolments(warehouse))


def _read_linked_enrolments(warehouse: Warehouse) -> dict[str, tuple[Enrolment, ...]]:
    if "pupil_enrolment" not in tables(warehouse) or LINK_TABLE not in tables(warehouse):
        return {}
    found: dict[str, list[Enrolment]] = {}
    for upn, *row in warehouse.execute(
        f"SELECT upn, {', '.join(Enrolment._fields)} FROM pupil_enrolment "
        f"WHERE upn IN (SELECT upn FROM {LINK_TABLE}) ORDER BY upn, rowid"
    ):
        found.setdefault(str(upn), []).append(Enrolment(*row))
    return {upn: tuple(rows) for upn, rows in found.items()}


def _children_by_upn(warehouse: Warehouse) -> dict[str, tuple[str, ...]]:
    def read() -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        if LINK_TABLE in tables(warehouse):
            for child, upn in warehouse.execute(f"SELECT la_child_id, upn FROM {LINK_TABLE}"):
                found.setdefault(str(upn), []).append(str(child))
        return {upn: tuple(children) for upn, children in found.items()}

    return fact(warehouse, "children_by_upn", read)


AbsenceKey = tuple[str, str, str]  # census term, laestab, enrolment ID


def _termly_absence(warehouse: Warehouse) -> dict[AbsenceKey, dict[str, int | None]]:
    """Sessions missed per enrolment and absence type (the termly block), linked pupils."""

    def read() -> dict[AbsenceKey, dict[str, int | None]]:
        found: dict[AbsenceKey, dict[str, int | None]] = {}
        if "pupil_absence" not in tables(warehouse) or LINK_TABLE not in tables(warehouse):
            return found
        for term, laestab, enrolment, kind, sessions in warehouse.execute(
            "SELECT census_term, laestab, enrolment_id, absence_type, sum(sessions) "
            "FROM pupil_absence WHERE block = 'termly' AND enrolment_id IN ("
            "SELECT enrolment_id FROM pupil_enrolment "
            f"WHERE upn IN (SELECT upn FROM {LINK_TABLE})) GROUP BY ALL"
        ):
            key = (str(term), str(laestab), str(enrolment))
            found.setdefault(key, {})[str(kind)] = None if sessions is None else int(sessions)
        return found

    return fact(warehouse, "termly_absence", read)


def _exclusion_counts(warehouse: Warehouse) -> dict[tuple[str, str], int]:
    """Exclusion rows per linked pupil and category (each census repeats the year's)."""

    def read() -> dict[tuple[str, str], int]:
        if "pupil_exclusion" not in tables(warehouse) or LINK_TABLE not in tables(warehouse):
            return {}
        rows = warehouse.execute(
            f"""
            SELECT e.upn, x.category, count(*) FROM pupil_exclusion x
            JOIN pupil_enrolment e ON e.census_term = x.census_term AND e.laestab = x.laestab
                AND e.enrolment_id = x.enrolment_id
            WHERE e.upn IN (SELECT upn FROM {LINK_TABLE}) GROUP BY ALL
            """
        )
        return {(str(u), str(c)): int(n) for u, c, n in rows}

    return fact(warehouse, "exclusion_counts", read)


def _current_fsm(warehouse: Warehouse) -> frozenset[tuple[str, str, str]]:
    """(census term, laestab, UPN) of linked pupils with an open free school meals period."""

    def read() -> frozenset[tuple[str, str, str]]:
        if "pupil_fsm" not in tables(warehouse) or LINK_TABLE not in tables(warehouse):
            return frozenset()
        rows = warehouse.execute(
            f"""
            SELECT DISTINCT f.census_term, f.laestab, e.upn FROM pupil_fsm f
            JOIN pupil_enrolment e ON e.census_term = f.census_term AND e.laestab = f.laestab
                AND e.enrolment_id = f.enrolment_id
            WHERE f.end_date IS NULL AND e.upn IN (SELECT upn FROM {LINK_TABLE})
            """
        )
        return frozenset((str(t), str(s), str(u)) for t, s, u in rows)

    return fact(warehouse, "current_fsm", read)


def _school_roll(warehouse: Warehouse) -> dict[str, tuple[tuple[str, Enrolment], ...]]:
    """Each school's linked pupils on roll in the latest census: laestab -> (UPN, row)."""

    def read() -> dict[str, tuple[tuple[str, Enrolment], ...]]:
        term = latest_term(warehouse)
        found: dict[str, list[tuple[str, Enrolment]]] = {}
        for upn, rows in linked_enrolments(warehouse).items():
            for row in rows:
                if row.census_term == term and row.on_roll:
                    found.setdefault(str(row.laestab), []).append((upn, row))
        return {school: tuple(pupils) for school, pupils in found.items()}

    return fact(warehouse, "school_roll", read)


# --- social care status --------------------------------------------------------------------


STATUS_CHECKS = (
    (LOOKED_AFTER, "cla_episode", "end_date IS NULL"),
    (CP_PLAN, "cp_plan", "end_date IS NULL"),
    (CHILD_IN_NEED, "cin_episode", "closure_date IS NULL AND NOT coalesce(referral_nfa, false)"),
)


def statuses(warehouse: Warehouse, la_child_ids: Sequence[str]) -> dict[str, str]:
    """Each child's social care status label (see the module docstring)."""
    status = fact(warehouse, "status_by_child", lambda: _read_statuses(warehouse))
    return {child: status.get(child, PREVIOUSLY) for child in la_child_ids}


def _read_statuses(warehouse: Warehouse) -> dict[str, str]:
    """The label of every child with an open episode; the others are "previously"."""
    present = tables(warehouse)
    found: dict[str, str] = {}
    for label, table, still_open in STATUS_CHECKS:
        if table not in present:
            continue
        # Open in the latest return of that kind: an older return's open episode closed later.
        rows = warehouse.execute(
            f"SELECT DISTINCT la_child_id FROM {table} "
            f"WHERE collection_year = (SELECT max(collection_year) FROM {table}) "
            f"AND {still_open}"
        )
        for (child,) in rows:
            found.setdefault(str(child), label)
    return found


# --- the DSL's page --------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolPupil:
    key: str
    forename: str
    surname: str
    birth_date: dt.date | None
    year_group: str
    status: str
    attendance: str  # "92.5" or "x"
    suspensions: int
    permanent_exclusions: int
    sen_provision: str
    fsm: bool


@dataclass(frozen=True)
class SchoolPage:
    laestab: str
    school_name: str
    term: str | None
    pupils: tuple[SchoolPupil, ...]


def school_name(warehouse: Warehouse, laestab: str) -> str:
    names = fact(warehouse, "school_names", lambda: _read_school_names(warehouse))
    return names.get(laestab) or f"School {laestab}"


def _read_school_names(warehouse: Warehouse) -> dict[str, str]:
    if "establishment" not in tables(warehouse):
        return {}
    found: dict[str, str] = {}
    for laestab, name in warehouse.execute(
        "SELECT laestab, establishment_name FROM establishment WHERE establishment_name IS NOT NULL"
    ):
        found.setdefault(str(laestab), str(name))
    return found


def _rate(possible: int | None, absent: int | None) -> str:
    if not possible:
        return "x"
    return f"{100 * (possible - (absent or 0)) / possible:.1f}"


SEN_LABELS = {"K": "SEN support", "E": "EHC plan", "N": "No SEN", "": "Not recorded"}


def school_pupils(warehouse: Warehouse, laestab: str, search: str = "") -> SchoolPage:
    """Pupils on roll at ``laestab`` in the latest census who have or have had a social worker."""
    term = latest_term(warehouse)
    name = school_name(warehouse, laestab)
    if term is None or LINK_TABLE not in tables(warehouse):
        return SchoolPage(laestab, name, term, ())
    children = _children_by_upn(warehouse)
    rows = [
        (child, upn, row)
        for upn, row in _school_roll(warehouse).get(laestab, ())
        for child in children.get(upn, ())
    ]
    # Surname, forename (missing ones last, as SQL sorts them), then LA child ID.
    rows.sort(
        key=lambda r: (
            r[2].surname is None,
            r[2].surname or "",
            r[2].forename is None,
            r[2].forename or "",
            r[0],
        )
    )
    wanted = search.strip().casefold()
    if wanted:
        rows = [
            r for r in rows if wanted in f"{r[2].forename or ''} {r[2].surname or ''}".casefold()
        ]
    status = statuses(warehouse, [child for child, _, _ in rows])
    absence = _termly_absence(warehouse)
    exclusions = _exclusion_counts(warehouse)
    fsm = _current_fsm(warehouse)
    pupils = tuple(
        SchoolPupil(
            key=keys.child_key(child),
            forename=str(row.forename or ""),
            surname=str(row.surname or ""),
            birth_date=row.birth_date,
            year_group=str(row.nc_year or ""),
            status=status[child],
            attendance=_rate(row.sessions_possible, _sessions_absent(row, absence)),
            suspensions=exclusions.get((upn, "SUSP"), 0),
            permanent_exclusions=exclusions.get((upn, "PERM"), 0),
            sen_provision=SEN_LABELS.get(str(row.sen_provision or ""), str(row.sen_provision)),
            fsm=(term, laestab, upn) in fsm,
        )
        for child, upn, row in rows
    )
    return SchoolPage(laestab, name, term, pupils)


def _sessions_absent(row: Enrolment, absence: dict[AbsenceKey, dict[str, int | None]]) -> int:
    """Authorised plus unauthorised sessions from the absence records, else from the census."""
    found = absence.get((row.census_term, row.laestab, row.enrolment_id), {})
    recorded = [n for k in ("authorised", "unauthorised") if (n := found.get(k)) is not None]
    if recorded:
        return sum(recorded)
    return (row.sessions_authorised or 0) + (row.sessions_unauthorised or 0)


# --- the caseload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadChild:
    key: str
    forename: str
    surname: str
    school: str
    status: str


def caseload(warehouse: Warehouse, la_child_ids: Sequence[str]) -> list[CaseloadChild]:
    ids = list(la_child_ids)
    status = statuses(warehouse, ids)
    who = identities(warehouse, ids)
    out = [
        CaseloadChild(
            keys.child_key(child),
            who[child].forename,
            who[child].surname,
            who[child].school,
            status[child],
        )
        for child in ids
    ]
    return sorted(out, key=lambda c: (c.surname, c.forename, c.key))


# --- the child profile -----------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    forename: str = ""
    surname: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    upn: str = ""
    school: str = ""
    year_group: str = ""


@dataclass(frozen=True)
class Event:
    kind: str
    start: dt.date | None
    end: dt.date | None
    detail: str


@dataclass(frozen=True)
class TermAttendance:
    term: str
    school: str
    possible: int
    authorised: int
    unauthorised: int
    attendance: str


@dataclass(frozen=True)
class Profile:
    key: str
    status: str
    identity: Identity
    social_care: tuple[Event, ...]
    attendance: tuple[TermAttendance, ...] = ()
    exclusions: tuple[Event, ...] = ()
    sen: tuple[Event, ...] = ()
    fsm: tuple[Event, ...] = ()
    attainment: tuple[Event, ...] = ()
    schools: tuple[Event, ...] = field(default_factory=tuple)


def identity(warehouse: Warehouse, la_child_id: str) -> Identity:
    return identities(warehouse, [la_child_id])[la_child_id]


def identities(warehouse: Warehouse, la_child_ids: Sequence[str]) -> dict[str, Identity]:
    """Who each child is: their latest census record if linked, else the social care one.

    At most one query for any number of children (a caseload), not two or three per child.
    """
    ids = list(dict.fromkeys(la_child_ids))
    found: dict[str, Identity] = {}
    enrolments = linked_enrolments(warehouse)
    for child in ids:
        upn = linked_upn(warehouse, child)
        rows = enrolments.get(upn, ()) if upn is not None else ()
        if upn is None or not rows:
            continue
        # On roll first, then the newest census (as loaded); of those, the latest term.
        ordered = sorted(rows, key=lambda r: r.census_term or "", reverse=True)
        ordered.sort(
            key=lambda r: 2 if r.on_roll else (1 if r.on_roll is False else 0), reverse=True
        )
        current = max(
            ordered, key=lambda r: (term_sort_key(str(r.census_term)), r.forename is not None)
        )
        found[child] = Identity(
            str(current.forename or ""),
            str(current.surname or ""),
            current.birth_date,
            str(current.sex or ""),
            upn,
            school_name(warehouse, str(current.laestab)),
            str(current.nc_year or ""),
        )
    missing = [child for child in ids if child not in found]
    if missing and "person" in tables(warehouse):
        for child, forename, surname, birth, sex in warehouse.execute(
            "SELECT la_child_id, forename, surname, birth_date, sex FROM person "
            f"WHERE la_child_id IN ({_placeholders(missing)})",
            missing,
        ):
            found.setdefault(
                str(child), Identity(str(forename or ""), str(surname or ""), birth, str(sex or ""))
            )
    return {child: found.get(child, Identity()) for child in ids}


def _grouped(warehouse: Warehouse, sql: str) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """The rows of ``sql`` by its first column, in the query's order; read once per build.

    The profile's reads (a child's episodes, a pupil's exclusions, results) are a few rows
    per child: one query per table per process, not one per page.
    """

    def read() -> dict[str, tuple[tuple[Any, ...], ...]]:
        found: dict[str, list[tuple[Any, ...]]] = {}
        for key, *row in warehouse.execute(sql):
            found.setdefault(str(key), []).append(tuple(row))
        return {k: tuple(rows) for k, rows in found.items()}

    return fact(warehouse, sql, read)


LINKED_UPNS = f"SELECT upn FROM {LINK_TABLE}"
LINKED_ENROLMENTS = f"SELECT enrolment_id FROM pupil_enrolment WHERE upn IN ({LINKED_UPNS})"


def _of_enrolments(
    warehouse: Warehouse, sql: str, enrolments: Iterable[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """The rows of a :func:`_grouped` query by enrolment ID, for these enrolments."""
    found = _grouped(warehouse, sql)
    ids = dict.fromkeys(str(e[2]) for e in enrolments)  # an ID may recur across terms
    return [row for enrolment in ids for row in found.get(enrolment, ())]


def _latest_per_start(
    warehouse: Warehouse, table: str, la_child_id: str, columns: str
) -> list[tuple[Any, ...]]:
    """One row per episode (by start), from the latest return holding it (returns repeat)."""
    rows = _grouped(
        warehouse,
        f"SELECT la_child_id, {columns}, collection_year FROM {table} "
        "ORDER BY la_child_id, collection_year",
    ).get(la_child_id, ())
    latest: dict[Any, tuple[Any, ...]] = {}
    for row in rows:
        latest[row[0]] = row[:-1]
    return list(latest.values())


def social_care_timeline(warehouse: Warehouse, la_child_id: str) -> list[Event]:
    present = tables(warehouse)
    events: list[Event] = []
    if "cin_episode" in present:
        for start, end, need, nfa, reason in _latest_per_start(
            warehouse,
            "cin_episode",
            la_child_id,
            "referral_date, closure_date, primary_need, referral_nfa, closure_reason",
        ):
            detail = f"Primary need {need or 'not recorded'}"
            if nfa:
                detail += "; no further action"
            if reason:
                detail += f"; closed {reason}"
            events.append(Event("Child in need episode", start, end, detail))
    if "cin_plan" in present:
        for start, end in _latest_per_start(
            warehouse, "cin_plan", la_child_id, "start_date, end_date"
        ):
            events.append(Event("Child in need plan", start, end, ""))
    if "cin_s47" in present:
        for start, icpc, not_required in _latest_per_start(
            warehouse, "cin_s47", la_child_id, "start_date, icpc_date, icpc_not_required"
        ):
            detail = (
                "Initial conference not required"
                if not_required
                else (f"Initial conference {icpc:%d %b %Y}" if icpc else "")
            )
            events.append(Event("Section 47 enquiry", start, None, detail))
    if "cp_plan" in present:
        for start, end, category in _latest_per_start(
            warehouse, "cp_plan", la_child_id, "start_date, end_date, latest_category"
        ):
            detail = f"Category {category}" if category else ""
            events.append(Event("Child protection plan", start, end, detail))
    if "cla_episode" in present:
        for start, end, legal, placement in _latest_per_start(
            warehouse, "cla_episode", la_child_id, "start_date, end_date, legal_status, placement"
        ):
            detail = f"Legal status {legal or '-'}; placement {placement or '-'}"
            events.append(Event("Looked after", start, end, detail))
    return sorted(events, key=lambda e: (e.start or dt.date.min, e.kind), reverse=True)


def _enrolments(warehouse: Warehouse, upn: str) -> list[tuple[Any, ...]]:
    return [
        (
            e.census_term,
            e.laestab,
            e.enrolment_id,
            e.sessions_possible,
            e.sessions_authorised,
            e.sessions_unauthorised,
            e.sen_provision,
            e.entry_date,
            e.leaving_date,
        )
        for e in linked_enrolments(warehouse).get(upn, ())
    ]


def education_record(warehouse: Warehouse, upn: str) -> dict[str, tuple[Any, ...]]:
    present = tables(warehouse)
    enrolments = _enrolments(warehouse, upn)
    names: dict[str, str] = {}

    def name(laestab: str) -> str:
        if laestab not in names:
            names[laestab] = school_name(warehouse, laestab)
        return names[laestab]

    termly = _termly_absence(warehouse)
    absence = {
        key: {kind: sessions or 0 for kind, sessions in termly[key].items()}
        for e in enrolments
        if (key := (str(e[0]), str(e[1]), str(e[2]))) in termly
    }
    attendance: list[TermAttendance] = []
    sen: list[Event] = []
    moves: dict[tuple[str, Any], Event] = {}
    for term, laestab, enrolment, possible, auth, unauth, provision, entry, leaving in enrolments:
        found = absence.get((str(term), str(laestab), str(enrolment)))
        authorised = found.get("authorised", 0) if found is not None else int(auth or 0)
        unauthorised = found.get("unauthorised", 0) if found is not None else int(unauth or 0)
        if possible:
            attendance.append(
                TermAttendance(
                    term_label(str(term)),
                    name(str(laestab)),
                    int(possible),
                    authorised,
                    unauthorised,
                    _rate(int(possible), authorised + unauthorised),
                )
            )
        sen.append(
            Event(term_label(str(term)), None, None, SEN_LABELS.get(str(provision or ""), "?"))
        )
        moves[(str(laestab), entry)] = Event(name(str(laestab)), entry, leaving, "")
    order = {term_label(str(e[0])): term_sort_key(str(e[0])) for e in enrolments}
    attendance.sort(key=lambda a: (order[a.term], a.school), reverse=True)
    sen = sorted(set(sen), key=lambda s: order[s.kind], reverse=True)
    if "pupil_sen_need" in present and LINK_TABLE in present and enrolments:
        needs = _by_enrolment(warehouse, "pupil_sen_need", "sen_type", enrolments)
        sen = [
            Event(s.kind, None, None, ", ".join([s.detail, *needs.get(s.kind, [])])) for s in sen
        ]
    exclusions: list[Event] = []
    if "pupil_exclusion" in present and LINK_TABLE in present and enrolments:
        seen: set[tuple[Any, ...]] = set()
        rows = _of_enrolments(
            warehouse,
            "SELECT enrolment_id, start_date, category, sessions, laestab FROM pupil_exclusion "
            f"WHERE enrolment_id IN ({LINKED_ENROLMENTS})",
            enrolments,
        )
        # Newest first, undated last (SQL's ORDER BY start_date DESC).
        rows.sort(key=lambda r: (r[0] is not None, r[0] or dt.date.min), reverse=True)
        for start, category, sessions, laestab in rows:
            if (start, category, laestab) in seen:  # each census repeats the year's exclusions
                continue
            seen.add((start, category, laestab))
            kind = "Permanent exclusion" if category == "PERM" else "Suspension"
            exclusions.append(
                Event(kind, start, None, f"{sessions or 0} sessions, {name(laestab)}")
            )
    fsm: list[Event] = []
    if "pupil_fsm" in present and LINK_TABLE in present and enrolments:
        periods: dict[Any, Any] = {}
        rows = _of_enrolments(
            warehouse,
            "SELECT enrolment_id, start_date, end_date FROM pupil_fsm "
            f"WHERE enrolment_id IN ({LINKED_ENROLMENTS})",
            enrolments,
        )
        rows.sort(key=lambda r: (r[0] is None, r[0] or dt.date.min))  # undated last
        for start, end in rows:
            periods[start] = end if end is not None else periods.get(start)
        fsm = [Event("Free school meals", s, e, "") for s, e in sorted(periods.items())]
    attainment: list[Event] = []
    if "ks2_result" in present and LINK_TABLE in present:
        for year, rwm in _grouped(
            warehouse,
            "SELECT upn, year, ks2_rwm_exp FROM ks2_result "
            f"WHERE upn IN ({LINKED_UPNS}) ORDER BY upn, year",
        ).get(upn, ()):
            met = "met" if rwm else "did not meet"
            attainment.append(
                Event(f"Key stage 2, {year}", None, None, f"{met} the expected standard in RWM")
            )
    if "ks4_result" in present and LINK_TABLE in present:
        for year, att8, p8, basics in _grouped(
            warehouse,
            "SELECT upn, year, att8, p8score, l2basics_94 FROM ks4_result "
            f"WHERE upn IN ({LINKED_UPNS}) ORDER BY upn, year",
        ).get(upn, ()):
            detail = f"Attainment 8 {att8 if att8 is not None else 'x'}"
            detail += f"; Progress 8 {p8 if p8 is not None else 'x'}"
            detail += "; grade 4+ in English and maths" if basics else ""
            attainment.append(Event(f"Key stage 4, {year}", None, None, detail))
    schools = sorted(moves.values(), key=lambda m: m.start or dt.date.min, reverse=True)
    return {
        "attendance": tuple(attendance),
        "exclusions": tuple(exclusions),
        "sen": tuple(sen),
        "fsm": tuple(fsm),
        "attainment": tuple(attainment),
        "schools": tuple(schools),
    }


def _by_enrolment(
    warehouse: Warehouse, table: str, column: str, enrolments: Iterable[tuple[Any, ...]]
) -> dict[str, list[str]]:
    rows = list(enrolments)
    label = {(str(e[0]), str(e[1]), str(e[2])): term_label(str(e[0])) for e in rows}
    found: dict[str, list[str]] = {}
    values = _of_enrolments(
        warehouse,
        f"SELECT enrolment_id, census_term, laestab, enrolment_id, {column}, sen_type_rank "
        f"FROM {table} WHERE enrolment_id IN ({LINKED_ENROLMENTS})",
        rows,
    )
    # Term, school, enrolment, then the need's rank (unranked last), as ORDER BY 1, 2, 3, rank.
    values.sort(key=lambda r: (str(r[0]), str(r[1]), str(r[2]), r[4] is None, r[4] or 0))
    for term, laestab, enrolment, value, _ in values:
        term_name = label.get((str(term), str(laestab), str(enrolment)))
        if term_name is not None and value:
            found.setdefault(term_name, []).append(str(value))
    return found


def profile(warehouse: Warehouse, la_child_id: str) -> Profile:
    ident = identity(warehouse, la_child_id)
    education = education_record(warehouse, ident.upn) if ident.upn else {}
    return Profile(
        key=keys.child_key(la_child_id),
        status=statuses(warehouse, [la_child_id])[la_child_id],
        identity=ident,
        social_care=tuple(social_care_timeline(warehouse, la_child_id)),
        **education,
    )


# --- demo accounts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAssignments:
    laestab: str
    caseload: tuple[str, ...]


DEMO_SCHOOL = "9999999"  # used when no warehouse has been built


def linked_pupils_by_school(warehouse_path: Path | None = None) -> dict[str, list[str]]:
    """Each school's linked children on roll in the latest census (LA child IDs, sorted)."""
    try:
        with open_warehouse(warehouse_path) as warehouse:
            term = latest_term(warehouse)
            if term is None or LINK_TABLE not in tables(warehouse):
                return {}
            rows = warehouse.execute(
                f"SELECT e.laestab, l.la_child_id FROM pupil_enrolment e "
                f"JOIN {LINK_TABLE} l ON l.upn = e.upn WHERE e.census_term = ? AND e.on_roll "
                "ORDER BY e.laestab, l.la_child_id",
                [term],
            )
    except WarehouseUnavailable:
        return {}
    by_school: dict[str, list[str]] = {}
    for laestab, child in rows:
        by_school.setdefault(str(laestab), []).append(str(child))
    return by_school


def demo_assignments(warehouse_path: Path | None, caseload_size: int) -> DemoAssignments:
    """The school with most linked pupils on roll, and a caseload of linked children there."""
    by_school = linked_pupils_by_school(warehouse_path)
    if not by_school:
        return DemoAssignments(DEMO_SCHOOL, ())
    school = max(by_school, key=lambda s: (len(by_school[s]), s))
    every = sorted({child for children in by_school.values() for child in children})
    return DemoAssignments(school, tuple(every[:caseload_size]))


def set_caseload(teacher: Any, la_child_ids: Iterable[str], added_by: Any) -> None:
    from cwsw.web.children.models import CaseloadEntry

    wanted = set(la_child_ids)
    CaseloadEntry.objects.filter(teacher=teacher).exclude(la_child_id__in=wanted).delete()
    have = set(CaseloadEntry.objects.filter(teacher=teacher).values_list("la_child_id", flat=True))
    CaseloadEntry.objects.bulk_create(
        CaseloadEntry(teacher=teacher, la_child_id=child, added_by=added_by)
        for child in sorted(wanted - have)
    )


def caseload_ids(teacher: Any) -> list[str]:
    from cwsw.web.children.models import CaseloadEntry

    return list(
        CaseloadEntry.objects.filter(teacher=teacher)
        .order_by("la_child_id")
        .values_list("la_child_id", flat=True)
    )
