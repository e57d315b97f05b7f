"""Absence measures, one function per DfE definition, on enrolments for one academic year.

Source: DfE, "Pupil absence in schools in England" methodology (explore-education-statistics),
and "School attendance: guidance for schools" (attendance codes, 2024). Measures are
enrolment based: a pupil who moved school counts once per school, each against that
enrolment's own possible sessions, over the six half terms of the year.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
from ibis import _
from ibis.expr.types import Table

from cwsw.formats.attendance_codes import AUTHORISED_ABSENCE_CODES, UNAUTHORISED_ABSENCE_CODES

DEFINITION_VERSION = "absence-2"

# DfE's headline absence covers state-funded primary, secondary and special schools.
HEADLINE_PHASES = ("Primary", "Secondary", "Special")
# Pupils of compulsory school age: national curriculum years 1 to 11.
COMPULSORY_NC_YEARS = tuple(str(y) for y in range(1, 12))

PERSISTENT_ABSENCE_THRESHOLD = 0.10
SEVERE_ABSENCE_THRESHOLD = 0.50


def census_terms_for_absence(academic_year_end: int) -> tuple[str, str, str]:
    """The census terms carrying a year's absence, a term in arrears (data-contracts §1).

    Academic year 2024/25 (``academic_year_end`` 2025): autumn term in the spring 2025
    census, spring term in summer 2025, the summer term's two halves in autumn 2025.
    """
    y = academic_year_end
    return (f"{y}_spring", f"{y}_summer", f"{y}_autumn")


TERM_NAMES = ("autumn", "spring", "summer")


@dataclass(frozen=True)
class EnrolmentYear:
    """A year's enrolments, read once for the year and each of its terms.

    ``details``: one row per enrolment (``laestab``, ``enrolment_id``, :data:`PUPIL_DETAILS`
    as at the year's first census); ``possible``: its possible sessions per census term
    (``census_term``, ``sessions_possible``) from the enrolment rows; ``absence``: its
    authorised and unauthorised sessions per census term from the session codes.
    """

    details: Table
    possible: Table
    absence: Table

    def cache(self) -> EnrolmentYear:
        """The three tables stored (each is read by the year and by every term)."""
        return EnrolmentYear(self.details.cache(), self.possible.cache(), self.absence.cache())

    def release(self) -> None:
        for table in (self.details, self.possible, self.absence):
            table.release()


ENROLMENT_KEY = ("laestab", "enrolment_id")


def enrolment_year(
    pupil_enrolment: Table, pupil_absence: Table, academic_year_end: int
) -> EnrolmentYear:
    """The year's enrolments, details and sessions by census term (:class:`EnrolmentYear`)."""
    year_terms = census_terms_for_absence(academic_year_end)
    key = list(ENROLMENT_KEY)
    # Only the columns used: the window below sorts every column it is given.
    year_rows = pupil_enrolment.filter(pupil_enrolment.census_term.isin(year_terms)).select(
        *key, "census_term", *PUPIL_DETAILS, "sessions_possible", "summer_ht2_sessions_possible"
    )
    year_rows = year_rows.mutate(
        _term_order=ibis.cases(*((year_rows.census_term == t, i) for i, t in enumerate(year_terms)))
    )
    # The pupil's details as at the first census of the year (the autumn census's NC year
    # already belongs to the next year for pupils still on roll).
    first_seen = ibis.window(group_by=key, order_by="_term_order")
    details = (
        year_rows.mutate(_rank=ibis.row_number().over(first_seen))
        .filter(_._rank == 0)
        .select(*key, *PUPIL_DETAILS)
    )
    possible = year_rows.group_by([*key, "census_term"]).aggregate(
        sessions_possible=(
            _.sessions_possible.fill_null(0) + _.summer_ht2_sessions_possible.fill_null(0)
        ).sum()
    )
    absences = pupil_absence.filter(pupil_absence.census_term.isin(year_terms))
    code = absences.attendance_code.upper().strip()
    sessions = absences.sessions.fill_null(0)
    absence = absences.group_by([*key, "census_term"]).aggregate(
        authorised=ibis.ifelse(code.isin(AUTHORISED_ABSENCE_CODES), sessions, 0).sum(),
        unauthorised=ibis.ifelse(code.isin(UNAUTHORISED_ABSENCE_CODES), sessions, 0).sum(),
    )
    return EnrolmentYear(details, possible, absence)


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
        year = enrolment_year(pupil_enrolment, pupil_absence, academic_year_end)
    terms = terms or census_terms_for_absence(academic_year_end)
    key = list(ENROLMENT_KEY)
    possible = (
        year.possible.filter(year.possible.census_term.isin(terms))
        .group_by(key)
        .aggregate(sessions_possible=_.sessions_possible.sum())
    )
    absence_totals = (
        year.absence.filter(year.absence.census_term.isin(terms))
        .group_by(key)
        .aggregate(authorised=_.authorised.sum(), unauthorised=_.unauthorised.sum())
    )
    phases = establishment.select("laestab", "phase").distinct()
    joined = (
        year.details.join(possible, key)
        .left_join(absence_totals, key)
        .select(
            *key,
            *PUPIL_DETAILS,
            "sessions_possible",
            authorised=_.authorised.fill_null(0),
            unauthorised=_.unauthorised.fill_null(0),
        )
        .left_join(phases, "laestab")
        .drop("laestab_right")
    )
    return joined


PUPIL_DETAILS = ("upn", "nc_year", "sex", "ethnicity", "sen_provision")


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

    EES ``pt_sess_authorised``; codes from :mod:`cwsw.formats.attendance_codes`.
    """
    return {
        "numerator": enrolments.authorised.sum(),
        "denominator": enrolments.sessions_possible.sum(),
    }


def unauthorised_absence(enrolments: Table) -> dict[str, ibis.Value]:
    """Unauthorised absence rate: unauthorised sessions over possible sessions, %.

    EES ``pt_sess_unauthorised``; codes from :mod:`cwsw.formats.attendance_codes`.
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
