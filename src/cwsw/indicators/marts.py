"""Marts: measure x cohort x period, with numerator, denominator and where they came from.

Marts hold unsuppressed figures inside the warehouse; disclosure control is applied when a
figure leaves (:mod:`cwsw.indicators.service`), so a child-level role and an aggregate role
read the same mart through the same gate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.expr.types import Table

from cwsw.cohort import groups
from cwsw.cohort.groups import (
    CINO,
    CLA_12_MONTHS,
    CPPO,
    cohort_ever_cin,
    highest_group,
    social_care_group_at,
)
from cwsw.indicators import absence

ALL_PUPILS = "All pupils"
EVER_CIN_6_YEARS = "Ever CIN last 6 years"
NEVER_CIN_6_YEARS = "Not CIN in last 6 years"

# Cohorts in display order, with the plain-English label a reader sees.
COHORT_LABELS = {
    CINO: "Child in need (not on a plan or looked after)",
    CPPO: "On a child protection plan (not looked after)",
    CLA_12_MONTHS: "Looked after for 12 months or more",
    EVER_CIN_6_YEARS: "Had a social worker in the last 6 years",
    NEVER_CIN_6_YEARS: "No social worker in the last 6 years",
    ALL_PUPILS: "All pupils",
}

ABSENCE_MART = "mart_absence"
MART_COLUMNS = {
    "academic_year": "string",
    "reference_date": "date",
    "cohort": "string",
    "measure": "string",
    "numerator": "float64",
    "denominator": "float64",
    "value": "float64",
    "definition_version": "string",
    "source_loads": "string",
    "built_at": "timestamp",
}


def academic_year_label(academic_year_end: int) -> str:
    """``2025`` -> ``"2024/25"``, as DfE writes academic years."""
    return f"{academic_year_end - 1}/{str(academic_year_end)[-2:]}"


def pupil_cohorts(con: ibis.BaseBackend, reference_date: dt.date) -> Table:
    """Each linked pupil (by UPN) with their social care group and ever-6 membership.

    Columns: ``upn``, ``social_care_group`` (null when not in a group at the date),
    ``ever_cin_6``.
    """
    cin_episode = con.table("cin_episode")
    link = con.table("child_pupil_link").select("la_child_id", "upn")
    child_groups = social_care_group_at(
        cin_episode, con.table("cp_plan"), con.table("cla_episode"), reference_date
    )
    by_upn = highest_group(
        link.join(child_groups, "la_child_id").select("upn", "social_care_group"), "upn"
    )
    ever = (
        link.join(cohort_ever_cin(cin_episode, reference_date), "la_child_id")
        .select("upn")
        .distinct()
        .mutate(ever_cin_6=ibis.literal(True))
    )
    upns = link.select("upn").distinct()
    return (
        upns.left_join(by_upn, "upn")
        .drop("upn_right")
        .left_join(ever, "upn")
        .select("upn", "social_care_group", ever_cin_6=_.ever_cin_6.fill_null(False))
    )


def absence_by_cohort(con: ibis.BaseBackend, reference_date: dt.date) -> Table:
    """The absence measures' numerators and denominators for every cohort, one row each.

    Social care status at 31 March of year Y pairs with the academic year ending in summer Y
    (DOMAIN.md §2).
    """
    enrolments = absence.headline_enrolments(
        absence.enrolment_absence(
            con.table("pupil_enrolment"),
            con.table("pupil_absence"),
            con.table("establishment"),
            reference_date.year,
        )
    )
    cohorts = pupil_cohorts(con, reference_date)
    tagged = enrolments.left_join(cohorts, "upn").drop("upn_right")
    ever = tagged.ever_cin_6.fill_null(False)
    by_cohort = (
        tagged.mutate(cohort=ibis.literal(ALL_PUPILS))
        .union(
            tagged.filter(tagged.social_care_group.isin([CINO, CPPO, CLA_12_MONTHS])).mutate(
                cohort=_.social_care_group
            )
        )
        .union(tagged.filter(ever).mutate(cohort=ibis.literal(EVER_CIN_6_YEARS)))
        .union(tagged.filter(~ever).mutate(cohort=ibis.literal(NEVER_CIN_6_YEARS)))
    )
    aggregates: dict[str, Any] = {}
    for name, (measure, _pct) in absence.ABSENCE_MEASURES.items():
        parts = measure(by_cohort)
        aggregates[f"{name}__numerator"] = parts["numerator"]
        aggregates[f"{name}__denominator"] = parts["denominator"]
    return by_cohort.group_by("cohort").aggregate(**aggregates)


def build_absence_mart(
    con: ibis.BaseBackend, reference_date: dt.date, source_loads: list[str]
) -> pd.DataFrame:
    """Compute the absence mart for the year paired with ``reference_date``.

    Returns the mart rows (one per cohort and measure); :func:`write_mart` stores them.
    """
    wide = con.execute(absence_by_cohort(con, reference_date))
    found = {row["cohort"]: row for row in wide.to_dict("records")}
    built_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    rows = []
    for cohort in COHORT_LABELS:
        record = found.get(cohort)
        for name, (_measure, is_percentage) in absence.ABSENCE_MEASURES.items():
            numerator = float(record[f"{name}__numerator"] or 0) if record else 0.0
            denominator = float(record[f"{name}__denominator"] or 0) if record else 0.0
            if is_percentage:
                value = 100 * numerator / denominator if denominator else None
            else:
                value = numerator
            rows.append(
                {
                    "academic_year": academic_year_label(reference_date.year),
                    "reference_date": reference_date,
                    "cohort": cohort,
                    "measure": name,
                    "numerator": numerator,
                    "denominator": denominator,
                    "value": value,
                    "definition_version": "+".join(
                        (absence.DEFINITION_VERSION, groups.DEFINITION_VERSION)
                    ),
                    "source_loads": ",".join(source_loads),
                    "built_at": built_at,
                }
            )
    return pd.DataFrame(rows, columns=list(MART_COLUMNS))
