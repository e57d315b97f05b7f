"""Beside England, the region and statistical neighbours: DfE's published figures."""

from __future__ import annotations

import pandas as pd

from cwsw.indicators import benchmarks as published_figures
from cwsw.indicators.figures import (
    DisclosedFigures,
    benchmark_headings,
    benchmark_rows,
    slug,
)
from cwsw.indicators.measures import BY_NAME
from cwsw.reports.vsh.model import ChartPlan, Column, ReportTable, Section
from cwsw.reports.vsh.tables import value_title

TITLE = "Beside England, the region and statistical neighbours"


def benchmark_section(
    figures: DisclosedFigures,
    year: str,
    published: pd.DataFrame,
    la_code: str | None,
    neighbours: pd.DataFrame | None,
) -> tuple[Section, str] | None:
    """The section, and the year DfE's figures are for; None if DfE has none to set beside."""
    found = published_figures.benchmark_tables(published, year, la_code, neighbours)
    published_year = found.published_year
    headings = benchmark_headings(published_year, found.local)
    columns = tuple(Column(h, slug(h.split(" (")[0])) for h in headings)
    tables = []
    for measure, rows in found.tables:
        spec = BY_NAME[measure]
        tables.append(
            ReportTable(
                f"{measure}-benchmark",
                f"{spec.title}: this local authority beside England",
                "Cohort",
                columns,
                benchmark_rows(figures, year, measure, rows, published_year, found.local),
                ChartPlan(
                    tuple(c.field for c in columns),
                    value_title=value_title(measure),
                    description=f"Horizontal bars: {spec.title.lower()} for each social care "
                    "group, this local authority beside DfE's published figures.",
                ),
            )
        )
    if not tables:
        return None
    note = (
        f"DfE's published figures for {published_year}"
        + (f"; this report's year is {year}" if published_year != year else "")
        + ". Statistical neighbours: the mean of the ten neighbours' published figures."
    )
    return Section("benchmarks", TITLE, note, tuple(tables)), published_year
