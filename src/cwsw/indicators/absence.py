"""Absence measures, one function per DfE definition, on enrolments for one academic year.

Source: DfE, "Pupil absence in schools in England" methodology (explore-education-statistics),
and "School attendance: guidance for schools" (attendance codes, 2024). Measures are
enrolment based: a pupil who moved school counts once per school, each against that
enrolment's own possible sessions, over the six half terms of the year. The population is
defined by age (pupils aged 5 to 15 at the start of the year), so an enrolment's NC year is
the one its pupil's date of birth gives (:func:`nc_year_by_age`), whichever census tables
(on roll or no longer on roll) it appears in.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import ibis
from ibis.expr.types import Table

from cwsw.domain.attendance_codes import AUTHORISED_ABSENCE_CODES, UNAUTHORISED_ABSENCE_CODES
from cwsw.domain.calendar import (
    RECEPTION_AGE,
    YEAR_GROUP_FIRST_BIRTH_MONTH,
    census_terms_for_absence,
)

# absence-3: NC year from the date of birth; leavers seen only as no longer on roll kept.
DEFINITION_VERSION = "absence-3"

# DfE's headline absence covers state-funded primary, secondary and special schools.
HEADLINE_PHASES = ("Primary", "Secondary", "Special")
# Pupils of compulsory school age: national curriculum years 1 to 11 (ages 5 to 15).
COMPULSORY_NC_YEARS = tuple(str(y) for y in range(1, 12))
# The NC years by age a label is given for: nursery (N1, N2), Reception, Years 1 to 14.
NC_YEAR_LABELS = {-2: "N1", -1: "N2", 0: "R", **{y: str(y) for y in range(1, 15)}}

PERSISTENT_ABSENCE_THRESHOLD = 0.10
SEVERE_ABSENCE_THRESHOLD = 0.50


ENROLMENT_KEY = ("laestab", "enrolment_id")
PUPIL_DETAILS = ("upn", "nc_year", "sex", "ethnicity", "sen_provision")
# Per census term, an enrolment's possible, authorised and unauthorised sessions.
SESSION_TOTALS = ("possible", "authorised", "unauthorised")
# Read by every enrolment population: the pupil (cohorts) and the NC year (headline filter).
ALWAYS_READ = ("upn", "nc_year")


def nc_year_by_age(birth_date: ibis.ir.DateValue, academic_year_end: int) -> ibis.ir.StringValue:
    """The NC year a date of birth gives in the academic year, as the census writes it.

    :func:`cwsw.domain.calendar.nc_year_from_date_of_birth` (DfE's rule: age on 31 August
    before the year, 5 is Year 1 ... 15 is Year 11) as an expression, labelled ``R``, ``1``
    ... ``14``, ``N1``, ``N2``; null outside those or without a date. Compared, never cast,
    so every engine gives the same label.
    """
    younger = ibis.ifelse(birth_date.month() >= YEAR_GROUP_FIRST_BIRTH_MONTH, 1, 0)
    nc = (academic_year_end - 1 - RECEPTION_AGE) - birth_date.year() - younger
    return ibis.cases(
        *((nc == year, label) for year, label in NC_YEAR_LABELS.items()),
        else_=ibis.null("string"),
    )


def part_column(total: str, part: int) -> str:
    """The :class:`EnrolmentYear` column of one part's sessions: ``possible_0``."""
    return f"{total}_{part}"


@dataclass(frozen=True)
class EnrolmentYear:
    """A year's enrolments, one row each, read once for the year and each of its terms.

    ``table``: ``laestab``, ``enrolment_id``, the ``details`` (of :data:`PUPIL_DETAILS`) as at
    the year's first census, and per part of the year (``parts``: each census term, or the
    three together when no term is wanted alone; :func:`part_column`) its possible sessions
    from the enrolment rows (null where the enrolment is on none of the part's censuses) and
    its authorised and unauthorised sessions from the session codes (null where none).
    """

    table: Table
    parts: tuple[tuple[str, ...], ...]
    details: tuple[str, ...] = PUPIL_DETAILS

    def cache(self) -> EnrolmentYear:
        """The table stored (it is read by the year and by every term)."""
        return EnrolmentYear(self.table.cache(), self.parts, self.details)

    def release(self) -> None:
        self.table.release()

    def parts_of(self, terms: tuple[str, ...]) -> list[int]:
        """The parts that make up ``terms`` exactly (a ValueError if they cannot)."""
        chosen = [i for i, part in enumerate(self.parts) if set(part) <= set(terms)]
        if {t for i in chosen for t in self.parts[i]} != set(terms):
            raise ValueError(f"the year was read in parts {self.parts}, not by {terms}")
        return chosen


