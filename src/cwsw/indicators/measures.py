"""The catalogue of DfE measures: each one's function, population, base and published form.

Every measure is one function (in :mod:`~cwsw.indicators.absence`,
:mod:`~cwsw.indicators.pupils` or :mod:`~cwsw.indicators.attainment`) returning its numerator
and denominator as Ibis expressions. The catalogue adds what the marts, disclosure control and
benchmarks need: the population it counts, the names of its numerator and denominator
quantities (a quantity shared by two measures is one figure, e.g. the enrolments under
persistent and severe absence), whether each is a count of pupils (small counts are
suppressed), for a rate of sessions the count of enrolments it rests on (``built_on``), its
scale and DfE's published decimal places, and the EES columns it matches.

The functions run unchanged on DuckDB, PostgreSQL and Spark (``cwsw.indicators.engines``), so
they count a condition as ``flag.sum()`` (Ibis's portable count of trues) and never as
``flag.cast("int64").sum()``: PostgreSQL has no cast from boolean to bigint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import ibis
from ibis.expr.types import Table

from cwsw.indicators import absence, attainment, pupils
from cwsw.indicators.rounding import Number, dfe_rounded_ratio

# A mart row's period: a whole academic year, or one of its terms.
YEAR = "year"
TERM = "term"

ENROLMENTS = "enrolments"  # absence: enrolments over the six half terms (headline population)
PUPILS = "pupils"  # spring census headcount
KS2 = "ks2"  # pupils at the end of KS2
KS4 = "ks4"  # pupils at the end of KS4
POPULATIONS = (ENROLMENTS, PUPILS, KS2, KS4)

# Session totals add up over terms (a year's sessions are its terms' sessions).
ADDS_OVER_TERMS = frozenset(
    {"sessions_possible", "sessions_missed", "sessions_authorised", "sessions_unauthorised"}
)
# Counted once in each term an enrolment is seen: a year's figure is at most its terms'
# together and at least each term's (not so persistent absence, judged over each period).
COUNTED_IN_EACH_TERM = frozenset({"enrolments"})
# quantity = sum of quantities, within one cohort, breakdown value and period.
QUANTITY_SUMS = (("sessions_missed", ("sessions_authorised", "sessions_unauthorised")),)


@dataclass(frozen=True)
class EesColumns:
    """Where a measure sits in DfE's published EES file (e.g. ``absence_la.csv``)."""

    file: str
    numerator: str
    denominator: str
    value: str


@dataclass(frozen=True)
class Measure:
    name: str
    title: str
    population: str
    function: Callable[[Table], dict[str, ibis.Value]]
    numerator: str
    denominator: str
    unit: str  # "count", "%", "per 100 pupils" or "average"
    places: int  # DfE's published decimal places
    numerator_is_count: bool = True
    denominator_is_count: bool = True
    # The pupil count a figure on no pupil counts rests on (sessions over sessions): it is
    # withheld wherever that count is, since DfE suppresses a rate built on few pupils.
    built_on: str | None = None
    ees: EesColumns | None = None
    version: str = "1"

    @property
    def scale(self) -> int:
        return 100 if self.unit in ("%", "per 100 pupils") else 1

    @property
    def is_count(self) -> bool:
        return self.unit == "count"

    @property
    def definition(self) -> str:
        """The measure's definition: its function's docstring, first paragraph."""
        doc = self.function.__doc__ or ""
        return " ".join(doc.strip().split("\n\n")[0].split())

    def value(self, numerator: float | None, denominator: float | None) -> float | None:
        """The measure's value from its parts (a count is its numerator); None on no base."""
        if numerator is None:
            return None
        if self.is_count:
            return float(numerator)
        if not denominator:
            return None
        return self.scale * float(numerator) / float(denominator)

    def published(self, numerator: Number, denominator: Number) -> Decimal | None:
        """The value as DfE publishes it: exact ratio, rounded half away from zero."""
        if self.is_count:
            return Decimal(str(numerator))
        return dfe_rounded_ratio(numerator, denominator, scale=self.scale, places=self.places)


