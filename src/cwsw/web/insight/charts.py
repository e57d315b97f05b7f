"""Charts of the insight tables, drawn by :mod:`cwsw.reports.charts` (static SVG, no script).

Each chart plots figures of the table shown under it (its text alternative), straight from
the disclosed marts: a withheld figure is never drawn (the chart's footnote names it, the
table gives its symbol). Rendering costs tens of milliseconds, so each chart is drawn once
per disclosed build and kept in the build's memo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cwsw.indicators import insight
from cwsw.indicators.insight import DisclosedMarts, Table
from cwsw.indicators.measures import Measure
from cwsw.reports import charts

# The cohorts charts draw (a chart of every cohort of a table would be unreadable).
CHARTED = (*insight.HEADLINE_COHORTS, *insight.COMPARATOR_COHORTS)
STYLE_ATTRIBUTE = " style="


@dataclass(frozen=True)
class InlineChart:
    svg: str
    caption: str


def _tidy(marts: DisclosedMarts, table: Table) -> pd.DataFrame:
    rows = []
    for row in table.rows:
        for cell in row.cells:
            if cell.kind != "value" or cell.cohort not in CHARTED:
                continue
            figure = marts.figure(
                cell.period, cell.measure, cell.cohort, cell.breakdown, cell.value
            )
            rows.append(
                {
                    "category": row.label,
                    "series": insight.cohort_label(cell.cohort),
                    "value": figure.value if figure.shown else None,
                    "symbol": figure.symbol,
                }
            )
    return pd.DataFrame(rows, columns=["category", "series", "value", "symbol"])


def _value_title(measure: Measure) -> str:
    return {"%": "%", "per 100 pupils": "per 100 pupils", "average": "average score"}.get(
        measure.unit, "number"
    )


def _checked(svg: str) -> str:
    """The page's CSP has no 'unsafe-inline': a style attribute would be blocked (and the
    chart drawn wrongly), so one is a bug in the chart module, not something to ship."""
    if STYLE_ATTRIBUTE in svg or "<script" in svg:
        raise ValueError("chart SVG has an inline style or script, which the CSP would block")
    return svg


def _drawn(
    marts: DisclosedMarts, measure: Measure, table: Table, chart_id: str, *, lines: bool
) -> InlineChart | None:
    """Draw a table's chart once per disclosed build. Keyed by the rows too: a DSL's table
    has only their school, and so must its chart."""
    key = ("chart", chart_id, lines, table.caption, tuple(r.key for r in table.rows))
    if key not in marts.memo:
        tidy = _tidy(marts, table)
        options: dict[str, Any] = {
            "value": "value",
            "series": "series",
            "title": table.caption,
            "value_title": _value_title(measure),
            "order": [r.label for r in table.rows],
            "value_format": f",.{measure.places}f",
        }
        if tidy.empty:
            marts.memo[key] = None
        else:
            if lines:
                description = f"Lines: {table.caption}, one line per group."
                chart = charts.line_chart(
                    tidy, period="category", description=description, **options
                )
            else:
                description = f"Horizontal bars: {table.caption}, one bar per group."
                chart = charts.bar_chart(
                    tidy, category="category", description=description, **options
                )
            marts.memo[key] = InlineChart(_checked(chart.svg(chart_id)), chart.footnote)
    found: InlineChart | None = marts.memo[key]
    return found


def table_chart(
    marts: DisclosedMarts, measure: Measure, table: Table, chart_id: str
) -> InlineChart | None:
    """Bars of a breakdown table: one cluster per row, one bar per charted cohort."""
    return _drawn(marts, measure, table, chart_id, lines=False)


def trend_chart(marts: DisclosedMarts, measure: Measure, table: Table) -> InlineChart | None:
    """Lines of a measure over its periods, one per charted cohort (bars for one period)."""
    return _drawn(marts, measure, table, "trend-chart", lines=len(table.rows) > 1)
