"""Exclusions: suspensions and permanent exclusions by cohort, and suspensions broken down."""

from __future__ import annotations

from cwsw.indicators.figures import VALUE, DisclosedFigures, present, ratio_columns
from cwsw.reports.vsh.model import ChartPlan, ReportTable, Section
from cwsw.reports.vsh.tables import breakdown_table, cohort_table

BREAKDOWNS = ("phase", "sex")


def exclusions_section(figures: DisclosedFigures, year: str, cohorts: list[str]) -> Section:
    columns = present(
        figures,
        year,
        [
            ("Pupils", "pupils", VALUE),
            *ratio_columns("one_plus_suspension", "One or more suspensions (%)"),
            ("Suspensions per 100 pupils", "suspension_rate", VALUE),
            *ratio_columns("permanent_exclusion", "Permanently excluded (%)"),
        ],
    )
    table = cohort_table(
        figures,
        year,
        cohorts,
        "exclusions",
        f"Suspensions and permanent exclusions by cohort, {year}",
        columns,
        ChartPlan(
            ("one_plus_suspension", "permanent_exclusion"),
            description="Horizontal bars: the percentage of pupils with one or more "
            "suspensions, and permanently excluded, in the year, for each cohort.",
        ),
    )
    tables: list[ReportTable] = [table]
    for breakdown in BREAKDOWNS:
        extra = breakdown_table(figures, year, "one_plus_suspension", breakdown)
        if extra is not None:
            tables.append(extra)
    return Section(
        "exclusions",
        "Exclusions",
        "Suspensions and permanent exclusions in the academic year, of pupils on roll at the "
        "spring census.",
        tuple(tables),
    )
