"""SEN and FSM: special educational needs and free school meals by cohort, and their overlap."""

from __future__ import annotations

from dataclasses import replace

from cwsw.indicators.figures import VALUE, DisclosedFigures, present, ratio_columns
from cwsw.reports.vsh.model import ChartPlan, ReportTable, Section
from cwsw.reports.vsh.tables import breakdown_table, cohort_table


def sen_fsm_section(figures: DisclosedFigures, year: str, cohorts: list[str]) -> Section:
    columns = present(
        figures,
        year,
        [
            *ratio_columns("sen_support", "SEN support (%)"),
            *ratio_columns("ehc_plan", "EHC plan (%)"),
            *ratio_columns("fsm", "Eligible for FSM (%)"),
            ("Eligible for FSM in the last 6 years (%)", "fsm6", VALUE),
        ],
    )
    table = cohort_table(
        figures,
        year,
        cohorts,
        "sen-fsm",
        f"Special educational needs and free school meals by cohort, {year}",
        columns,
        ChartPlan(
            ("sen_support", "ehc_plan", "fsm"),
            description="Horizontal bars: the percentage of pupils with SEN support, with an "
            "EHC plan, and eligible for free school meals, for each cohort.",
        ),
    )
    tables: list[ReportTable] = [table]
    overlap = breakdown_table(figures, year, "pupils", "fsm_sen")
    if overlap is not None:
        tables.append(
            replace(
                overlap,
                key="fsm-sen-overlap",
                title=f"Pupils by free school meals and SEN together, {year}",
                chart_plan=None,
                note="The overlap of FSM eligibility and SEN, as the 2019 Children in Need "
                "review reported it: pupils in each combination (counts).",
            )
        )
    return Section(
        "sen-fsm",
        "SEN and FSM",
        "Special educational needs provision and free school meal eligibility at the spring "
        "census.",
        tuple(tables),
    )
