"""The DSL's school page and the advisory teacher's caseload, shaped for their templates, and
who a child is (their identity on every page; the profile itself is :mod:`.profile`).

Plain functions over a :class:`~cwsw.warehouse.snapshot.Snapshot`, usable without a request:
they look children up in what :mod:`.reads` and :mod:`.records` read once per build, and run
no warehouse query of their own once those are warm (ADR 0013). Sort orders keep SQL's (names
missing last) where the pages once sorted in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cwsw.domain.calendar import census_term_sort_key
from cwsw.domain.labels import SEN_LABELS as SEN_PROVISION
from cwsw.warehouse.snapshot import Snapshot
from cwsw.web.children import keys, reads, status
from cwsw.web.children.reads import AbsenceKey, Enrolment

# The school census's SEN provision codes, and a pupil with none recorded (a page, not DfE).
SEN_LABELS = {**SEN_PROVISION, "": "Not recorded"}


def rate(possible: int | None, absent: int | None) -> str:
    """Attendance as a percentage to one place (``"92.5"``), ``"x"`` with no sessions."""
    if not possible:
        return "x"
    return f"{100 * (possible - (absent or 0)) / possible:.1f}"


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


def school_pupils(snapshot: Snapshot, laestab: str, search: str = "") -> SchoolPage:
    """Pupils on roll at ``laestab`` in the latest census who have or have had a social worker."""
    term = reads.latest_term(snapshot)
    name = reads.school_name(snapshot, laestab)
    if term is None or not reads.linked(snapshot):
        return SchoolPage(laestab, name, term, ())
    children = reads.children_by_upn(snapshot)
    rows = [
        (child, row)
        for row in reads.school_roll(snapshot).get(laestab, ())
        for child in children.get(row.upn, ())
    ]
    # Surname, forename (missing ones last, as SQL sorts them), then LA child ID.
    rows.sort(
        key=lambda r: (
            r[1].surname is None,
            r[1].surname or "",
            r[1].forename is None,
            r[1].forename or "",
            r[0],
        )
    )
    wanted = search.strip().casefold()
    if wanted:
        rows = [
            r for r in rows if wanted in f"{r[1].forename or ''} {r[1].surname or ''}".casefold()
        ]
    labels = status.statuses(snapshot, [child for child, _ in rows])
    absence = reads.termly_absence(snapshot)
    exclusions = reads.exclusion_counts(snapshot)
    fsm = reads.current_fsm(snapshot)
    pupils = tuple(
        SchoolPupil(
            key=keys.child_key(child),
            forename=str(row.forename or ""),
            surname=str(row.surname or ""),
            birth_date=row.birth_date,
            year_group=str(row.nc_year or ""),
            status=labels[child],
            attendance=rate(row.sessions_possible, sessions_absent(row, absence)),
            suspensions=exclusions.get((row.upn, "SUSP"), 0),
            permanent_exclusions=exclusions.get((row.upn, "PERM"), 0),
            sen_provision=SEN_LABELS.get(str(row.sen_provision or ""), str(row.sen_provision)),
            fsm=reads.OpenFsm(term, laestab, row.upn) in fsm,
        )
        for child, row in rows
    )
    return SchoolPage(laestab, name, term, pupils)


def sessions_absent(row: Enrolment, absence: dict[AbsenceKey, dict[str, int | None]]) -> int:
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


def caseload(snapshot: Snapshot, la_child_ids: Sequence[str]) -> list[CaseloadChild]:
    ids = list(la_child_ids)
    labels = status.statuses(snapshot, ids)
    who = identities(snapshot, ids)
    out = [
        CaseloadChild(
            keys.child_key(child),
            who[child].forename,
            who[child].surname,
            who[child].school,
            labels[child],
        )
        for child in ids
    ]
    return sorted(out, key=lambda c: (c.surname, c.forename, c.key))


# --- who a child is --------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    forename: str = ""
    surname: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    upn: str = ""
    school: str = ""
    year_group: str = ""


def identity(snapshot: Snapshot, la_child_id: str) -> Identity:
    return identities(snapshot, [la_child_id])[la_child_id]


def identities(snapshot: Snapshot, la_child_ids: Sequence[str]) -> dict[str, Identity]:
    """Who each child is: their latest census record if linked, else the social care one.

    At most one query for any number of children (a caseload), not two or three per child.
    """
    ids = list(dict.fromkeys(la_child_ids))
    found: dict[str, Identity] = {}
    enrolments = reads.linked_enrolments(snapshot)
    upns = reads.upn_by_child(snapshot)
    for child in ids:
        upn = upns.get(child)
        rows = enrolments.get(upn, ()) if upn is not None else ()
        if upn is None or not rows:
            continue
        # On roll first, then the newest census (as loaded); of those, the latest term.
        ordered = sorted(rows, key=lambda r: r.census_term or "", reverse=True)
        ordered.sort(
            key=lambda r: 2 if r.on_roll else (1 if r.on_roll is False else 0), reverse=True
        )
        current = max(
            ordered,
            key=lambda r: (census_term_sort_key(str(r.census_term)), r.forename is not None),
        )
        found[child] = Identity(
            forename=str(current.forename or ""),
            surname=str(current.surname or ""),
            birth_date=current.birth_date,
            sex=str(current.sex or ""),
            upn=upn,
            school=reads.school_name(snapshot, str(current.laestab)),
            year_group=str(current.nc_year or ""),
        )
    missing = [child for child in ids if child not in found]
    for person in reads.people(snapshot, missing):
        found.setdefault(
            str(person.la_child_id),
            Identity(
                forename=str(person.forename or ""),
                surname=str(person.surname or ""),
                birth_date=person.birth_date,
                sex=str(person.sex or ""),
            ),
        )
    return {child: found.get(child, Identity()) for child in ids}
