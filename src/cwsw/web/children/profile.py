"""The child profile: who the child is, their social care status and timeline, and a linked
pupil's school record (attendance, exclusions, SEN, free school meals, results, schools).

Shaped from what :mod:`.reads` and :mod:`.records` read once per build: no warehouse query of
its own once those are warm (ADR 0013).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cwsw.domain.calendar import census_term_label, census_term_sort_key
from cwsw.warehouse.snapshot import Snapshot
from cwsw.web.children import keys, reads, records, status
from cwsw.web.children.pages import SEN_LABELS, Identity, identity, rate
from cwsw.web.children.reads import Enrolment


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
class Education:
    """A linked pupil's school record, newest first in each part."""

    attendance: tuple[TermAttendance, ...] = ()
    exclusions: tuple[Event, ...] = ()
    sen: tuple[Event, ...] = ()
    fsm: tuple[Event, ...] = ()
    attainment: tuple[Event, ...] = ()
    schools: tuple[Event, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Profile(Education):
    """A child's profile: who they are, their social care and (if linked) their school record."""

    key: str
    status: str
    identity: Identity
    social_care: tuple[Event, ...]


def profile(snapshot: Snapshot, la_child_id: str) -> Profile:
    ident = identity(snapshot, la_child_id)
    education = education_record(snapshot, ident.upn) if ident.upn else Education()
    return Profile(
        key=keys.child_key(la_child_id),
        status=status.statuses(snapshot, [la_child_id])[la_child_id],
        identity=ident,
        social_care=tuple(social_care_timeline(snapshot, la_child_id)),
        **vars(education),  # the school record's parts, by name
    )


def social_care_timeline(snapshot: Snapshot, la_child_id: str) -> list[Event]:
    """A child's CIN episodes and plans, section 47 enquiries, CP plans and CLA episodes,
    newest first."""
    events: list[Event] = []
    for episode in records.cin_episodes(snapshot, la_child_id):
        detail = f"Primary need {episode.primary_need or 'not recorded'}"
        if episode.referral_nfa:
            detail += "; no further action"
        if episode.closure_reason:
            detail += f"; closed {episode.closure_reason}"
        events.append(
            Event("Child in need episode", episode.referral_date, episode.closure_date, detail)
        )
    for plan in records.cin_plans(snapshot, la_child_id):
        events.append(Event("Child in need plan", plan.start_date, plan.end_date, ""))
    for enquiry in records.section_47s(snapshot, la_child_id):
        icpc = enquiry.icpc_date
        detail = (
            "Initial conference not required"
            if enquiry.icpc_not_required
            else (f"Initial conference {icpc:%d %b %Y}" if icpc else "")
        )
        events.append(Event("Section 47 enquiry", enquiry.start_date, None, detail))
    for cp in records.cp_plans(snapshot, la_child_id):
        detail = f"Category {cp.latest_category}" if cp.latest_category else ""
        events.append(Event("Child protection plan", cp.start_date, cp.end_date, detail))
    for care in records.cla_episodes(snapshot, la_child_id):
        detail = f"Legal status {care.legal_status or '-'}; placement {care.placement or '-'}"
        events.append(Event("Looked after", care.start_date, care.end_date, detail))
    return sorted(events, key=lambda e: (e.start or dt.date.min, e.kind), reverse=True)


def education_record(snapshot: Snapshot, upn: str) -> Education:
    """A linked pupil's school record from their census rows (in the order loaded)."""
    enrolments = reads.linked_enrolments(snapshot).get(upn, ())
    names: dict[str, str] = {}

    def name(laestab: str) -> str:
        if laestab not in names:
            names[laestab] = reads.school_name(snapshot, laestab)
        return names[laestab]

    termly = reads.termly_absence(snapshot)
    absence = {
        key: {kind: sessions or 0 for kind, sessions in termly[key].items()}
        for e in enrolments
        if (key := (str(e.census_term), str(e.laestab), str(e.enrolment_id))) in termly
    }
    attendance: list[TermAttendance] = []
    sen: list[Event] = []
    moves: dict[tuple[str, dt.date | None], Event] = {}
    for e in enrolments:
        term, laestab = str(e.census_term), str(e.laestab)
        found = absence.get((term, laestab, str(e.enrolment_id)))
        authorised = (
            found.get("authorised", 0) if found is not None else int(e.sessions_authorised or 0)
        )
        unauthorised = (
            found.get("unauthorised", 0) if found is not None else int(e.sessions_unauthorised or 0)
        )
        if e.sessions_possible:
            possible = int(e.sessions_possible)
            attendance.append(
                TermAttendance(
                    census_term_label(term),
                    name(laestab),
                    possible,
                    authorised,
                    unauthorised,
                    rate(possible, authorised + unauthorised),
                )
            )
        provision = SEN_LABELS.get(str(e.sen_provision or ""), "?")
        sen.append(Event(census_term_label(term), None, None, provision))
        moves[(laestab, e.entry_date)] = Event(name(laestab), e.entry_date, e.leaving_date, "")
    order = {
        census_term_label(str(e.census_term)): census_term_sort_key(str(e.census_term))
        for e in enrolments
    }
    attendance.sort(key=lambda a: (order[a.term], a.school), reverse=True)
    # Once each, newest term first; two rows of one term keep the order they were loaded in.
    sen = sorted(dict.fromkeys(sen), key=lambda s: order[s.kind], reverse=True)
    if enrolments and reads.linked(snapshot, "pupil_sen_need"):
        needs = sen_needs_by_term(snapshot, enrolments)
        sen = [
            Event(s.kind, None, None, ", ".join([s.detail, *needs.get(s.kind, [])])) for s in sen
        ]
    return Education(
        attendance=tuple(attendance),
        exclusions=tuple(_exclusions(snapshot, enrolments, name)),
        sen=tuple(sen),
        fsm=tuple(_fsm(snapshot, enrolments)),
        attainment=tuple(_attainment(snapshot, upn)),
        schools=tuple(sorted(moves.values(), key=lambda m: m.start or dt.date.min, reverse=True)),
    )


def sen_needs_by_term(
    snapshot: Snapshot, enrolments: tuple[Enrolment, ...]
) -> dict[str, list[str]]:
    """The SEN needs recorded in each term's census (term label -> needs, by rank)."""
    label = {
        (str(e.census_term), str(e.laestab), str(e.enrolment_id)): census_term_label(
            str(e.census_term)
        )
        for e in enrolments
    }
    needs = records.of_enrolments(records.sen_needs(snapshot), enrolments)
    # Term, school, enrolment, then the need's rank (unranked last), as ORDER BY 1, 2, 3, rank.
    needs.sort(
        key=lambda n: (
            str(n.census_term),
            str(n.laestab),
            str(n.enrolment_id),
            n.sen_type_rank is None,
            n.sen_type_rank or 0,
        )
    )
    found: dict[str, list[str]] = {}
    for need in needs:
        term = label.get((str(need.census_term), str(need.laestab), str(need.enrolment_id)))
        if term is not None and need.sen_type:
            found.setdefault(term, []).append(str(need.sen_type))
    return found


def _exclusions(
    snapshot: Snapshot, enrolments: tuple[Enrolment, ...], name: Callable[[str], str]
) -> list[Event]:
    rows = records.of_enrolments(records.exclusions(snapshot), enrolments)
    # Newest first, undated last (SQL's ORDER BY start_date DESC).
    rows.sort(key=lambda r: (r.start_date is not None, r.start_date or dt.date.min), reverse=True)
    seen: set[tuple[dt.date | None, str | None, str]] = set()
    events: list[Event] = []
    for row in rows:
        if (row.start_date, row.category, row.laestab) in seen:
            continue  # each census repeats the year's exclusions
        seen.add((row.start_date, row.category, row.laestab))
        kind = "Permanent exclusion" if row.category == "PERM" else "Suspension"
        detail = f"{row.sessions or 0} sessions, {name(str(row.laestab))}"
        events.append(Event(kind, row.start_date, None, detail))
    return events


def _fsm(snapshot: Snapshot, enrolments: tuple[Enrolment, ...]) -> list[Event]:
    rows = records.of_enrolments(records.fsm_periods(snapshot), enrolments)
    rows.sort(key=lambda r: (r.start_date is None, r.start_date or dt.date.min))  # undated last
    periods: dict[dt.date | None, dt.date | None] = {}
    for row in rows:
        # Each census repeats an open period; the one that closes it gives its end.
        periods[row.start_date] = (
            row.end_date if row.end_date is not None else periods.get(row.start_date)
        )
    # By start, undated last (an undated period beside dated ones once failed to sort).
    ordered = sorted(periods.items(), key=lambda p: (p[0] is None, p[0] or dt.date.min))
    return [Event("Free school meals", start, end, "") for start, end in ordered]


def _attainment(snapshot: Snapshot, upn: str) -> list[Event]:
    events: list[Event] = []
    for ks2 in records.ks2_results(snapshot).get(upn, ()):
        met = "met" if ks2.ks2_rwm_exp else "did not meet"
        events.append(
            Event(f"Key stage 2, {ks2.year}", None, None, f"{met} the expected standard in RWM")
        )
    for ks4 in records.ks4_results(snapshot).get(upn, ()):
        detail = f"Attainment 8 {ks4.att8 if ks4.att8 is not None else 'x'}"
        detail += f"; Progress 8 {ks4.p8score if ks4.p8score is not None else 'x'}"
        detail += "; grade 4+ in English and maths" if ks4.l2basics_94 else ""
        events.append(Event(f"Key stage 4, {ks4.year}", None, None, detail))
    return events
