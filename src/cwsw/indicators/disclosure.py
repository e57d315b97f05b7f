"""Disclosure control over a whole mart: where its quantities add up, and the gate.

Marts hold unsuppressed figures; every figure that leaves goes through :func:`disclosed_mart`,
which hands the mart's cells and the relations between them (totals of breakdowns, terms of a
year, rates resting on their pupil counts) to the one suppression function,
:func:`cwsw.indicators.suppression.suppress` (docs/domain.md §4, docs/marts.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from cwsw.domain.labels import SEN_LABELS
from cwsw.indicators import breakdowns, measures
from cwsw.indicators.measures import TERM, YEAR
from cwsw.indicators.suppression import (
    BUILT_ON,
    WITHIN_DENOMINATOR,
    AtMost,
    Relation,
    suppress,
)

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


def _crossing_relations(
    ordered: list[Key], quantities: set[Key], school_phases: Mapping[str, str]
) -> list[Relation]:
    """Breakdowns that cross or nest: FSM x SEN against FSM and against SEN
    (:data:`~cwsw.indicators.breakdowns.FSM_SEN_CROSSINGS`), and each phase against its
    schools (a school's phase is public). A value with no row holds no pupils, so it drops
    out; :func:`~cwsw.indicators.suppression.suppress` keeps only relations that hold."""
    relations: list[Relation] = []
    slices = sorted({(p, q, c) for p, q, c, _b, _v in ordered})
    schools: dict[tuple[str, str, str], list[str]] = {}
    for period, quantity, cohort, breakdown, value in ordered:
        if breakdown == "school":
            schools.setdefault((period, quantity, cohort), []).append(value)
    for period, quantity, cohort in slices:

        def present(breakdown: str, values: Iterable[str]) -> tuple[Key, ...]:
            keys = ((period, quantity, cohort, breakdown, v) for v in values)  # noqa: B023
            return tuple(k for k in keys if k in quantities)

        for breakdown, values, crossed in breakdowns.FSM_SEN_CROSSINGS:
            totals, parts = present(breakdown, values), present("fsm_sen", crossed)
            if totals and parts:
                relations.append(Relation(totals[0], parts, totals[1:]))
        by_phase: dict[str, list[str]] = {}
        for school in schools.get((period, quantity, cohort), []):
            phase = school_phases.get(school, breakdowns.UNKNOWN)
            by_phase.setdefault(phase, []).append(school)
        for phase, members in sorted(by_phase.items()):
            total = (period, quantity, cohort, "phase", phase)
            if total in quantities:
                relations.append(Relation(total, present("school", members)))
    return relations


# Within one cell, figures nested by definition (smaller, larger): severe absence is
# persistent absence too; meeting the standard in all three subjects means in each; grade 5 in
# English and maths means grade 4; FSM now is FSM in the last six years; Progress 8 is
# measured for KS4 pupils.
NESTED_QUANTITIES = (
    ("enrolments_severely_absent", "enrolments_persistently_absent"),
    ("ks2_rwm_met", "ks2_read_met"),
    ("ks2_rwm_met", "ks2_writ_met"),
    ("ks2_rwm_met", "ks2_mat_met"),
    ("ks4_basics_95", "ks4_basics_94"),
    ("pupils_fsm", "pupils_fsm6"),
    ("p8_pupils", "ks4_pupils"),
)
# Where a breakdown is the characteristic a measure counts, its share is all of the value's
# pupils or none of them (pupils with an EHC plan among pupils with an EHC plan: all of them).
_ALL, _NONE = "all", "none"
_SEN = {"pupils_sen_support": (SEN_LABELS["K"],), "pupils_ehc_plan": (SEN_LABELS["E"],)}
DEFINITIONAL_SHARES: dict[str, dict[str, dict[str, str]]] = {
    # breakdown -> value -> quantity -> all/none (of the cell's pupils)
    "fsm": {"FSM": {"pupils_fsm": _ALL}, "Not FSM": {"pupils_fsm": _NONE}},
    "fsm_sen": {
        "FSM and SEN": {"pupils_fsm": _ALL},
        "FSM, no SEN": {"pupils_fsm": _ALL, "pupils_sen_support": _NONE, "pupils_ehc_plan": _NONE},
        "SEN, not FSM": {"pupils_fsm": _NONE},
        "Neither FSM nor SEN": {
            "pupils_fsm": _NONE,
            "pupils_sen_support": _NONE,
            "pupils_ehc_plan": _NONE,
        },
    },
    "sen": {
        label: {q: (_ALL if label in labels else _NONE) for q, labels in _SEN.items()}
        for label in (*SEN_LABELS.values(), breakdowns.UNKNOWN)
    },
}
# The pupils of a cell that has SEN: those on SEN support and those with an EHC plan.
_SEN_PARTS = ("pupils_sen_support", "pupils_ehc_plan")
_SEN_CELLS = {("fsm_sen", "FSM and SEN"), ("fsm_sen", "SEN, not FSM")}


def _years_and_terms(mart: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Each academic year's period and its terms' periods, where the mart has both."""
    periods = mart[["academic_year", "period", "period_type"]].drop_duplicates()
    out = []
    for _year, group in periods.groupby("academic_year", sort=True):
        years = sorted(str(p) for p in group.period[group.period_type == YEAR])
        terms = sorted(str(p) for p in group.period[group.period_type == TERM])
        if years and terms:
            out.append((years[0], terms))
    return out


def reader_knowledge(
    mart: pd.DataFrame, quantities: set[Key]
) -> tuple[list[Relation], list[AtMost], list[Key], list[Key]]:
    """What anyone knows of a mart's figures by definition, beyond its sums: shares that are
    all or none of a cell's pupils (relations, and zeros), figures nested within a cell or a
    term within its year (inequalities), and the cells that have pupils (a breakdown value
    has a row only where it has some: the bases of its rates are not zero)."""
    relations: list[Relation] = []
    public_zeros: list[Key] = []
    at_most: list[AtMost] = []
    bases = {m.denominator for m in measures.MEASURES if not m.is_count}
    nonzero = sorted(k for k in quantities if k[1] in bases)
    for key in sorted(quantities):
        period, quantity, cohort, breakdown, value = key
        share = DEFINITIONAL_SHARES.get(breakdown, {}).get(value, {}).get(quantity)
        pupils = (period, "pupils", cohort, breakdown, value)
        if share == _ALL and pupils in quantities:
            relations.append(Relation(key, (pupils,)))
        elif share == _NONE:
            public_zeros.append(key)
        for smaller, larger in NESTED_QUANTITIES:
            if quantity == smaller:
                other = (period, larger, cohort, breakdown, value)
                if other in quantities:
                    at_most.append(AtMost((key,), (other,)))
        if quantity == "pupils" and (breakdown, value) in _SEN_CELLS:
            parts = tuple((period, q, cohort, breakdown, value) for q in _SEN_PARTS)
            if all(k in quantities for k in parts):
                relations.append(Relation(key, parts))
    # A term's enrolments are at most its year's, and the year's at most its terms' together.
    for year_period, terms in _years_and_terms(mart):
        for key in sorted(quantities):
            period, quantity, cohort, breakdown, value = key
            if period != year_period or quantity not in measures.COUNTED_IN_EACH_TERM:
                continue
            in_terms = [(t, quantity, cohort, breakdown, value) for t in terms]
            present = tuple(k for k in in_terms if k in quantities)
            for term_key in present:
                at_most.append(AtMost((term_key,), (key,)))
            if len(present) == len(in_terms):
                at_most.append(AtMost((key,), present))
    return relations, at_most, nonzero, public_zeros


def mart_relations(
    mart: pd.DataFrame, school_phases: Mapping[str, str] | None = None
) -> list[Relation]:
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
    relations = _crossing_relations(ordered, quantities, school_phases or {})
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
    for year_period, term_periods in _years_and_terms(mart):
        for key in ordered:
            period, quantity, cohort, breakdown, value = key
            if period == year_period and quantity in measures.ADDS_OVER_TERMS:
                terms = tuple((p, quantity, cohort, breakdown, value) for p in term_periods)
                if all(m in quantities for m in terms):
                    relations.append(Relation(key, terms))
    return relations


def disclosed_mart(
    mart: pd.DataFrame,
    *,
    threshold: int,
    unrestricted: bool = False,
    school_phases: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The mart as it may leave the system: every row through :func:`suppress`, with the
    mart's own relations, one academic year at a time (a year's outputs share one pattern).
    A rate of sessions rests on the enrolments of its cell (:attr:`Measure.built_on`).
    ``school_phases`` (LAESTAB to phase, as GIAS publishes it) ties each school's figures to
    its phase's."""
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
        cells[WITHIN_DENOMINATOR] = [measures.BY_NAME[m].unit == "%" for m in rows.measure]
        quantities = set(cell_keys(rows, "numerator_quantity")) | set(
            cell_keys(rows, "denominator_quantity")
        )
        known, at_most, nonzero, zeros = reader_knowledge(rows, quantities)
        shown = suppress(
            cells,
            [*mart_relations(rows, school_phases), *known],
            threshold=threshold,
            unrestricted=unrestricted,
            at_most=at_most,
            nonzero=nonzero,
            public_zeros=zeros,
        )
        parts.append(
            shown.drop(
                columns=[
                    "numerator_key",
                    "denominator_key",
                    "numerator_is_count",
                    "denominator_is_count",
                    BUILT_ON,
                    WITHIN_DENOMINATOR,
                ]
            )
        )
    return pd.concat(parts, ignore_index=True)
