"""Attendance: absence by cohort, with "times as likely", and persistent absence broken down."""

from __future__ import annotations

from cwsw.indicators.figures import (
    ABSENCE_COLUMNS,
    TIMES_ALL_PUPILS,
    VALUE,
    ColumnSpec,
    DisclosedFigures,
)
from cwsw.reports.vsh.model import ChartPlan, ReportTable, Section
from cwsw.reports.vsh.tables import breakdown_table, cohort_table

# The headline table's columns after the dashboard's absence columns (field, heading, measure,
# kind); the dashboard's fields keep its cells' ids (cell-<cohort>-<field>).
MORE_COLUMNS = (
    (
        "persistent_absence_times_not_cin",
        "Persistently absent: times as likely as pupils with no social worker",
        "persistent_absence",
        "times_not_cin",
    ),
    (
        "severe_absence_ratio",
        "Severely absent: times as likely as all pupils",
        "severe_absence",
        TIMES_ALL_PUPILS,
    ),
    ("authorised_absence", "Authorised absence (%)", "authorised_absence", VALUE),
    ("unauthorised_absence", "Unauthorised absence (%)", "unauthorised_absence", VALUE),
)
# Persistent absence is broken down by these.
BREAKDOWNS = ("phase", "sex", "sen", "fsm_sen", "ethnicity")


def attendance_section(
    figures: DisclosedFigures, year: str, period: str, cohorts: list[str]
) -> Section:
    specs = (*ABSENCE_COLUMNS, *MORE_COLUMNS)
    columns: list[ColumnSpec] = [(heading, measure, kind) for _, heading, measure, kind in specs]
    headline = cohort_table(
        figures,
        period,
        cohorts,
        "attendance",
        f"Absence by cohort, {period}",
        columns,
        ChartPlan(
            ("overall_absence", "persistent_absence", "severe_absence"),
            description="Horizontal bars: overall absence rate (% of possible sessions), and "
            "persistent and severe absence (% of enrolments missing 10% or more, and 50% or "
            "more, of possible sessions), for each cohort.",
        ),
        testid_prefix="cell",
        fields=[field for field, _, _, _ in specs],
    )
    tables: list[ReportTable] = [headline]
    for breakdown in BREAKDOWNS:
        table = breakdown_table(figures, year, "persistent_absence", breakdown)
        if table is not None:
            tables.append(table)
    return Section(
        "attendance",
        "Attendance",
        f"Absence over the {'term' if period != year else 'six half terms of the year'} for "
        "pupils in NC years 1 to 11 of state-funded primary, secondary and special schools, "
        "each enrolment against its own possible sessions.",
        tuple(tables),
    )
