"""The report's kinds of table, from the one model's rows (:mod:`cwsw.indicators.figures`):
cohorts by measures, a measure by a breakdown's values, and a measure over periods."""

from __future__ import annotations

from collections.abc import Sequence

from cwsw.domain.labels import (
    ALL_PUPILS,
    CINO,
    CLA_12_MONTHS,
    CPPO,
    EVER_CIN_6_YEARS,
    breakdown_label,
)
from cwsw.indicators.figures import (
    ColumnSpec,
    DisclosedFigures,
    breakdown_phrase,
    breakdown_rows,
    breakdown_title,
    cohort_columns,
    cohort_rows,
    column_field,
    period_rows,
    slug,
    unit_title,
)
from cwsw.indicators.measures import BY_NAME
from cwsw.reports.vsh.model import ChartPlan, Column, ReportTable

# Cohorts a breakdown or trend is shown for (one column each).
COMPARED = (CINO, CPPO, CLA_12_MONTHS, EVER_CIN_6_YEARS, ALL_PUPILS)
WITHHELD = "Withheld figures are not drawn; the table gives every figure."


def compared(figures: DisclosedFigures) -> list[str]:
    """The compared cohorts the marts hold, in their display order."""
    present = set(figures.cohorts())
    return [c for c in COMPARED if c in present]


def value_title(measure: str) -> str:
    """A chart axis's title for a measure's figures."""
    return unit_title(BY_NAME[measure])


def cohort_table(
    figures: DisclosedFigures,
    period: str,
    cohorts: Sequence[str],
    key: str,
    title: str,
    columns: Sequence[ColumnSpec],
    chart_plan: ChartPlan | None = None,
    note: str = "",
    testid_prefix: str = "",
    fields: Sequence[str] | None = None,
) -> ReportTable:
    """A row per cohort, a column per (heading, measure, kind)."""
    names = fields or [column_field(m, k) for _, m, k in columns]
    return ReportTable(
        key,
        title,
        "Cohort",
        tuple(Column(h, f) for (h, _, _), f in zip(columns, names, strict=True)),
        cohort_rows(figures, period, cohorts, columns),
        chart_plan,
        note,
        testid_prefix,
    )


def breakdown_table(
    figures: DisclosedFigures, period: str, measure: str, breakdown: str
) -> ReportTable | None:
    """``measure`` by the values of ``breakdown`` (rows) for the compared cohorts (columns)."""
    if not figures.breakdown_values(period, breakdown, measure):
        return None
    cohorts = compared(figures)
    spec = BY_NAME[measure]
    phrase = breakdown_phrase(breakdown)
    return ReportTable(
        f"{measure}-by-{breakdown}",
        breakdown_title(measure, breakdown, period),
        breakdown_label(breakdown),
        cohort_columns(cohorts),
        breakdown_rows(figures, period, measure, breakdown, cohorts),
        ChartPlan(
            tuple(slug(c) for c in cohorts),
            value_title=value_title(measure),
            description=f"Horizontal bars: {spec.title.lower()} ({spec.unit}) by {phrase}, one "
            f"bar per cohort. {WITHHELD}",
        ),
    )


def trend_table(
    figures: DisclosedFigures,
    periods: Sequence[str],
    measure: str,
    key: str,
    title: str,
    period_heading: str,
) -> ReportTable:
    """``measure`` over ``periods`` (rows) for the compared cohorts (columns)."""
    cohorts = compared(figures)
    spec = BY_NAME[measure]
    return ReportTable(
        key,
        title,
        period_heading,
        cohort_columns(cohorts),
        period_rows(figures, periods, measure, cohorts),
        ChartPlan(
            tuple(slug(c) for c in cohorts),
            kind="line",
            value_title=value_title(measure),
            description=f"Lines: {spec.title.lower()} ({spec.unit}) over time, one line per "
            f"cohort. {WITHHELD}",
        ),
    )
