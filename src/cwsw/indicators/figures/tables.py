"""Tables of shown figures: columns, rows, and the row builders every consumer uses.

Part of the one model of figures that leave cwsw (:mod:`cwsw.indicators.figures`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cwsw.domain.labels import (
    cohort_label,
)
from cwsw.indicators.breakdowns import (
    TOTAL,
)
from cwsw.indicators.figures.lookup import DisclosedFigures
from cwsw.indicators.figures.order import breakdown_phrase
from cwsw.indicators.figures.shown import (
    TIMES_ALL_PUPILS,
    TIMES_NOT_CIN,
    TOTAL_BREAKDOWN,
    VALUE,
    Figure,
    Source,
    measure_heading,
    published_figure,
)
from cwsw.indicators.measures import BY_NAME

# -- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    heading: str
    field: str  # the column's name in ids (a report cell's data-testid)


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Table:
    """A table of shown figures: a title (the caption), a heading for the row labels, the
    columns, and rows of figures (one per column)."""

    key: str
    title: str
    row_heading: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(c.heading for c in self.columns)

    def figures(self) -> Iterable[tuple[Row, Column, Figure]]:
        for row in self.rows:
            for column, figure in zip(self.columns, row.figures, strict=True):
                yield row, column, figure


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


ColumnSpec = tuple[str, str, str]  # (heading, measure, kind)


def ratio_columns(measure: str, heading: str) -> list[ColumnSpec]:
    """A measure's value and its two "times as likely" columns."""
    return [
        (heading, measure, VALUE),
        (f"{heading}: times as likely as all pupils", measure, TIMES_ALL_PUPILS),
        (f"{heading}: times as likely as pupils with no social worker", measure, TIMES_NOT_CIN),
    ]


def present(
    figures: DisclosedFigures, period: str, specs: Iterable[ColumnSpec]
) -> list[ColumnSpec]:
    """The columns whose measure the marts hold for ``period``."""
    return [c for c in specs if figures.has(c[1], period)]


def column_field(measure: str, kind: str) -> str:
    return measure if kind == VALUE else f"{measure}_{kind}"


def cohort_rows(
    figures: DisclosedFigures,
    period: str,
    cohorts: Sequence[str],
    columns: Sequence[ColumnSpec],
    breakdown: str = TOTAL_BREAKDOWN,
    value: str = TOTAL,
) -> tuple[Row, ...]:
    """One row per cohort (labelled), one figure per column (measure and kind)."""
    return tuple(
        Row(
            cohort_label(c),
            c,
            tuple(figures.figure(period, m, c, breakdown, value, k) for _, m, k in columns),
        )
        for c in cohorts
    )


def breakdown_rows(
    figures: DisclosedFigures,
    period: str,
    measure: str,
    breakdown: str,
    cohorts: Sequence[str],
    values: Sequence[str] | None = None,
) -> tuple[Row, ...]:
    """One row per breakdown value (in reading order, or ``values``), one column per cohort."""
    chosen = figures.breakdown_values(period, breakdown, measure) if values is None else values
    return tuple(
        Row(
            figures.value_label(breakdown, v),
            v,
            tuple(figures.figure(period, measure, c, breakdown, v) for c in cohorts),
        )
        for v in chosen
    )


def period_rows(
    figures: DisclosedFigures, periods: Sequence[str], measure: str, cohorts: Sequence[str]
) -> tuple[Row, ...]:
    """One row per period (in the order given), one column per cohort."""
    return tuple(Row(p, p, tuple(figures.figure(p, measure, c) for c in cohorts)) for p in periods)


def cohort_columns(cohorts: Sequence[str], field: Any = slug) -> tuple[Column, ...]:
    """A column per cohort, headed by its label."""
    return tuple(Column(cohort_label(c), field(c)) for c in cohorts)


def breakdown_title(measure: str, breakdown: str, period: str) -> str:
    """``Persistent absence (%) by SEN provision, 2024/25``."""
    return f"{measure_heading(BY_NAME[measure])} by {breakdown_phrase(breakdown)}, {period}"


def benchmark_rows(
    figures: DisclosedFigures,
    period: str,
    measure: str,
    rows: Sequence[Any],
    published_year: str,
    local: bool,
) -> tuple[Row, ...]:
    """Each social care group's disclosed figure beside DfE's published England figure (and,
    when ``local``, its region's and its statistical neighbours' mean), from
    :class:`cwsw.indicators.benchmarks.BenchmarkRow` s."""
    out = []
    for row in rows:

        def shown(value: object, symbol: object, kind: str, cohort: str = row.cohort) -> Figure:
            source = Source(measure, cohort, published_year, kind=kind)
            return published_figure(value, symbol, measure, source)

        cells = [
            figures.figure(period, measure, row.cohort),
            shown(row.england, row.england_symbol, "england"),
        ]
        if local:
            cells.append(shown(row.region, None, "region"))
            cells.append(shown(row.statistical_neighbours, None, "statistical_neighbours"))
        out.append(Row(cohort_label(row.cohort), row.cohort, tuple(cells)))
    return tuple(out)


def benchmark_headings(published_year: str, local: bool) -> tuple[str, ...]:
    headings = ["This local authority", f"England ({published_year})"]
    if local:
        headings += [f"Region ({published_year})", f"Statistical neighbours ({published_year})"]
    return tuple(headings)
