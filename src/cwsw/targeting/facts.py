"""The facts table a rule set rates, built from the warehouse for a rating date.

One row per child with a social care status on the date (:func:`social_care_status_at`:
looked after, CP plan, in need, or previously had a social worker), and the columns
:mod:`cwsw.targeting.engine` reads (``docs/targeting.md``):

- ``social_care_status`` on the date;
- ``compulsory_school_age``: NC year 1 to 11 by date of birth in the academic year of the
  date (:func:`cwsw.indicators.absence.nc_year_by_age`, DfE's rule: aged 5 to 15 on 31 August
  before the year); not known without a date of birth;
- ``on_roll``: on the roll of a school in the latest school census held by the date, through
  the child-pupil link (a child the link found no pupil for is on no roll); not known if no
  census is loaded;
- for each term the rules read, counted back from "this term" (by default the term the
  latest census by the date carries, a term in arrears): ``attendance_pct``, ``absence_pct``,
  ``persistently_absent``, ``severely_absent`` from the sessions of every enrolment of the
  child's pupils on that term's census (:func:`cwsw.indicators.absence.enrolment_absence`,
  summed over enrolments, so a child who moved school is one child; every phase and age, as
  a child in alternative provision needs rating too), and ``suspensions`` and
  ``permanent_exclusions`` the census records
  (:func:`cwsw.indicators.pupils.exclusions_by_pupil`), 0 for a child on the census with
  none. A term whose census is not loaded, or a child not on it, is not known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis.expr.types import Table

from cwsw.cohort.status import social_care_status_at
from cwsw.domain.calendar import (
    academic_year_start,
    census_day,
    census_term_sort_key,
)
from cwsw.errors import UserError
from cwsw.indicators import absence, pupils
from cwsw.linkage.run import CHILD_PUPIL_LINK
from cwsw.targeting.rules import RuleSet, Term, column

CHILD = "la_child_id"
# cwsw.linkage.run.CHILD_PUPIL_LINK, named here: importing the linkage run imports Splink.
LINK_TABLE = CHILD_PUPIL_LINK


class NothingToRate(UserError):
    """The warehouse lacks what a rating needs (no school census by the date)."""


@dataclass(frozen=True)
class RatingFacts:
    """The facts of every child for a rating on ``on``: ``table`` (one row per child, sorted),
    ``this_term`` (the rules' "this term"), ``roll_census`` (the census ``on_roll`` reads,
    None if none is loaded by the date)."""

    table: pd.DataFrame
    on: dt.date
    this_term: Term
    roll_census: str | None


def censuses_by(con: ibis.BaseBackend, on: dt.date) -> list[str]:
    """The school census terms loaded whose census day is on or before ``on``, oldest first."""
    terms = con.table("pupil_enrolment").census_term.as_table().distinct().execute()
    loaded = [str(t) for t in terms["census_term"] if isinstance(t, str) and "_" in t]
    return sorted((t for t in loaded if census_day(t) <= on), key=census_term_sort_key)


def rating_facts(
    con: ibis.BaseBackend, rules: RuleSet, on: dt.date, this_term: Term | None = None
) -> RatingFacts:
    """Every child's facts on ``on`` for ``rules`` (module docstring).

    ``this_term`` defaults to the term the latest census by ``on`` carries. Raises
    :class:`NothingToRate` when no census is loaded by ``on`` and no term is given.
    """
    censuses = censuses_by(con, on)
    if this_term is None:
        if not censuses:
            raise NothingToRate(
                f"no school census loaded with a census day on or before {on.isoformat()}: "
                "load one (cwsw ingest) or rate on a later date"
            )
        this_term = Term.of_census(censuses[-1])
    roll_census = censuses[-1] if censuses else None

    status = social_care_status_at(
        con.table("cin_episode"), con.table("cp_plan"), con.table("cla_episode"), on
    )
    children = status.execute().sort_values(CHILD, kind="stable").reset_index(drop=True)
    children = children[[CHILD, "social_care_status"]]
    link = con.table(LINK_TABLE).select(CHILD, "upn").distinct()
    child_upns = status.select(CHILD).join(link, CHILD).select(CHILD, "upn")

    parts = [
        _compulsory_school_age(con, status, on),
        _on_roll(con, status, child_upns, roll_census),
    ]
    years: dict[int, absence.EnrolmentYear] = {}
    for term in rules.terms(this_term):
        year_end = term.academic_year_end
        if year_end not in years:
            years[year_end] = absence.enrolment_year(
                con.table("pupil_enrolment"), con.table("pupil_absence"), year_end
            )
        parts.append(_term_absence(con, child_upns, term, years[year_end]))
        parts.append(_term_exclusions(con, child_upns, term))
    table = children
    for part in parts:
        table = table.merge(part, on=CHILD, how="left", validate="one_to_one")
    return RatingFacts(_typed(table), on, this_term, roll_census)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Flags as nullable booleans, counts as nullable integers (missing stays missing)."""
    typed = table.copy()
    for name in typed.columns:
        measure = name.split("[")[0]
        if measure in (
            "compulsory_school_age",
            "on_roll",
            "persistently_absent",
            "severely_absent",
        ):
            typed[name] = typed[name].astype("boolean")
        elif measure in ("suspensions", "permanent_exclusions"):
            typed[name] = typed[name].astype("Int64")
        elif measure in ("attendance_pct", "absence_pct"):
            typed[name] = typed[name].astype("float64")
    return typed


