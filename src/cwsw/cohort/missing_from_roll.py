"""Children missing from school rolls: with a social worker now, of compulsory school age, on
no roll.

The list the Children in Need review asked for (visibility; ``docs/missing-from-roll.md``):
every child who, on the date,

- has a social worker: looked after, on a child protection plan or in need
  (:func:`cwsw.cohort.status.social_care_status_at`; "previously had a social worker" is not
  enough);
- is of compulsory school age (:func:`compulsory_school_age_starts`,
  :func:`compulsory_school_age_ends`) by the date of birth the newest return gives
  (:func:`child_birth_dates`); a child with no date of birth is not listed;
- and is on no roll in the latest school census held by the date (the census whose census day
  is the latest on or before it), through the child-pupil link: a child linked to no pupil is
  on no roll. A child who left a roll in the twelve months to the date with no next school
  (below) is on no roll in the latest census (a roll there would be a next school), so is
  listed, with that reason, the school and the leaving date.

One row per child: ``la_child_id``, ``social_care_status``, ``birth_date``, ``age`` (completed
years on the date), ``reason`` (:data:`ON_NO_ROLL` or :data:`LEFT_NO_NEXT_SCHOOL`),
``last_laestab`` and ``last_school_name`` (the school the child was last seen at, where any
census held shows one; the name where the establishments list has it), ``leaving_date`` (from
that school, where it recorded one) and ``linked`` (the link found a pupil for the child).

**Last school.** Of the child's enrolments (their pupils' rows in every census held by the
date, an enrolment being a school's ``laestab`` and ``enrolment_id``), the one last seen: on
its leaving date if it has one on or before the date, else on the latest census day it appears
in; ties go to the lowest LAESTAB, then enrolment ID.

**Left with no next school.** The last school's enrolment has a leaving date in the twelve
months to the date (after the same day a year before, up to the date) and no other enrolment
of the child's is a next school: none began on or after the leaving date, and none is on the
roll of a census whose census day is on or after it (a child registered at two schools who
leaves one is not missing). Otherwise a listed child is :data:`ON_NO_ROLL`, with the last
school and leaving date where the censuses show them.

**Known false positives**, which a person must clear before acting: children placed or living
out of the LA's area and on the roll of another LA's school (the LA's census does not hold
them); children at independent schools or electively home educated; children the linkage did
not link to their pupil (``linked`` is false: review them in ``cwsw link review``); a child
between schools on census day. Children who left after the latest census day are not seen
until the next census is loaded.

Rows on the census with no on-roll flag are on roll, as the census headcount (and
:mod:`cwsw.targeting.facts`) reads them. Ibis expressions, any backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
from ibis.expr.types import Table

from cwsw.cohort.status import CHILD_IN_NEED, CP_PLAN, LOOKED_AFTER, social_care_status_at
from cwsw.domain.calendar import (
    YEAR_GROUP_FIRST_BIRTH_MONTH,
    census_day,
    census_term_sort_key,
)
from cwsw.errors import UserError

DEFINITION_VERSION = "missing-from-roll-1"

CHILD = "la_child_id"
# cwsw.linkage.run.CHILD_PUPIL_LINK, named here: cohort and linkage are siblings.
LINK_TABLE = "child_pupil_link"

ON_NO_ROLL = "On no roll"
LEFT_NO_NEXT_SCHOOL = "Left with no next school"
# The statuses that mean a social worker now (not "previously had a social worker").
WITH_A_SOCIAL_WORKER = (LOOKED_AFTER, CP_PLAN, CHILD_IN_NEED)
COLUMNS = (
    CHILD,
    "social_care_status",
    "birth_date",
    "age",
    "reason",
    "last_laestab",
    "last_school_name",
    "leaving_date",
    "linked",
)

# The prescribed days on which a child who has turned 5 starts compulsory school age.
_PRESCRIBED_DAYS = ((3, 31), (8, 31), (12, 31))
_FRIDAY = 4


class NoCensusHeld(UserError):
    """No school census is loaded with a census day on or before the date, or no link."""


def compulsory_school_age_starts(birth_date: dt.date) -> dt.date:
    """The day a child becomes of compulsory school age: the first prescribed day (31 March,
    31 August, 31 December) on or after their fifth birthday, i.e. the term after it.

    Education Act 1996 s8(2); the Education (Start of Compulsory School Age) Order 1998
    (SI 1998/1607). A child born on 29 February turns 5 on 1 March (or 28 February); either
    way their prescribed day is 31 March.
    """
    year = birth_date.year + 5
    born = (birth_date.month, birth_date.day)
    month, day = next(d for d in _PRESCRIBED_DAYS if born <= d)
    return dt.date(year, month, day)


def compulsory_school_age_ends(birth_date: dt.date) -> dt.date:
    """The last day of compulsory school age: the school leaving date (the last Friday in
    June) of the school year, 1 September to 31 August, in which the child turns 16.

    Education Act 1996 s8(3); the Education (School Leaving Date) Order 1997 (SI 1997/1970).
    The Act's school year starts with the first term after July; DfE's year groups start on
    1 September, used here, so a child whose 16th birthday falls between 1 September and the
    first day of term is taken to stay of compulsory school age a year longer.
    """
    later_year_group = birth_date.month >= YEAR_GROUP_FIRST_BIRTH_MONTH
    return last_friday_of_june(birth_date.year + 16 + (1 if later_year_group else 0))


def last_friday_of_june(year: int) -> dt.date:
    """The school leaving date of ``year`` (the Education (School Leaving Date) Order 1997)."""
    end = dt.date(year, 6, 30)
    return end - dt.timedelta(days=(end.weekday() - _FRIDAY) % 7)


def compulsory_school_age_birth_dates(on: dt.date) -> tuple[dt.date, dt.date]:
    """The earliest and latest dates of birth of a child of compulsory school age on ``on``.

    Both ends move with the date of birth (a later birth starts and ends later), so the
    children of compulsory school age on a date are those born between two dates:

    - started by ``on``: the fifth birthday on or before the latest prescribed day up to
      ``on`` (:func:`compulsory_school_age_starts`), so born on or before that day five
      years earlier;
    - not yet ended: the school leaving date of the year group is on or after ``on``
      (:func:`compulsory_school_age_ends`), so born on or after 1 September of the year group
      that leaves in the first June on or after ``on``.
    """
    prescribed = max(
        dt.date(year, month, day)
        for year in (on.year - 1, on.year)
        for month, day in _PRESCRIBED_DAYS
        if dt.date(year, month, day) <= on
    )
    latest = dt.date(prescribed.year - 5, prescribed.month, prescribed.day)
    leaving_year = on.year if on <= last_friday_of_june(on.year) else on.year + 1
    # Born 1 September (leaving_year - 17) to 31 August (leaving_year - 16): turns 16 in the
    # school year ending in the summer of leaving_year.
    earliest = dt.date(leaving_year - 17, YEAR_GROUP_FIRST_BIRTH_MONTH, 1)
    return earliest, latest


def age_on(birth_date: ibis.ir.DateValue, on: dt.date) -> ibis.ir.IntegerValue:
    """Completed years of age on ``on`` (a birthday on 29 February counts from 1 March)."""
    before_birthday = (birth_date.month() > on.month) | (
        (birth_date.month() == on.month) & (birth_date.day() > on.day)
    )
    return (on.year - birth_date.year() - ibis.ifelse(before_birthday, 1, 0)).cast("int64")


def censuses_held(pupil_enrolment: Table, on: dt.date) -> dict[str, dt.date]:
    """The school census terms loaded whose census day is on or before ``on``, with their
    census days, oldest first (a term that is not a census term is ignored)."""
    terms = pupil_enrolment.census_term.as_table().distinct().execute()["census_term"]
    held = {}
    for term in sorted((t for t in terms if isinstance(t, str)), key=census_term_sort_key):
        try:
            day = census_day(term)
        except (KeyError, ValueError):
            continue
        if day <= on:
            held[term] = day
    return held


def child_birth_dates(cin_child: Table, cla_child: Table) -> Table:
    """Each child's date of birth as the newest return gives it: the CIN census first, then
    SSDA903 (the order the linkage anchors a child's identifiers in, as
    :mod:`cwsw.targeting.facts` reads it). Columns: ``la_child_id``, ``birth_date``."""
    parts = []
    for rank, table in enumerate((cin_child, cla_child)):
        parts.append(
            table.filter(table.birth_date.notnull()).select(
                CHILD, "birth_date", _rank=rank * 10_000 - table.collection_year.cast("int64")
            )
        )
    records = parts[0].union(parts[1])
    return records.group_by(CHILD).aggregate(birth_date=records.birth_date.argmin(records._rank))


def missing_from_roll(con: ibis.BaseBackend, on: dt.date) -> Table:
    """The children missing from school rolls on ``on`` (module docstring), from the
    warehouse's tables, one row per child in LA child ID order.

    Raises :class:`NoCensusHeld` when no school census is loaded with a census day on or
    before ``on``, or the children have not been linked to pupils (``cwsw link``).
    """
    if LINK_TABLE not in con.list_tables():
        raise NoCensusHeld(
            "no child-pupil links in the warehouse: run cwsw link before listing children "
            "missing from school rolls"
        )
    held = censuses_held(con.table("pupil_enrolment"), on)
    if not held:
        raise NoCensusHeld(
            f"no school census loaded with a census day on or before {on.isoformat()}: "
            "load one (cwsw ingest) or list on a later date"
        )
    return children_missing_from_roll(
        cin_episode=con.table("cin_episode"),
        cp_plan=con.table("cp_plan"),
        cla_episode=con.table("cla_episode"),
        cin_child=con.table("cin_child"),
        cla_child=con.table("cla_child"),
        pupil_enrolment=con.table("pupil_enrolment"),
        establishment=con.table("establishment"),
        child_pupil_link=con.table(LINK_TABLE),
        on=on,
        censuses=held,
    )


def children_missing_from_roll(
    *,
    cin_episode: Table,
    cp_plan: Table,
    cla_episode: Table,
    cin_child: Table,
    cla_child: Table,
    pupil_enrolment: Table,
    establishment: Table,
    child_pupil_link: Table,
    on: dt.date,
    censuses: Mapping[str, dt.date],
) -> Table:
    """:func:`missing_from_roll` over the given tables; ``censuses`` are the census terms held
    by ``on`` with their census days (:func:`censuses_held`, not empty)."""
    latest = max(censuses, key=census_term_sort_key)
    on_date = ibis.literal(on)

    # With a social worker now, of compulsory school age.
    status = social_care_status_at(cin_episode, cp_plan, cla_episode, on)
    status = status.filter(status.social_care_status.isin(WITH_A_SOCIAL_WORKER))
    born = child_birth_dates(cin_child, cla_child)
    earliest, latest_birth = compulsory_school_age_birth_dates(on)
    children = status.join(born, CHILD).filter(
        born.birth_date.between(ibis.literal(earliest), ibis.literal(latest_birth))
    )

    # Their pupils' rows in every census held by the date.
    link = child_pupil_link.select(CHILD, "upn").distinct()
    rows = pupil_enrolment.filter(pupil_enrolment.census_term.isin(list(censuses)))
    day_of = ibis.cases(*((rows.census_term == t, ibis.literal(d)) for t, d in censuses.items()))
    rows = rows.select(
        "upn",
        "laestab",
        "enrolment_id",
        "entry_date",
        on_roll=rows.on_roll.fill_null(True),
        census_day=day_of,
        latest=rows.census_term == latest,
        left_date=ibis.ifelse(rows.leaving_date <= on_date, rows.leaving_date, ibis.null("date")),
    )
    child_rows = children.select(CHILD).join(link, CHILD).join(rows, "upn")
    child_rows = child_rows.select(
        CHILD,
        "laestab",
        "enrolment_id",
        "entry_date",
        "on_roll",
        "census_day",
        "latest",
        "left_date",
    )

    on_roll_now = child_rows.filter(child_rows.latest & child_rows.on_roll).select(CHILD).distinct()
    linked = children.select(CHILD).join(link, CHILD).select(CHILD).distinct()

    # Each enrolment: when it left (by the date), when it was last on a census, when it began.
    key = [CHILD, "laestab", "enrolment_id"]
    enrolments = child_rows.group_by(key).aggregate(
        left_date=child_rows.left_date.max(),
        entry_date=child_rows.entry_date.min(),
        seen=child_rows.census_day.max(),
        # The latest census day on which it is on roll.
        on_roll_day=child_rows.census_day.max(where=child_rows.on_roll),
    )
    enrolments = enrolments.mutate(last_seen=enrolments.left_date.fill_null(enrolments.seen))
    order = ibis.window(
        group_by=CHILD,
        order_by=[ibis.desc("last_seen"), ibis.asc("laestab"), ibis.asc("enrolment_id")],
    )
    ranked = enrolments.mutate(_rank=ibis.row_number().over(order))
    last = ranked.filter(ranked._rank == 0).select(
        CHILD,
        last_laestab="laestab",
        last_enrolment="enrolment_id",
        leaving_date="left_date",
    )

    # A next school: another enrolment begun on or after the leaving date, or on a roll on or
    # after it.
    others = enrolments.join(last, CHILD)
    other = (others.laestab != others.last_laestab) | (
        others.enrolment_id.fill_null("") != others.last_enrolment.fill_null("")
    )
    next_school = (
        others.filter(
            other
            & others.leaving_date.notnull()
            & (
                (others.entry_date >= others.leaving_date)
                | (others.on_roll_day >= others.leaving_date)
            )
        )
        .select(CHILD)
        .distinct()
    )
    year_before = _same_day_a_year_before(on)
    left_in_year = last.filter(
        last.leaving_date.notnull() & (last.leaving_date > ibis.literal(year_before))
    )
    left_no_next = left_in_year.anti_join(next_school, CHILD).select(CHILD)

    listed = children.select(CHILD).anti_join(on_roll_now, CHILD)
    names = establishment.filter(establishment.establishment_name.notnull())
    names = names.group_by("laestab").aggregate(last_school_name=names.establishment_name.min())

    table = (
        children.join(listed, CHILD)
        .left_join(last, CHILD)
        .select(
            CHILD,
            "social_care_status",
            "birth_date",
            "last_laestab",
            "leaving_date",
        )
    )
    table = table.left_join(left_no_next.mutate(_left=ibis.literal(True)), CHILD).drop(
        f"{CHILD}_right"
    )
    table = table.left_join(linked.mutate(_linked=ibis.literal(True)), CHILD).drop(f"{CHILD}_right")
    table = table.left_join(names, table.last_laestab == names.laestab).drop("laestab")
    result = table.select(
        CHILD,
        "social_care_status",
        "birth_date",
        age=age_on(table.birth_date, on),
        reason=ibis.ifelse(table._left.fill_null(False), LEFT_NO_NEXT_SCHOOL, ON_NO_ROLL),
        last_laestab=table.last_laestab,
        last_school_name=table.last_school_name,
        leaving_date=table.leaving_date,
        linked=table._linked.fill_null(False),
    )
    return result.order_by(CHILD)


def _same_day_a_year_before(on: dt.date) -> dt.date:
    """``on`` a year earlier (29 February goes to 28 February)."""
    try:
        return on.replace(year=on.year - 1)
    except ValueError:
        return dt.date(on.year - 1, 2, 28)
