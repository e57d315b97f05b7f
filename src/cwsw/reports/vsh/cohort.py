"""The cohort: how many pupils are in each cohort."""

from __future__ import annotations

from cwsw.indicators.figures import COMPARATORS, VALUE, DisclosedFigures, present
from cwsw.reports.vsh.model import ChartPlan, Section
from cwsw.reports.vsh.tables import cohort_table


def cohort_section(figures: DisclosedFigures, year: str, cohorts: list[str]) -> Section:
    columns = present(
        figures,
        year,
        [
            ("Pupils (spring census)", "pupils", VALUE),
            ("Enrolments (absence)", "enrolments", VALUE),
            ("Pupils at the end of KS2", "ks2_pupils", VALUE),
            ("Pupils at the end of KS4", "ks4_pupils", VALUE),
        ],
    )
    social_care = tuple(c for c in cohorts if c not in COMPARATORS)
    table = cohort_table(
        figures,
        year,
        cohorts,
        "cohort-sizes",
        f"Children in each cohort, {year}",
        columns,
        ChartPlan(
            ("pupils",),
            rows=social_care,
            value_title="pupils",
            description="Horizontal bars: the number of pupils in each social care cohort at "
            "the spring census. All pupils and pupils with no social worker are in the table.",
        ),
    )
    return Section(
        "cohort",
        "The cohort",
        "How many children had a social worker, by DfE's groups at 31 March, at any point in "
        "the year, and at any time in the last six years, beside all pupils.",
        (table,),
    )
