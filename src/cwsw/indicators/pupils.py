"""Pupil characteristics and the census-based measures: SEN, FSM, suspensions, exclusions.

Sources: DfE, "Special educational needs in England" and "Schools, pupils and their
characteristics" (SEN provision and FSM eligibility on census day, % of pupils on roll);
"Suspensions and permanent exclusions in England" methodology (suspension rate = suspensions
per 100 pupils; one-or-more-suspension rate and permanent exclusion rate = % of pupils, the
January (spring) census headcount as the base). Every function takes and returns Ibis
expressions.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis import _
from ibis.expr.types import Table

from cwsw.domain.calendar import census_terms_for_absence, spring_census_day

DEFINITION_VERSION = "pupils-1"

SEN_SUPPORT = "K"
EHC_PLAN = "E"
FSM6_YEARS = 6
# A pupil's characteristics as the spring census records them.
CENSUS_DETAILS = ("nc_year", "sex", "ethnicity", "sen_provision")


def pupil_key(table: Table) -> ibis.ir.StringColumn:
    """A pupil's key: the UPN, or the enrolment where the UPN is missing or invalid."""
    return table.upn.fill_null(
        ibis.literal("enrolment:") + table.laestab + ":" + table.enrolment_id
    )


ENROLMENT_TERM_KEY = ["census_term", "laestab", "enrolment_id"]


def _enrolment_upns(pupil_enrolment: Table, of: Table) -> Table:
    """The pupil of each enrolment in a census term that ``of`` has rows for.

    Narrowed to ``of``'s enrolments before the distinct: exclusions touch a few enrolments
    of the millions on roll, and the distinct would otherwise hash every one of them.
    """
    keys = of.select(*ENROLMENT_TERM_KEY)
    return (
        pupil_enrolment.semi_join(keys, ENROLMENT_TERM_KEY)
        .select(*ENROLMENT_TERM_KEY, _pupil=pupil_key(pupil_enrolment))
        .distinct()
    )


def fsm_flags(pupil_enrolment: Table, pupil_fsm: Table, academic_year_end: int) -> Table:
    """Each pupil's FSM eligibility on the spring census day, and in the last six years.

    ``fsm``: an FSM period (any census that recorded it) covering census day. ``fsm6``: a
    period overlapping the six years up to census day (DfE's "FSM6", ever eligible in the last
    six years, from the periods the loaded censuses hold). Columns: ``_pupil``, ``fsm``,
    ``fsm6``.
    """
    day = spring_census_day(academic_year_end)
    six_years_before = dt.date(day.year - FSM6_YEARS, day.month, day.day)
    periods = pupil_fsm.join(_enrolment_upns(pupil_enrolment, pupil_fsm), ENROLMENT_TERM_KEY)
    ends = periods.end_date
    covers = (periods.start_date <= day) & (ends.isnull() | (ends >= day))
    within = (periods.start_date <= day) & (ends.isnull() | (ends >= six_years_before))
    return periods.group_by("_pupil").aggregate(fsm=covers.any(), fsm6=within.any())


def exclusions_by_pupil(
    pupil_enrolment: Table, pupil_exclusion: Table, academic_year_end: int
) -> Table:
    """Each pupil's suspensions and permanent exclusions in the academic year.

    Exclusions are collected a term in arrears, like absence (the year's three census
    terms). Columns: ``_pupil``, ``suspensions``, ``permanent_exclusions``.
    """
    terms = census_terms_for_absence(academic_year_end)
    of_year = pupil_exclusion.filter(pupil_exclusion.census_term.isin(terms))
    rows = of_year.join(_enrolment_upns(pupil_enrolment, of_year), ENROLMENT_TERM_KEY)
    category = rows.category.upper().strip()
    return rows.group_by("_pupil").aggregate(
        suspensions=(category == "SUSP").sum(),
        permanent_exclusions=(category == "PERM").sum(),
    )