def enrolment_year(
    pupil_enrolment: Table,
    pupil_absence: Table,
    academic_year_end: int,
    *,
    by_term: bool = True,
    details: tuple[str, ...] = PUPIL_DETAILS,
) -> EnrolmentYear:
    """The year's enrolments, details and sessions by census term (:class:`EnrolmentYear`).

    One aggregate per source table, a part of the year per column: grouping by enrolment
    alone, not by enrolment and term, keeps a third of the groups, and the details come from
    the same pass (the first census's row) instead of a window sorting every row. Without
    ``by_term`` the year is one part; ``details`` (:data:`ALWAYS_READ` added) are the pupil's
    details carried.

    Every enrolment on any of the year's censuses is kept, on roll or no longer on roll. Its
    ``nc_year`` is the one its pupil's date of birth gives (:func:`nc_year_by_age`, from the
    first census row with a date of birth): DfE defines the absence population by age, a
    leaver's "no longer on roll" row carries no NC year, and the autumn census records the
    next year's for a pupil still on roll. Only an enrolment with no readable date of birth
    (reported when it was loaded) takes the NC year its censuses record for this year: a
    spring or summer census's, or the year an autumn leaver left in.
    """
    year_terms = census_terms_for_absence(academic_year_end)
    parts = tuple((t,) for t in year_terms) if by_term else (year_terms,)
    carried = tuple(c for c in PUPIL_DETAILS if c in {*details, *ALWAYS_READ})
    key = list(ENROLMENT_KEY)
    rows = pupil_enrolment.filter(pupil_enrolment.census_term.isin(year_terms))
    # The pupil's details as at the first census of the year.
    first_census = ibis.cases(*((rows.census_term == t, i) for i, t in enumerate(year_terms)))
    possible = rows.sessions_possible.fill_null(0) + rows.summer_ht2_sessions_possible.fill_null(0)
    # The autumn census's NC year belongs to the next year for pupils still on roll.
    next_years = (rows.census_term == year_terms[-1]) & rows.on_roll.fill_null(True)

    def in_part(table: Table, part: tuple[str, ...]) -> ibis.ir.BooleanValue | None:
        return None if part == year_terms else table.census_term.isin(part)

    enrolments = rows.group_by(key).aggregate(
        # Column by column: PostgreSQL cannot take a struct apart again.
        **{column: rows[column].argmin(first_census) for column in carried if column != "nc_year"},
        _birth_date=rows.birth_date.argmin(first_census, where=rows.birth_date.notnull()),
        _recorded_nc_year=rows.nc_year.argmin(
            first_census, where=rows.nc_year.notnull() & ~next_years
        ),
        **{
            part_column("possible", i): possible.sum(where=in_part(rows, part))
            for i, part in enumerate(parts)
        },
    )
    born = enrolments._birth_date
    enrolments = enrolments.mutate(
        nc_year=ibis.ifelse(
            born.notnull(), nc_year_by_age(born, academic_year_end), enrolments._recorded_nc_year
        )
    )
    codes = pupil_absence.filter(pupil_absence.census_term.isin(year_terms))
    code = codes.attendance_code.upper().strip()
    sessions = codes.sessions.fill_null(0)
    kinds = {"authorised": AUTHORISED_ABSENCE_CODES, "unauthorised": UNAUTHORISED_ABSENCE_CODES}

    def of_kind(part: tuple[str, ...], listed: tuple[str, ...]) -> ibis.ir.BooleanValue:
        where = in_part(codes, part)
        return code.isin(listed) if where is None else where & code.isin(listed)

    missed = codes.group_by(key).aggregate(
        **{
            part_column(kind, i): sessions.sum(where=of_kind(part, listed))
            for i, part in enumerate(parts)
            for kind, listed in kinds.items()
        }
    )
    table = enrolments.left_join(missed, key).select(
        *key,
        *carried,
        *(part_column(total, i) for i in range(len(parts)) for total in SESSION_TOTALS),
    )
    return EnrolmentYear(table, parts, carried)


