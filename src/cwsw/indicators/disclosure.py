"""Disclosure control over a whole mart: where its quantities add up, and the gate.

Marts hold unsuppressed figures; every figure that leaves goes through :func:`disclosed_mart`,
which hands the mart's cells and the relations between them (totals of breakdowns, terms of a
year, rates resting on their pupil counts) to the one suppression function,
:func:`cwsw.indicators.suppression.suppress` (docs/domain.md §4, docs/marts.md).
"""

from __future__ import annotations

import pandas as pd

from cwsw.indicators import breakdowns, measures
from cwsw.indicators.measures import TERM, YEAR
from cwsw.indicators.suppression import BUILT_ON, Relation, suppress

Key = tuple[str, str, str, str, str]  # period, quantity, cohort, breakdown, breakdown value


def cell_keys(mart: pd.DataFrame, quantity_column: str) -> list[Key]:
    columns = (mart.period, mart[quantity_column], mart.cohort, mart.breakdown)
    return [
        (str(p), str(q), str(c), str(b), str(v))
        for p, q, c, b, v in zip(*columns, mart.breakdown_value, strict=True)
    ]


def _built_on_keys(mart: pd.DataFrame) -> list[Key | None]:
    """The pupil count each row rests on (:attr:`Measure.built_on`), in the same period,
    cohort and breakdown value; None for a row that rests only on its own parts."""
    bases = [measures.BY_NAME[m].built_on for m in mart.measure]
    columns = (mart.period, mart.cohort, mart.breakdown, mart.breakdown_value)
    return [
        None if base is None else (str(p), base, str(c), str(b), str(v))
        for base, p, c, b, v in zip(bases, *columns, strict=True)
    ]


def mart_relations(mart: pd.DataFrame) -> list[Relation]:
    """Where the mart's quantities add up, for secondary suppression.

    Within a period: each breakdown's values sum to its total; a ``not`` cohort and the cohort
    it complements sum to all pupils; a social care group's cohort (``at``, named after its
    group) is the same figure as all pupils in that group of the ``social_care_group``
    breakdown; sessions missed are authorised plus unauthorised; and a year's sessions are its
    terms' sessions.

    The relations come in one order whatever the hash seed (the keys are iterated sorted, not
    in a set's order), and :func:`~cwsw.indicators.suppression.suppress` orders them again.
    """
    quantities = set(cell_keys(mart, "numerator_quantity")) | set(
        cell_keys(mart, "denominator_quantity")
    )
    ordered = sorted(quantities)
    relations: list[Relation] = []
    parts: dict[tuple[str, str, str, str], list[Key]] = {}
    for key in ordered:
        if key[3] != "total":
            parts.setdefault(key[:4], []).append(key)
    for (period, quantity, cohort, _b), members in parts.items():
        total = (period, quantity, cohort, "total", breakdowns.TOTAL)
        if total in quantities:
            relations.append(Relation(total, tuple(sorted(members))))
    kinds = mart[["cohort", "cohort_kind", "complement_of"]].drop_duplicates()
    cohorts = set(kinds.cohort)
    everyone = sorted(
        str(c) for c, k in zip(kinds.cohort, kinds.cohort_kind, strict=True) if k == "all"
    )
    complement_of = {
        str(c): str(o)
        for c, k, o in zip(kinds.cohort, kinds.cohort_kind, kinds.complement_of, strict=True)
        if k == "not" and o in cohorts
    }
    # A social care group's cohort is the same figure as all pupils in that group.
    groups = {str(c) for c, k in zip(kinds.cohort, kinds.cohort_kind, strict=True) if k == "at"}
    for key in ordered:
        period, quantity, cohort, breakdown, value = key
        if breakdown == "social_care_group" and cohort in everyone and value in groups:
            same = (period, quantity, value, "total", breakdowns.TOTAL)
            if same in quantities:
                relations.append(Relation(same, (key,)))
        if cohort in complement_of:
            inside: Key = (period, quantity, complement_of[cohort], breakdown, value)
            for all_cohort in everyone:
                total = (period, quantity, all_cohort, breakdown, value)
                if total in quantities and inside in quantities:
                    relations.append(Relation(total, (inside, key)))
        for total_quantity, part_quantities in measures.QUANTITY_SUMS:
            if quantity == total_quantity:
                summed = tuple((period, q, cohort, breakdown, value) for q in part_quantities)
                if all(m in quantities for m in summed):
                    relations.append(Relation(key, summed))
    periods = mart[["academic_year", "period", "period_type"]].drop_duplicates()
    for _year, group in periods.groupby("academic_year", sort=True):
        year_periods = sorted(str(p) for p in group.period[group.period_type == YEAR])
        term_periods = sorted(str(p) for p in group.period[group.period_type == TERM])
        if not year_periods or not term_periods:
            continue
        for key in ordered:
            period, quantity, cohort, breakdown, value = key
            if period == year_periods[0] and quantity in measures.ADDS_OVER_TERMS:
                terms = tuple((p, quantity, cohort, breakdown, value) for p in term_periods)
                if all(m in quantities for m in terms):
                    relations.append(Relation(key, terms))
    return relations


def disclosed_mart(
    mart: pd.DataFrame, *, threshold: int, unrestricted: bool = False
) -> pd.DataFrame:
    """The mart as it may leave the system: every row through :func:`suppress`, with the
    mart's own relations, one academic year at a time (a year's outputs share one pattern).
    A rate of sessions rests on the enrolments of its cell (:attr:`Measure.built_on`)."""
    if mart.empty:
        out = mart.copy()
        out["symbol"] = pd.Series(dtype="object")
        out["suppressed"] = pd.Series(dtype="bool")
        return out
    parts = []
    for _year, rows in mart.groupby("academic_year", sort=True):
        rows = rows.reset_index(drop=True)
        cells = rows.copy()
        for side in ("numerator", "denominator"):
            keys = cell_keys(rows, f"{side}_quantity")
            cells[f"{side}_key"] = pd.Series(keys, index=rows.index, dtype="object")
            cells[f"{side}_is_count"] = [
                getattr(measures.BY_NAME[m], f"{side}_is_count") for m in rows.measure
            ]
        cells[BUILT_ON] = pd.Series(_built_on_keys(rows), index=rows.index, dtype="object")
        shown = suppress(
            cells, mart_relations(rows), threshold=threshold, unrestricted=unrestricted
        )
        parts.append(
            shown.drop(
                columns=[
                    "numerator_key",
                    "denominator_key",
                    "numerator_is_count",
                    "denominator_is_count",
                    BUILT_ON,
                ]
            )
        )
    return pd.concat(parts, ignore_index=True)