def census_pupils(
    pupil_enrolment: Table,
    pupil_exclusion: Table,
    pupil_fsm: Table,
    establishment: Table,
    academic_year_end: int,
    *,
    fsm: Table | None = None,
    with_fsm: bool = True,
) -> Table:
    """The spring census headcount: one row per pupil on roll, with characteristics.

    A pupil on roll at two schools (dual registration) counts once, at the main (``C`` or
    ``M``) registration. Columns: ``upn``, ``laestab``, ``phase``, ``nc_year``, ``sex``,
    ``ethnicity``, ``sen_provision``, ``fsm``, ``fsm6``, ``suspensions``,
    ``permanent_exclusions``. ``fsm`` is :func:`fsm_flags` if already computed; without
    ``with_fsm`` the ``fsm`` and ``fsm6`` columns are left out (for figures that read neither).
    """
    spring = (
        pupil_enrolment.filter(
            (pupil_enrolment.census_term == f"{academic_year_end}_spring")
            & pupil_enrolment.on_roll.fill_null(True)
        )
        # Only the columns used: the window below sorts every column it is given.
        .select("laestab", "enrolment_id", "upn", "enrol_status", *CENSUS_DETAILS)
        .mutate(_pupil=pupil_key)
    )
    main_first = ibis.cases((spring.enrol_status.isin(["C", "M"]), 0), else_=1)
    window = ibis.window(group_by="_pupil", order_by=[main_first, spring.laestab])
    one = (
        spring.mutate(_rank=ibis.row_number().over(window))
        .filter(_._rank == 0)
        .select("_pupil", "upn", "laestab", *CENSUS_DETAILS)
    )
    if with_fsm:
        if fsm is None:
            fsm = fsm_flags(pupil_enrolment, pupil_fsm, academic_year_end)
        one = (
            one.left_join(fsm, "_pupil")
            .drop("_pupil_right")
            .mutate(fsm=_.fsm.fill_null(False), fsm6=_.fsm6.fill_null(False))
        )
    excluded = exclusions_by_pupil(pupil_enrolment, pupil_exclusion, academic_year_end)
    phases = establishment.select("laestab", "phase").distinct()
    return (
        one.left_join(excluded, "_pupil")
        .drop("_pupil_right")
        .left_join(phases, "laestab")
        .drop("laestab_right")
        .mutate(
            suspensions=_.suspensions.fill_null(0),
            permanent_exclusions=_.permanent_exclusions.fill_null(0),
        )
        .drop("_pupil")
    )


def _share(pupils: Table, flag: ibis.ir.BooleanColumn) -> dict[str, ibis.Value]:
    return {"numerator": flag.sum(), "denominator": pupils.count()}


def pupil_count(pupils: Table) -> dict[str, ibis.Value]:
    """Number of pupils on roll at the spring census (headcount), the base of the % of pupils."""
    n = pupils.count()
    return {"numerator": n, "denominator": n}


def one_plus_suspension_rate(pupils: Table) -> dict[str, ibis.Value]:
    """Pupils with one or more suspensions, % of pupils (EES ``one_plus_susp_rate``)."""
    return _share(pupils, pupils.suspensions > 0)


def suspension_rate(pupils: Table) -> dict[str, ibis.Value]:
    """Suspension rate: suspensions per 100 pupils (EES ``susp_rate``)."""
    return {"numerator": pupils.suspensions.sum(), "denominator": pupils.count()}


def permanent_exclusion_rate(pupils: Table) -> dict[str, ibis.Value]:
    """Permanent exclusion rate: permanently excluded pupils, % of pupils (``perm_excl_rate``)."""
    return _share(pupils, pupils.permanent_exclusions > 0)


def sen_support(pupils: Table) -> dict[str, ibis.Value]:
    """SEN support: % of pupils with SEN provision ``K`` on census day (EES ``pt_sen_support``)."""
    return _share(pupils, pupils.sen_provision.upper() == SEN_SUPPORT)


def ehc_plan(pupils: Table) -> dict[str, ibis.Value]:
    """EHC plan: % of pupils with SEN provision ``E`` on census day (EES ``pt_ehcp``)."""
    return _share(pupils, pupils.sen_provision.upper() == EHC_PLAN)


def fsm_eligible(pupils: Table) -> dict[str, ibis.Value]:
    """FSM: % of pupils known to be eligible for free school meals on census day."""
    return _share(pupils, pupils.fsm)


def fsm6_eligible(pupils: Table) -> dict[str, ibis.Value]:
    """FSM6: % of pupils eligible for free school meals at any time in the last six years."""
    return _share(pupils, pupils.fsm6)
