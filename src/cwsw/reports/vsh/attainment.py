"""Attainment: key stage 2 and key stage 4 results by cohort."""

from __future__ import annotations

from collections.abc import Sequence

from cwsw.domain.labels import ALL_PUPILS, cohort_label
from cwsw.indicators.figures import (
    TIMES_ALL_PUPILS,
    VALUE,
    DisclosedFigures,
    present,
    ratio_columns,
    with_unit,
)
from cwsw.indicators.measures import BY_NAME
from cwsw.reports.vsh.model import ChartPlan, ReportTable, Section
from cwsw.reports.vsh.tables import cohort_table

# Averages, not rates: compared with all pupils by their difference, never "times as likely".
AVERAGES = ("ks4_attainment8", "ks4_progress8")


def against_all_pupils(
    figures: DisclosedFigures, year: str, cohorts: Sequence[str], shown: set[str]
) -> str:
    """Each cohort's Attainment 8 and Progress 8 against all pupils', as a difference in
    points from the two figures shown (:meth:`DisclosedFigures.compared`)."""
    sentences = []
    for measure in (m for m in AVERAGES if m in shown):
        listed = ", ".join(
            f"{cohort_label(c)} {with_unit(figures.compared(year, measure, c, TIMES_ALL_PUPILS))}"
            for c in cohorts
            if c != ALL_PUPILS
        )
        sentences.append(f"{BY_NAME[measure].title}, difference from all pupils: {listed}.")
    if not sentences or ALL_PUPILS not in cohorts:
        return ""
    return " ".join(sentences)


def attainment_section(figures: DisclosedFigures, year: str, cohorts: list[str]) -> Section:
    ks2 = present(
        figures,
        year,
        [
            ("Pupils at the end of KS2", "ks2_pupils", VALUE),
            *ratio_columns("ks2_rwm_expected", "Expected standard in RWM (%)"),
        ],
    )
    ks4 = present(
        figures,
        year,
        [
            ("Pupils at the end of KS4", "ks4_pupils", VALUE),
            ("Average Attainment 8", "ks4_attainment8", VALUE),
            *ratio_columns("ks4_basics_94", "Grade 4 or above in English and maths (%)"),
            ("Grade 5 or above in English and maths (%)", "ks4_basics_95", VALUE),
            ("Average Progress 8", "ks4_progress8", VALUE),
        ],
    )
    tables: list[ReportTable] = []
    if ks2:
        tables.append(
            cohort_table(
                figures,
                year,
                cohorts,
                "ks2",
                f"Key stage 2 by cohort, {year}",
                ks2,
                ChartPlan(
                    ("ks2_rwm_expected",),
                    description="Horizontal bars: the percentage of pupils reaching the "
                    "expected standard in reading, writing and maths at KS2, for each cohort.",
                ),
            )
        )
    if ks4:
        shown = {m for _, m, _ in ks4}
        tables.append(
            cohort_table(
                figures,
                year,
                cohorts,
                "ks4",
                f"Key stage 4 by cohort, {year}",
                ks4,
                ChartPlan(
                    tuple(m for m in ("ks4_basics_94", "ks4_basics_95") if m in shown),
                    description="Horizontal bars: the percentage of pupils with grade 4 or "
                    "above, and grade 5 or above, in English and maths, for each cohort.",
                ),
                note=" ".join(
                    (
                        "Progress 8 is shown where the KS4 results carry it. Averages are not "
                        "rates: they are compared by their difference, in points.",
                        against_all_pupils(figures, year, cohorts, shown),
                    )
                ).strip(),
            )
        )
        if "ks4_attainment8" in shown:
            tables.append(
                cohort_table(
                    figures,
                    year,
                    cohorts,
                    "attainment8",
                    f"Average Attainment 8 by cohort, {year}",
                    [("Average Attainment 8", "ks4_attainment8", VALUE)],
                    ChartPlan(
                        ("ks4_attainment8",),
                        value_title="average score",
                        description="Horizontal bars: the average Attainment 8 score of "
                        "pupils at the end of KS4, for each cohort.",
                    ),
                )
            )
    return Section(
        "attainment",
        "Attainment",
        "Results at the end of key stage 2 and key stage 4 in the academic year.",
        tuple(tables),
    )
