"""Charts of the insight tables, drawn by :mod:`cwsw.reports.charts` (static SVG, no script).

Each chart plots the figures of the table shown under it (its text alternative), as the table
shows them (:mod:`cwsw.indicators.figures`): a withheld figure is never drawn (the chart's
footnote names it, the table gives its symbol). Rendering costs tens of milliseconds, so each
chart is drawn once per disclosed build and kept in the build's memo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cwsw.domain.labels import cohort_label
from cwsw.indicators import insight
from cwsw.indicators.figures import VALUE, Table, unit_title
from cwsw.indicators.insight import DisclosedMarts
from cwsw.indicators.measures import Measure
from cwsw.reports import charts

# The cohorts charts draw (a chart of every cohort of a table would be unreadable).
CHARTED = (*insight.HEADLINE_COHORTS, *insight.COMPARATOR_COHORTS)
STYLE_ATTRIBUTE = " style="


@dataclass(frozen=True)
class InlineChart:
    svg: str
    caption: str


def _tidy(table: Table) -> pd.DataFrame:
    """The table's own figures (as shown, so rounded as in the table) of the charted cohorts."""
    rows = [
        {
            "category": row.label,
            "series": cohort_label(figure.source.cohort),
            "value": figure.number,
            "symbol": figure.symbol,
        }
        for row, _, figure in table.figures()
        if figure.source.kind == VALUE and figure.source.cohort in CHARTED
    ]
    return pd.DataFrame(rows, columns=["category", "series", "value", "symbol"])


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
    key = ("chart", chart_id, lines, table.title, tuple(r.key for r in table.rows))
    if key not in marts.memo:
        tidy = _tidy(table)
        options: dict[str, Any] = {
            "value": "value",
            "series": "series",
            "title": table.title,
            "value_title": unit_title(measure),
            "order": [r.label for r in table.rows],
            "value_format": f",.{measure.places}f",
        }
        if tidy.empty:
            marts.memo[key] = None
        else:
            if lines:
                description = f"Lines: {table.title}, one line per group."
                chart = charts.line_chart(
                    tidy, period="category", description=description, **options
                )
            else:
                description = f"Horizontal bars: {table.title}, one bar per group."
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