def _birth_dates(con: ibis.BaseBackend) -> Table:
    """Each child's date of birth as the newest return gives it: the CIN census first, then
    SSDA903 (the order the linkage anchors a child's identifiers in)."""
    parts = []
    for rank, name in enumerate(("cin_child", "cla_child")):
        table = con.table(name)
        parts.append(
            table.filter(table.birth_date.notnull()).select(
                CHILD, "birth_date", _rank=rank * 10_000 - table.collection_year.cast("int64")
            )
        )
    records = parts[0].union(parts[1])
    return records.group_by(CHILD).aggregate(birth_date=records.birth_date.argmin(records._rank))


def _compulsory_school_age(con: ibis.BaseBackend, status: Table, on: dt.date) -> pd.DataFrame:
    """Of compulsory school age on ``on`` (NC years 1 to 11 by date of birth); not known
    without a date of birth."""
    born = status.select(CHILD).left_join(_birth_dates(con), CHILD)
    nc_year = absence.nc_year_by_age(born.birth_date, academic_year_start(on) + 1)
    frame = born.select(CHILD, "birth_date", nc_year=nc_year).execute()
    of_age = frame["nc_year"].isin(absence.COMPULSORY_NC_YEARS).astype(object)
    return pd.DataFrame(
        {CHILD: frame[CHILD], "compulsory_school_age": of_age.where(frame["birth_date"].notna())}
    )


def _on_roll(
    con: ibis.BaseBackend, status: Table, child_upns: Table, census: str | None
) -> pd.DataFrame:
    """On a roll in ``census`` through the link (a child linked to no pupil is on none);
    not known when no census is loaded."""
    children = status.select(CHILD).execute()
    if census is None:
        return children.assign(on_roll=None)
    enrolment = con.table("pupil_enrolment")
    # As the census headcount reads it: a row with no on-roll flag is on roll.
    rows = enrolment.filter((enrolment.census_term == census) & enrolment.on_roll.fill_null(True))
    found = child_upns.semi_join(rows.select("upn"), "upn").select(CHILD).distinct().execute()
    return children.assign(on_roll=children[CHILD].isin(found[CHILD]))


def _term_absence(
    con: ibis.BaseBackend, child_upns: Table, term: Term, year: absence.EnrolmentYear
) -> pd.DataFrame:
    """Attendance, absence and the absence flags of each child in ``term``, over every
    enrolment of their pupils on the census that carries it."""
    enrolments = absence.enrolment_absence(
        con.table("pupil_enrolment"),
        con.table("pupil_absence"),
        con.table("establishment"),
        term.academic_year_end,
        terms=(term.census_term,),
        year=year,
    )
    joined = enrolments.join(child_upns, "upn")
    rate = absence.overall_absence(joined)
    totals = joined.group_by(CHILD).aggregate(
        _missed=rate["numerator"], _possible=rate["denominator"]
    )
    frame = totals.execute()
    possible = frame["_possible"].astype("float64")
    share = (frame["_missed"].astype("float64") / possible).where(possible > 0)
    known = share.notna()
    result = pd.DataFrame({CHILD: frame[CHILD]})
    result[column("absence_pct", term)] = 100 * share
    result[column("attendance_pct", term)] = 100 - 100 * share
    result[column("persistently_absent", term)] = (
        (share >= absence.PERSISTENT_ABSENCE_THRESHOLD).astype(object).where(known, None)
    )
    result[column("severely_absent", term)] = (
        (share >= absence.SEVERE_ABSENCE_THRESHOLD).astype(object).where(known, None)
    )
    return result


def _term_exclusions(con: ibis.BaseBackend, child_upns: Table, term: Term) -> pd.DataFrame:
    """Suspensions and permanent exclusions of each child on the census carrying ``term``
    (0 when on it with none)."""
    enrolment = con.table("pupil_enrolment")
    exclusion = con.table("pupil_exclusion")
    census = term.census_term
    on_census = child_upns.semi_join(
        enrolment.filter(enrolment.census_term == census).select("upn"), "upn"
    )
    counted = pupils.exclusions_by_pupil(
        enrolment, exclusion.filter(exclusion.census_term == census), term.academic_year_end
    )
    per_child = (
        on_census.left_join(counted, on_census.upn == counted._pupil)
        .group_by(CHILD)
        .aggregate(
            suspensions=ibis._.suspensions.fill_null(0).sum(),
            permanent_exclusions=ibis._.permanent_exclusions.fill_null(0).sum(),
        )
        .execute()
    )
    return per_child.rename(
        columns={
            "suspensions": column("suspensions", term),
            "permanent_exclusions": column("permanent_exclusions", term),
        }
    )
