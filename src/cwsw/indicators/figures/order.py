"""The order and labels of cohorts, breakdown values and periods, as DfE publishes them.

Part of the one model of figures that leave cwsw (:mod:`cwsw.indicators.figures`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cwsw.domain.calendar import academic_term_rank, academic_year_label
from cwsw.domain.labels import (
    ALL_PUPILS,
    BREAKDOWN_LABELS,
    CINO,
    CLA_12_MONTHS,
    CLA_UNDER_12_MONTHS,
    COHORT_LABELS,
    CPPO,
    NEVER_CIN_6_YEARS,
    SEN_LABELS,
    SEX_LABELS,
)
from cwsw.indicators.breakdowns import (
    ETHNIC_MAJOR_GROUPS,
    NOT_IN_A_GROUP,
    UNCLASSIFIED,
    UNKNOWN,
)
from cwsw.indicators.measures import MEASURES

# -- order and labels --------------------------------------------------------------------------

# The default cohorts, in the order every table shows them (cwsw.domain.labels' order).
COHORT_ORDER = tuple(COHORT_LABELS)
# The comparators every cohort is set beside, shown last.
COMPARATORS = (NEVER_CIN_6_YEARS, ALL_PUPILS)
# A breakdown's values in the order DfE publishes them; others by name, then "not known".
VALUE_ORDER: dict[str, tuple[str, ...]] = {
    "phase": ("Primary", "Secondary", "Special", "Alternative provision"),
    "sex": tuple(SEX_LABELS.values()),
    "sen": tuple(SEN_LABELS.values()),
    "fsm": ("FSM", "Not FSM"),
    "fsm_sen": ("FSM and SEN", "FSM, no SEN", "SEN, not FSM", "Neither FSM nor SEN"),
    "ethnicity": tuple(ETHNIC_MAJOR_GROUPS.values()),
    "social_care_group": (CLA_12_MONTHS, CLA_UNDER_12_MONTHS, CPPO, CINO),
}
LAST_VALUES = (UNCLASSIFIED, NOT_IN_A_GROUP, UNKNOWN)
# How a table title names a breakdown ("Persistent absence by SEN provision").
BREAKDOWN_PHRASES = {
    "school": "school",
    "phase": "phase of school",
    "nc_year": "National Curriculum year",
    "sex": "sex",
    "ethnicity": "ethnic group",
    "sen": "SEN provision",
    "fsm": "free school meals",
    "social_care_group": "social care group at 31 March",
    "fsm_sen": "free school meals and SEN",
}
BREAKDOWN_ORDER = tuple(BREAKDOWN_LABELS)


def cohort_order(present: Iterable[str]) -> tuple[str, ...]:
    """Cohorts in display order: DfE's groups and the other social care cohorts, then any a
    user configured (by name), then the comparators (no social worker, all pupils)."""
    found = set(present)
    first = [c for c in COHORT_ORDER if c in found and c not in COMPARATORS]
    configured = sorted(found - set(COHORT_ORDER))
    return (*first, *configured, *(c for c in COMPARATORS if c in found))


def value_sort_key(breakdown: str, value: str) -> tuple[int, float, str]:
    """A breakdown's values in reading order: DfE's order where it has one, NC years by
    number (reception first), then the rest by name, and "not known" values last."""
    if value in LAST_VALUES:
        return (2, float(LAST_VALUES.index(value)), value)
    order = VALUE_ORDER.get(breakdown, ())
    if value in order:
        return (0, float(order.index(value)), value)
    if breakdown == "nc_year":
        if value == "R":
            return (0, -1.0, value)
        if value.isdigit():
            return (0, float(value), value)
    return (1, 0.0, value)


def breakdown_sort_key(breakdown: str) -> tuple[int, str]:
    known = breakdown in BREAKDOWN_ORDER
    return (BREAKDOWN_ORDER.index(breakdown) if known else len(BREAKDOWN_ORDER), breakdown)


def period_sort_key(period: str) -> tuple[str, int, int]:
    """``2024/25`` < ``2024/25 autumn term`` < ``2024/25 spring term`` < ``2025/26``: each
    academic year, then its terms in academic order."""
    year, _, rest = period.partition(" ")
    if not rest:
        return (year, 0, 0)
    return (year, 1, academic_term_rank(rest.split(" ")[0]))


def previous_period(period: str) -> str:
    """The same period a year earlier: ``2024/25`` -> ``2023/24`` (a term: the same term)."""
    year, _, rest = period.partition(" ")
    start = year.split("/")[0]
    if not start.isdigit():
        return ""
    earlier = academic_year_label(int(start))
    return f"{earlier} {rest}" if rest else earlier


def breakdown_phrase(breakdown: str) -> str:
    """How a title names a breakdown, in a sentence (acronyms kept): ``SEN provision``."""
    return BREAKDOWN_PHRASES.get(breakdown, breakdown.replace("_", " "))


def in_reading_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Disclosed rows sorted as every consumer shows them: by period, the catalogue's
    measures, breakdown and the breakdown's values, then cohort (a table's row of cohorts)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    measures = {m.name: i for i, m in enumerate(MEASURES)}
    cohorts = {c: i for i, c in enumerate(cohort_order(set(frame.cohort)))}
    periods = {p: i for i, p in enumerate(sorted(set(frame.period), key=period_sort_key))}
    values = {
        (b, v): i
        for i, (b, v) in enumerate(
            sorted(
                set(zip(frame.breakdown, frame.breakdown_value, strict=True)),
                key=lambda bv: (breakdown_sort_key(bv[0]), value_sort_key(*bv)),
            )
        )
    }
    order = pd.DataFrame(
        {
            "period": frame.period.map(periods),
            "measure": frame.measure.map(lambda m: measures.get(m, len(measures))),
            "cohort": frame.cohort.map(cohorts),
            "value": [
                values[bv] for bv in zip(frame.breakdown, frame.breakdown_value, strict=True)
            ],
        },
        index=frame.index,
    )
    ranked = order.sort_values(["period", "measure", "value", "cohort"], kind="stable").index
    return frame.loc[ranked].reset_index(drop=True)
