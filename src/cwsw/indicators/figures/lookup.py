"""The disclosed mart rows, looked up by mart key as shown figures.

Part of the one model of figures that leave cwsw (:mod:`cwsw.indicators.figures`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any

import pandas as pd

from cwsw.indicators.breakdowns import (
    TOTAL,
)
from cwsw.indicators.figures.order import cohort_order, period_sort_key, value_sort_key
from cwsw.indicators.figures.shown import (
    CHANGE_UNITS,
    COMPARATOR,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    RATIO_PLACES,
    SHARE,
    TIMES_ALL_PUPILS,
    TIMES_AS_LIKELY,
    TOTAL_BREAKDOWN,
    VALUE,
    Figure,
    Source,
    compared_as_ratio,
    difference,
)
from cwsw.indicators.measures import BY_NAME, MEASURES, Measure
from cwsw.indicators.rounding import to_decimal

# -- the disclosed figures, looked up ----------------------------------------------------------

FigureKey = tuple[str, str, str, str, str]  # period, measure, cohort, breakdown, value


class DisclosedFigures:
    """The disclosed marts (:func:`~cwsw.indicators.export.disclosed_export`'s columns), looked
    up as shown figures by period, measure, cohort and breakdown value. ``school_names``
    (LAESTAB -> name) labels the school breakdown."""

    def __init__(self, frame: pd.DataFrame, school_names: Mapping[str, str] | None = None):
        self.frame = frame
        self.school_names = dict(school_names or {})
        self.rows: dict[FigureKey, tuple[Any, Any, Any, Any]] = {}
        self._values: dict[tuple[str, str, str], set[str]] = {}
        self._periods: dict[str, set[str]] = {}
        columns = (
            frame.period,
            frame.measure,
            frame.cohort,
            frame.breakdown,
            frame.breakdown_value,
            frame.value,
            frame.symbol,
            frame.times_all_pupils,
            frame.times_not_cin,
        )
        for period, measure, cohort, breakdown, value, number, symbol, t_all, t_not in zip(
            *columns, strict=True
        ):
            self.rows[(period, measure, cohort, breakdown, value)] = (number, symbol, t_all, t_not)
            self._values.setdefault((period, breakdown, measure), set()).add(value)
            self._periods.setdefault(measure, set()).add(period)
        self._sorted: dict[Any, tuple[str, ...]] = {}

    @property
    def empty(self) -> bool:
        return self.frame.empty

    @cached_property
    def academic_years(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.frame.academic_year)))

    @cached_property
    def _cohorts(self) -> tuple[str, ...]:
        return cohort_order(set(self.frame.cohort))

    def cohorts(self) -> tuple[str, ...]:
        """The marts' cohorts in display order (:func:`cohort_order`)."""
        return self._cohorts

    @cached_property
    def _measures(self) -> tuple[Measure, ...]:
        present = set(self._periods)
        return tuple(m for m in MEASURES if m.name in present)

    def measures(self) -> tuple[Measure, ...]:
        """The marts' measures in the catalogue's order."""
        return self._measures

    @cached_property
    def breakdowns(self) -> frozenset[str]:
        return frozenset(self.frame.breakdown)

    def has(self, measure: str, period: str) -> bool:
        """Whether the marts hold ``measure`` for ``period``."""
        return period in self._periods.get(measure, ())

    def breakdown_values(
        self, period: str, breakdown: str, measure: str | None = None
    ) -> tuple[str, ...]:
        """The values of a breakdown in a period (that hold ``measure``), in reading order."""
        key = ("values", period, breakdown, measure)
        if key not in self._sorted:
            found: set[str] = set()
            for (p, b, m), values in self._values.items():
                if p == period and b == breakdown and (measure is None or m == measure):
                    found |= values
            self._sorted[key] = tuple(sorted(found, key=lambda v: value_sort_key(breakdown, v)))
        return self._sorted[key]

    def periods(self, measure: str) -> tuple[str, ...]:
        """The periods that hold ``measure``, oldest first: each year, then its terms."""
        key = ("periods", measure)
        if key not in self._sorted:
            self._sorted[key] = tuple(sorted(self._periods.get(measure, ()), key=period_sort_key))
        return self._sorted[key]

    def terms(self, year: str) -> tuple[str, ...]:
        """The term periods of academic year ``year`` in the marts, in academic order."""
        found = {p for ps in self._periods.values() for p in ps if p.startswith(f"{year} ")}
        return tuple(sorted(found, key=period_sort_key))

    def figure(
        self,
        period: str,
        measure: str,
        cohort: str,
        breakdown: str = TOTAL_BREAKDOWN,
        value: str = TOTAL,
        kind: str = VALUE,
    ) -> Figure:
        """A disclosed figure as shown: the value, or one of its "times as likely" ratios
        (``z`` for a measure that is not a rate: :meth:`compared` gives its difference)."""
        spec = BY_NAME[measure]
        ratio_unit = TIMES_AS_LIKELY if compared_as_ratio(spec) else CHANGE_UNITS.get(spec.unit)
        unit = spec.unit if kind == VALUE else ratio_unit or spec.unit
        source = Source(measure, cohort, period, breakdown, value, kind)
        row = self.rows.get((period, measure, cohort, breakdown, value))
        if row is None:
            return Figure.withheld(NOT_AVAILABLE, unit, source)
        number, symbol, t_all, t_not = row
        if kind != VALUE and cohort == COMPARATOR[kind]:  # a cohort against itself
            return Figure.withheld(NOT_APPLICABLE, unit, source)
        if isinstance(symbol, str) and symbol:
            return Figure.withheld(symbol, unit, source)
        if kind != VALUE and not compared_as_ratio(spec):  # no "times as likely" for it
            return Figure.withheld(NOT_APPLICABLE, unit, source)
        if kind == VALUE:
            if number is None or pd.isna(number):
                return Figure.withheld(NOT_AVAILABLE, unit, source)
            return Figure.shown(float(number), spec.places, unit, source)
        ratio = t_all if kind == TIMES_ALL_PUPILS else t_not
        if ratio is None or pd.isna(ratio):
            return Figure.withheld(NOT_AVAILABLE, unit, source)
        return Figure.shown(float(ratio), RATIO_PLACES, unit, source)

    def compared(
        self,
        period: str,
        measure: str,
        cohort: str,
        kind: str,
        breakdown: str = TOTAL_BREAKDOWN,
        value: str = TOTAL,
    ) -> Figure:
        """How a cohort's figure compares with its comparator's (``kind``: ``times_all_pupils``
        or ``times_not_cin``): "x times as likely" for a rate; for an average (Attainment 8,
        Progress 8) the difference in points (:func:`difference`), since its values are not
        rates (Progress 8 is as often negative)."""
        if compared_as_ratio(BY_NAME[measure]) or cohort == COMPARATOR[kind]:
            return self.figure(period, measure, cohort, breakdown, value, kind)
        return difference(
            self.figure(period, measure, cohort, breakdown, value),
            self.figure(period, measure, COMPARATOR[kind], breakdown, value),
        )

    def share(self, period: str, measure: str, cohort: str, breakdown: str, value: str) -> Figure:
        """A part's share of its cohort (%), from the two disclosed counts only: withheld if
        either is, so it reveals nothing the counts do not."""
        part = self.figure(period, measure, cohort, breakdown, value)
        whole = self.figure(period, measure, cohort)
        source = Source(measure, cohort, period, breakdown, value, SHARE)
        if part.symbol is not None:
            return Figure.withheld(part.symbol, "%", source)
        if whole.number == 0:
            return Figure.withheld(NOT_APPLICABLE, "%", source)
        if not whole.is_shown or part.number is None or whole.number is None:
            return Figure.withheld(NOT_AVAILABLE, "%", source)
        share = Decimal(100) * to_decimal(part.plain) / to_decimal(whole.plain)
        return Figure.shown(share, 1, "%", source)

    def value_label(self, breakdown: str, value: str) -> str:
        """A breakdown value as a row label: ``Year 7``, ``Ash Primary (9990001)``."""
        if breakdown == "school":
            name = self.school_names.get(value, "")
            return f"{name} ({value})" if name else value
        if breakdown == "nc_year" and value.isdigit():
            return f"Year {value}"
        if breakdown == "nc_year" and value == "R":
            return "Reception"
        return value

    def year_attributes(self, academic_year: str) -> tuple[str, tuple[str, ...]]:
        """The reference date (ISO) and source files of a year's figures."""
        frame = self.frame
        rows = frame[(frame.academic_year == academic_year) & (frame.period_type == "year")]
        if rows.empty:
            return "", ()
        absence = rows[rows.population == "enrolments"]
        first = (absence if not absence.empty else rows).iloc[0]
        reference = pd.Timestamp(first["reference_date"]).date().isoformat()
        return reference, tuple(s for s in str(first["source_loads"]).split(",") if s)

    def sources(self, years: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each loaded file (``name (sha256 prefix)``) the figures of ``years`` came from, with
        the years it fed, in the order first met."""
        chosen = self.frame[self.frame.academic_year.isin(set(years))]
        found: dict[str, set[str]] = {}
        for year, loads in set(zip(chosen.academic_year, chosen.source_loads, strict=True)):
            for name in str(loads).split(","):
                if name:
                    found.setdefault(name, set()).add(str(year))
        return {name: tuple(sorted(found[name])) for name in sorted(found)}