def _absence(file_column: str, numerator_column: str, denominator_column: str) -> EesColumns:
    return EesColumns("absence_la.csv", numerator_column, denominator_column, file_column)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "enrolments",
        "Enrolments",
        ENROLMENTS,
        absence.enrolment_count,
        "enrolments",
        "enrolments",
        "count",
        0,
    ),
    Measure(
        "overall_absence",
        "Overall absence rate",
        ENROLMENTS,
        absence.overall_absence,
        "sessions_missed",
        "sessions_possible",
        "%",
        1,
        numerator_is_count=False,
        denominator_is_count=False,
        built_on="enrolments",
        ees=_absence("pt_overall", "t_sess_overall", "t_sess_possible"),
    ),
    Measure(
        "authorised_absence",
        "Authorised absence rate",
        ENROLMENTS,
        absence.authorised_absence,
        "sessions_authorised",
        "sessions_possible",
        "%",
        1,
        numerator_is_count=False,
        denominator_is_count=False,
        built_on="enrolments",
        ees=_absence("pt_sess_authorised", "t_sess_authorised", "t_sess_possible"),
    ),
    Measure(
        "unauthorised_absence",
        "Unauthorised absence rate",
        ENROLMENTS,
        absence.unauthorised_absence,
        "sessions_unauthorised",
        "sessions_possible",
        "%",
        1,
        numerator_is_count=False,
        denominator_is_count=False,
        built_on="enrolments",
        ees=_absence("pt_sess_unauthorised", "t_sess_unauthorised", "t_sess_possible"),
    ),
    Measure(
        "persistent_absence",
        "Persistent absence",
        ENROLMENTS,
        absence.persistent_absence,
        "enrolments_persistently_absent",
        "enrolments",
        "%",
        1,
        ees=_absence("pt_pupils_pa_10_exact", "t_pupils_pa_10_exact", "t_pupils"),
    ),
    Measure(
        "severe_absence",
        "Severe absence",
        ENROLMENTS,
        absence.severe_absence,
        "enrolments_severely_absent",
        "enrolments",
        "%",
        1,
        ees=_absence("pt_pupils_pa_50_exact", "t_pupils_pa_50_exact", "t_pupils"),
    ),
    Measure("pupils", "Pupils", PUPILS, pupils.pupil_count, "pupils", "pupils", "count", 0),
    Measure(
        "one_plus_suspension",
        "Pupils with one or more suspensions",
        PUPILS,
        pupils.one_plus_suspension_rate,
        "pupils_suspended",
        "pupils",
        "%",
        2,
    ),
    Measure(
        "suspension_rate",
        "Suspension rate",
        PUPILS,
        pupils.suspension_rate,
        "suspensions",
        "pupils",
        "per 100 pupils",
        2,
    ),
    Measure(
        "permanent_exclusion",
        "Permanent exclusion rate",
        PUPILS,
        pupils.permanent_exclusion_rate,
        "pupils_permanently_excluded",
        "pupils",
        "%",
        2,
    ),
    Measure(
        "sen_support",
        "SEN support",
        PUPILS,
        pupils.sen_support,
        "pupils_sen_support",
        "pupils",
        "%",
        1,
    ),
    Measure("ehc_plan", "EHC plan", PUPILS, pupils.ehc_plan, "pupils_ehc_plan", "pupils", "%", 1),
    Measure(
        "fsm",
        "Eligible for free school meals",
        PUPILS,
        pupils.fsm_eligible,
        "pupils_fsm",
        "pupils",
        "%",
        1,
    ),
    Measure(
        "fsm6",
        "Eligible for FSM in the last 6 years",
        PUPILS,
        pupils.fsm6_eligible,
        "pupils_fsm6",
        "pupils",
        "%",
        1,
    ),
    Measure(
        "ks2_pupils",
        "Pupils at the end of KS2",
        KS2,
        attainment.ks2_pupil_count,
        "ks2_pupils",
        "ks2_pupils",
        "count",
        0,
    ),
    Measure(
        "ks2_rwm_expected",
        "KS2 reading, writing and maths: expected standard",
        KS2,
        attainment.ks2_rwm_expected,
        "ks2_rwm_met",
        "ks2_pupils",
        "%",
        0,
        ees=EesColumns(
            "ks2_la.csv",
            "t_rwm_met_expected_standard",
            "t_rwm_eligible_pupils",
            "pt_rwm_met_expected_standard",
        ),
    ),
    Measure(
        "ks2_reading_expected",
        "KS2 reading: expected standard",
        KS2,
        attainment.ks2_reading_expected,
        "ks2_read_met",
        "ks2_pupils",
        "%",
        0,
        ees=EesColumns(
            "ks2_la.csv",
            "t_read_met_expected_standard",
            "t_read_eligible_pupils",
            "pt_read_met_expected_standard",
        ),
    ),
    Measure(
        "ks2_writing_expected",
        "KS2 writing: expected standard",
        KS2,
        attainment.ks2_writing_expected,
        "ks2_writ_met",
        "ks2_pupils",
        "%",
        0,
        ees=EesColumns(
            "ks2_la.csv",
            "t_writta_met_expected_standard",
            "t_writta_eligible_pupils",
            "pt_writta_met_expected_standard",
        ),
    ),
    Measure(
        "ks2_maths_expected",
        "KS2 maths: expected standard",
        KS2,
        attainment.ks2_maths_expected,
        "ks2_mat_met",
        "ks2_pupils",
        "%",
        0,
        ees=EesColumns(
            "ks2_la.csv",
            "t_mat_met_expected_standard",
            "t_mat_eligible_pupils",
            "pt_mat_met_expected_standard",
        ),
    ),
    Measure(
        "ks4_pupils",
        "Pupils at the end of KS4",
        KS4,
        attainment.ks4_pupil_count,
        "ks4_pupils",
        "ks4_pupils",
        "count",
        0,
    ),
    Measure(
        "ks4_attainment8",
        "KS4 average Attainment 8",
        KS4,
        attainment.ks4_attainment8,
        "att8_points",
        "ks4_pupils",
        "average",
        1,
        numerator_is_count=False,
        ees=EesColumns("ks4_la.csv", "t_att8", "t_pupils", "avg_att8"),
    ),
    Measure(
        "ks4_basics_94",
        "KS4 grade 4 or above in English and maths",
        KS4,
        attainment.ks4_basics_94,
        "ks4_basics_94",
        "ks4_pupils",
        "%",
        1,
        ees=EesColumns("ks4_la.csv", "t_l2basics_94", "t_pupils", "pt_l2basics_94"),
    ),
    Measure(
        "ks4_basics_95",
        "KS4 grade 5 or above in English and maths",
        KS4,
        attainment.ks4_basics_95,
        "ks4_basics_95",
        "ks4_pupils",
        "%",
        1,
        ees=EesColumns("ks4_la.csv", "t_l2basics_95", "t_pupils", "pt_l2basics_95"),
    ),
    Measure(
        "ks4_progress8",
        "KS4 average Progress 8",
        KS4,
        attainment.ks4_progress8,
        "p8_points",
        "p8_pupils",
        "average",
        2,
        numerator_is_count=False,
        ees=EesColumns("ks4_la.csv", "t_p8score", "t_inp8calc", "avg_p8score"),
    ),
)

BY_NAME = {m.name: m for m in MEASURES}
DEFINITION_VERSION = "+".join(
    (
        "measures-1",
        absence.DEFINITION_VERSION,
        pupils.DEFINITION_VERSION,
        attainment.DEFINITION_VERSION,
    )
)


def measures_of(population: str) -> tuple[Measure, ...]:
    return tuple(m for m in MEASURES if m.population == population)
