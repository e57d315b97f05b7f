"""Trends: absence over the terms of the year, and the headline measures over the years."""

from __future__ import annotations

from collections.abc import Sequence

from cwsw.indicators.figures import DisclosedFigures
from cwsw.indicators.measures import BY_NAME
from cwsw.reports.vsh.model import ReportTable, Section
from cwsw.reports.vsh.tables import trend_table

BY_TERM = ("overall_absence", "persistent_absence")
BY_YEAR = (
    "overall_absence",
    "persistent_absence",
    "one_plus_suspension",
    "ks2_rwm_expected",
    "ks4_attainment8",
)


def trends_section(
    figures: DisclosedFigures, years: Sequence[str], terms: Sequence[str], year: str
) -> Section | None:
    """Trend tables where there is more than one term, or more than one year, to show."""
    tables: list[ReportTable] = []
    if len(terms) > 1:
        for measure in BY_TERM:
            tables.append(
                trend_table(
                    figures,
                    terms,
                    measure,
                    f"{measure}-by-term",
                    f"{BY_NAME[measure].title} by term, {year}",
                    "Term",
                )
            )
    if len(years) > 1:
        for measure in BY_YEAR:
            if any(figures.has(measure, y) for y in years):
                tables.append(
                    trend_table(
                        figures,
                        years,
                        measure,
                        f"{measure}-by-year",
                        f"{BY_NAME[measure].title} by year",
                        "Academic year",
                    )
                )
    if not tables:
        return None
    return Section(
        "trends",
        "Trends",
        "The same measures over the terms of the year and over the years built, for each "
        "cohort (each year's social care groups at its own 31 March).",
        tuple(tables),
    )
