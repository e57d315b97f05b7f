"""What a shown figure is: its text or DfE symbol, number as rounded, unit and source row.

Part of the one model of figures that leave cwsw (:mod:`cwsw.indicators.figures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from cwsw.domain.labels import (
    ALL_PUPILS,
    NEVER_CIN_6_YEARS,
)
from cwsw.indicators.breakdowns import (
    TOTAL,
)
from cwsw.indicators.measures import BY_NAME, Measure
from cwsw.indicators.rounding import Number, round_half_up, to_decimal
from cwsw.indicators.suppression import Symbol

# -- what a figure is --------------------------------------------------------------------------

TOTAL_BREAKDOWN = "total"
# The kinds of figure: the mart's value, its two ratios, a part's share of its cohort, the
# change since the previous year (and DfE's published figures: england, region,
# statistical_neighbours).
VALUE = "value"
TIMES_ALL_PUPILS = "times_all_pupils"
TIMES_NOT_CIN = "times_not_cin"
SHARE = "share"
CHANGE = "change"
# Each ratio's comparator.
COMPARATOR = {TIMES_ALL_PUPILS: ALL_PUPILS, TIMES_NOT_CIN: NEVER_CIN_6_YEARS}
TIMES_AS_LIKELY = "times as likely"
# How a cohort's average compares with its comparator's: the difference, in points.
DIFFERENCE = "difference"
# Values that are rates (a share of pupils or enrolments, per 100 pupils): only these compare
# as "x times as likely". An average (Attainment 8, Progress 8) is no likelihood, and Progress
# 8 is negative as often as not: it compares by its difference, never by a ratio.
RATE_UNITS = frozenset({"%", "per 100 pupils"})
NOT_AVAILABLE = str(Symbol.NOT_AVAILABLE)
NOT_APPLICABLE = str(Symbol.NOT_APPLICABLE)
# Units as a chart axis or a heading says them, and the unit of a change in each.
UNIT_TITLES = {"%": "%", "per 100 pupils": "per 100 pupils", "average": "average score"}
CHANGE_UNITS = {"%": "percentage points", "per 100 pupils": "per 100 pupils", "average": "points"}
RATIO_PLACES = 1
# The dashboard's absence table, and the first columns of the report's attendance table:
# (field, heading, measure, kind). A field is part of each cell's id (cell-<cohort>-<field>).
ABSENCE_COLUMNS = (
    ("pupils", "Pupil enrolments", "enrolments", VALUE),
    ("overall_absence", "Overall absence (%)", "overall_absence", VALUE),
    ("persistent_absence", "Persistent absence (%)", "persistent_absence", VALUE),
    ("severe_absence", "Severe absence (%)", "severe_absence", VALUE),
    (
        "persistent_absence_ratio",
        "Persistently absent: times as likely as all pupils",
        "persistent_absence",
        TIMES_ALL_PUPILS,
    ),
)


def number_text(value: Number, places: int, *, grouped: bool = True) -> str:
    """A number as shown: rounded as DfE publishes it (:func:`round_half_up`) to ``places``,
    thousands separated (``1,234``) unless not ``grouped`` (``1234``, as the export's CSV)."""
    rounded = round_half_up(value, places)
    return f"{rounded:,.{places}f}" if grouped else f"{rounded:.{places}f}"


def unit_title(measure: Measure) -> str:
    """The unit of a measure's figures in a heading or on an axis (``%``, ``number``...)."""
    return UNIT_TITLES.get(measure.unit, "number")


def measure_heading(measure: Measure) -> str:
    """``Persistent absence (%)``."""
    return f"{measure.title} ({unit_title(measure)})"


@dataclass(frozen=True)
class Source:
    """Where a figure came from: the mart row (or DfE's published figure) and which part."""

    measure: str
    cohort: str = ""
    period: str = ""
    breakdown: str = TOTAL_BREAKDOWN
    breakdown_value: str = TOTAL
    kind: str = VALUE  # VALUE, TIMES_ALL_PUPILS, TIMES_NOT_CIN, SHARE, CHANGE, england...

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """The mart row's key: period, measure, cohort, breakdown, breakdown value."""
        return (self.period, self.measure, self.cohort, self.breakdown, self.breakdown_value)


@dataclass(frozen=True)
class Figure:
    """One figure as shown: its text (a number as DfE rounds it, or a symbol), the number as
    rounded (None where a symbol stands), its unit, places and where it came from."""

    text: str
    number: float | None
    symbol: str | None
    unit: str
    source: Source
    places: int = 1

    @classmethod
    def withheld(cls, symbol: str, unit: str, source: Source) -> Figure:
        return cls(symbol, None, symbol, unit, source)

    @classmethod
    def shown(cls, value: Number, places: int, unit: str, source: Source) -> Figure:
        """A number, rounded half away from zero to ``places`` as DfE publishes it."""
        rounded = round_half_up(value, places)
        return cls(number_text(rounded, places), float(rounded), None, unit, source, places)

    @property
    def is_shown(self) -> bool:
        return self.symbol is None and self.number is not None

    @property
    def plain(self) -> str:
        """The figure without thousands separators (the export's CSV), or its symbol."""
        return self.text.replace(",", "")


def published_figure(value: object, symbol: object, measure: str, source: Source) -> Figure:
    """A DfE published figure (a Decimal or a number, or DfE's own symbol) as shown."""
    spec = BY_NAME[measure]
    if isinstance(symbol, str) and symbol:
        return Figure.withheld(symbol, spec.unit, source)
    if isinstance(value, Decimal) and value.is_finite():
        return Figure.shown(value, spec.places, spec.unit, source)
    if isinstance(value, float | int) and math.isfinite(value):
        return Figure.shown(float(value), spec.places, spec.unit, source)
    return Figure.withheld(NOT_AVAILABLE, spec.unit, source)


def compared_as_ratio(measure: Measure) -> bool:
    """Whether ``measure`` compares with its comparator as "x times as likely": a rate does
    (:data:`RATE_UNITS`); a count or an average does not (an average by :func:`difference`)."""
    return measure.unit in RATE_UNITS


def _less(figure: Figure, other: Figure, kind: str) -> Figure:
    """``figure`` less ``other`` as a reader would work it out from the two figures shown (so
    it reveals nothing they do not), in the measure's change unit; withheld where either is."""
    spec = BY_NAME[figure.source.measure]
    unit = CHANGE_UNITS.get(spec.unit, spec.unit)
    source = Source(
        figure.source.measure,
        figure.source.cohort,
        figure.source.period,
        figure.source.breakdown,
        figure.source.breakdown_value,
        kind,
    )
    for shown in (figure, other):
        if not shown.is_shown:
            return Figure.withheld(shown.symbol or NOT_AVAILABLE, unit, source)
    less = to_decimal(figure.plain) - to_decimal(other.plain)
    text = f"{less:+,.{spec.places}f}" if less else f"{0:.{spec.places}f}"
    return Figure(text, float(less), None, unit, source, spec.places)


def change(current: Figure, previous: Figure) -> Figure:
    """The change from ``previous`` to ``current`` (``+1.2``), from the two figures shown."""
    return _less(current, previous, CHANGE)


def difference(figure: Figure, comparator: Figure) -> Figure:
    """How an average compares with its comparator's: ``figure`` less ``comparator``, in
    points (``-1.15``), from the two figures shown; never a ratio (:data:`RATE_UNITS`)."""
    return _less(figure, comparator, DIFFERENCE)


def with_unit(figure: Figure) -> str:
    """A figure in a sentence: ``46.0%``, ``2.6 times as likely``, ``c (withheld)``."""
    if not figure.is_shown:
        return {NOT_AVAILABLE: "not available", NOT_APPLICABLE: "not applicable"}.get(
            figure.text, f"{figure.text} (withheld)"
        )
    if figure.unit == "%":
        return f"{figure.text}%"
    if figure.unit in (TIMES_AS_LIKELY, "percentage points", "points", "per 100 pupils"):
        return f"{figure.text} {figure.unit}"
    return figure.text