def enrolment_absence(
    pupil_enrolment: Table,
    pupil_absence: Table,
    establishment: Table,
    academic_year_end: int,
    *,
    terms: tuple[str, ...] | None = None,
    year: EnrolmentYear | None = None,
) -> Table:
    """One row per enrolment in the year: its pupil, school, phase and session totals.

    ``terms`` narrows the year to some of its census terms (for trends by term: the spring
    census alone is the autumn term). Columns: ``laestab``, ``enrolment_id``, ``upn``,
    ``nc_year``, ``sex``, ``ethnicity``, ``sen_provision`` (as at the year's first census),
    ``phase``, ``sessions_possible``, ``authorised``, ``unauthorised``. ``year`` is
    :func:`enrolment_year`, if already computed.
    """
    if year is None:
        year = enrolment_year(
            pupil_enrolment, pupil_absence, academic_year_end, by_term=terms is not None
        )
    parts = year.parts_of(terms or census_terms_for_absence(academic_year_end))
    table = year.table

    def over_terms(total: str) -> ibis.ir.IntegerValue:
        columns = [table[part_column(total, i)].fill_null(0) for i in parts]
        return functools.reduce(operator.add, columns)

    on_census = functools.reduce(
        operator.or_, [table[part_column("possible", i)].notnull() for i in parts]
    )
    phases = establishment.select("laestab", "phase").distinct()
    return (
        table.filter(on_census)
        .select(
            *ENROLMENT_KEY,
            *year.details,
            sessions_possible=over_terms("possible"),
            authorised=over_terms("authorised"),
            unauthorised=over_terms("unauthorised"),
        )
        .left_join(phases, "laestab")
        .drop("laestab_right")
    )


def headline_enrolments(enrolments: Table) -> Table:
    """Enrolments in DfE's headline absence population.

    Compulsory school age (NC years 1–11) in state-funded primary, secondary and special
    schools, with at least one possible session.
    """
    nc_year = enrolments.nc_year.cast("string").strip().replace(".0", "")
    return enrolments.filter(
        nc_year.isin(COMPULSORY_NC_YEARS)
        & enrolments.phase.isin(HEADLINE_PHASES)
        & (enrolments.sessions_possible > 0)
    )


def _absence_share(enrolments: Table) -> ibis.ir.FloatingColumn:
    missed = enrolments.authorised + enrolments.unauthorised
    return missed / enrolments.sessions_possible


def overall_absence(enrolments: Table) -> dict[str, ibis.Value]:
    """Overall absence rate: authorised + unauthorised sessions over possible sessions, %.

    EES ``pt_overall`` = ``t_sess_overall`` / ``t_sess_possible`` (DfE, "Pupil absence in
    schools in England", methodology; "Outcomes for children in need" absence tables).
    """
    missed = (enrolments.authorised + enrolments.unauthorised).sum()
    return {"numerator": missed, "denominator": enrolments.sessions_possible.sum()}


def authorised_absence(enrolments: Table) -> dict[str, ibis.Value]:
    """Authorised absence rate: authorised sessions over possible sessions, %.

    EES ``pt_sess_authorised``; codes from :mod:`cwsw.domain.attendance_codes`.
    """
    return {
        "numerator": enrolments.authorised.sum(),
        "denominator": enrolments.sessions_possible.sum(),
    }


def unauthorised_absence(enrolments: Table) -> dict[str, ibis.Value]:
    """Unauthorised absence rate: unauthorised sessions over possible sessions, %.

    EES ``pt_sess_unauthorised``; codes from :mod:`cwsw.domain.attendance_codes`.
    """
    return {
        "numerator": enrolments.unauthorised.sum(),
        "denominator": enrolments.sessions_possible.sum(),
    }


def persistent_absence(enrolments: Table) -> dict[str, ibis.Value]:
    """Persistent absence: % of enrolments missing 10% or more of their possible sessions.

    EES ``pt_pupils_pa_10_exact`` = ``t_pupils_pa_10_exact`` / ``t_pupils`` (enrolment based,
    each enrolment against its own possible sessions; DfE absence methodology, 2024/25).
    """
    is_persistent = _absence_share(enrolments) >= PERSISTENT_ABSENCE_THRESHOLD
    return {"numerator": is_persistent.sum(), "denominator": enrolments.count()}


def severe_absence(enrolments: Table) -> dict[str, ibis.Value]:
    """Severe absence: % of enrolments missing 50% or more of their possible sessions.

    EES ``pt_pupils_pa_50_exact`` (a subset of persistent absence; DfE absence methodology).
    """
    is_severe = _absence_share(enrolments) >= SEVERE_ABSENCE_THRESHOLD
    return {"numerator": is_severe.sum(), "denominator": enrolments.count()}


def enrolment_count(enrolments: Table) -> dict[str, ibis.Value]:
    """Number of enrolments in the absence population (the base of the % of enrolments)."""
    n = enrolments.count()
    return {"numerator": n, "denominator": n}


# The measures a mart holds, in display order: name -> (function, is a percentage).
ABSENCE_MEASURES = {
    "enrolments": (enrolment_count, False),
    "overall_absence": (overall_absence, True),
    "authorised_absence": (authorised_absence, True),
    "unauthorised_absence": (unauthorised_absence, True),
    "persistent_absence": (persistent_absence, True),
    "severe_absence": (severe_absence, True),
}
