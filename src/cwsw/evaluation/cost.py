"""Cost and cost-effectiveness of a programme tested in a cluster randomised trial of schools.

From the costs recorded against each school (the intervention log: one row per school, cost
item and year) and each school's outcome, :func:`cost_effectiveness` gives
(docs/evaluation-trials.md):

- each arm's **cost per pupil per year** by the EEF's convention: the cumulative marginal
  cost over three years (start-up costs in year 1, recurring costs in every year), divided by
  the pupils and by three (:func:`cost_per_pupil_per_year`). Costs are marginal: what the
  programme adds to business as usual, so a control school with no costs recorded costs 0;
- the **incremental cost** ``ΔC`` (intervention minus control, per pupil per year) and the
  **incremental effect** ``ΔE`` (events per pupil-year averted for an outcome where fewer is
  better, such as s47 enquiries; gained otherwise), each arm's figure being its total over its
  total pupils (each pupil counts once);
- the **ICER** ``ΔC / ΔE`` (£ per event averted) with its quadrant, and the **incremental net
  benefit** ``INB(λ) = λ·ΔE − ΔC`` at a willingness to pay ``λ`` per unit of effect;
- their uncertainty by a **cluster bootstrap stratified by arm**: schools (the unit of
  randomisation) are resampled with replacement within each arm, so every replicate keeps
  the trial's schools per arm; percentile intervals for ``ΔC``, ``ΔE`` and ``INB(λ)``; and the
  **cost-effectiveness acceptability curve**, the share of replicates with ``INB(λ) > 0`` at
  each ``λ`` of a grid. No interval is given for the ICER itself: a ratio whose denominator
  may cross 0 has none that means anything, which is why the curve is reported instead.

The bootstrap is reproducible: the schools of each arm are put in the order of their
identifiers (as text), then ``replicates × schools`` indices are drawn with
``numpy.random.Generator(PCG64(seed)).integers(0, n, size=(replicates, n))``, first for the
intervention arm, then for control. The same data and seed give the same figures in any
process and any row order.

Sources:

- Education Endowment Foundation (2023). *Cost evaluation guidance for EEF evaluations*
  (cost per pupil per year over three years; marginal costs; start-up costs in year 1).
- Drummond, M. F., Sculpher, M. J., Claxton, K., Stoddart, G. L. and Torrance, G. W. (2015).
  *Methods for the Economic Evaluation of Health Care Programmes*, 4th ed. (OUP), ch. 4 and 11
  (ICER, the cost-effectiveness plane, net benefit, acceptability curves).
- Stinnett, A. A. and Mullahy, J. (1998). Net health benefits: a new framework for the
  analysis of uncertainty in cost-effectiveness analysis. *Medical Decision Making*
  18(2 Suppl), S68-S80 (net benefit).
- Fenwick, E., O'Brien, B. J. and Briggs, A. (2004). Cost-effectiveness acceptability curves:
  facts, fallacies and frequently asked questions. *Health Economics* 13(5), 405-415.
- Flynn, T. N. and Peters, T. J. (2004). Use of the bootstrap in analysing cost data from
  cluster randomised trials: some simulation results. *BMC Health Services Research* 4, 33;
  Gomes, M., Ng, E. S.-W., Grieve, R., Nixon, R., Carpenter, J. and Thompson, S. G. (2012).
  Developing appropriate methods for cost-effectiveness analysis of cluster randomized
  trials. *Medical Decision Making* 32(2), 350-361 (resampling clusters, not pupils).
- Davison, A. C. and Hinkley, D. V. (1997). *Bootstrap Methods and their Application* (CUP),
  section 3.2 (the stratified bootstrap) and 5.2 (percentile intervals).
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cwsw.errors import UserError

Array = NDArray[np.float64]

# The EEF's convention: costs over three years, reported per pupil per year.
EEF_COST_YEARS = 3
DEFAULT_REPLICATES = 1000


class CostDataError(UserError):
    """Cost or outcome data that cannot give a cost-effectiveness analysis as asked."""


class MissingCosts(CostDataError):
    """A cost is missing: a school in the intervention arm with none recorded, an empty cost,
    or a required cost item not recorded for a school."""


@dataclass(frozen=True)
class CostSpec:
    """The columns of the two tables :func:`cost_effectiveness` reads.

    The **schools** table, one row per school: ``school`` (identifier), ``arm`` (1 for the
    intervention, 0 for control), ``pupils`` (the pupils the programme serves in the school:
    the denominator of both cost and effect) and ``effect`` (the school's events over the
    follow-up, e.g. s47 enquiries), with ``follow_up_years`` (a column or one number).
    ``lower_is_better`` (default) makes the effect the events averted.

    The **costs** table, one row per school, cost item and year (from the intervention log):
    ``school``, ``item`` (the intervention or cost item), ``year`` (1 to ``years``) and
    ``cost`` (£, marginal, 0 or more). Every school of the intervention arm needs at least one
    row, and a row for each of ``required_items`` if given.
    """

    school: str = "laestab"
    arm: str = "intervention"
    pupils: str = "pupils"
    effect: str = "events"
    follow_up_years: str | float = 1.0
    lower_is_better: bool = True
    item: str = "item"
    year: str = "year"
    cost: str = "cost"
    years: int = EEF_COST_YEARS
    required_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchoolCost:
    """A school's cumulative marginal cost over the years and its cost per pupil per year."""

    school: Hashable
    arm: int
    pupils: float
    cumulative_cost: float
    cost_per_pupil_per_year: float


@dataclass(frozen=True)
class ArmSummary:
    """An arm's schools, pupils, cumulative cost, cost per pupil per year (EEF convention)
    and events per pupil-year."""

    schools: int
    pupils: float
    cumulative_cost: float
    cost_per_pupil_per_year: float
    events: float
    events_per_pupil_year: float


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap percentile interval."""

    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True)
class AcceptabilityPoint:
    """The probability that the programme is cost-effective at a willingness to pay:
    the share of bootstrap replicates with ``INB > 0``."""

    willingness_to_pay: float
    probability: float


@dataclass(frozen=True)
class CostEffectiveness:
    """The cost-effectiveness analysis: arm summaries, the incremental cost and effect (per
    pupil per year), ICER and quadrant, incremental net benefit at ``willingness_to_pay``,
    the probability of cost-effectiveness there, the acceptability curve, and the bootstrap's
    replicates, seed and interval level. ``icer`` is None when the arms' effects are equal."""

    intervention: ArmSummary
    control: ArmSummary
    incremental_cost: Interval
    incremental_effect: Interval
    icer: float | None
    quadrant: str
    willingness_to_pay: float
    incremental_net_benefit: Interval
    probability_cost_effective: float
    acceptability_curve: tuple[AcceptabilityPoint, ...]
    schools: tuple[SchoolCost, ...]
    replicates: int
    seed: int
    confidence: float
    years: int
    lower_is_better: bool


# ---------------------------------------------------------------------------------------------
# The definitions.


def cost_per_pupil_per_year(
    cumulative_cost: float, pupils: float, years: int = EEF_COST_YEARS
) -> float:
    """The EEF's cost per pupil per year: ``cumulative cost over the years / (pupils ×
    years)``, over three years by default (start-up costs fall in year 1 and are spread over
    the three).

    Source: Education Endowment Foundation (2023), *Cost evaluation guidance for EEF
    evaluations*.
    """
    cumulative_cost = _finite("cumulative_cost", cumulative_cost)
    if cumulative_cost < 0:
        raise CostDataError(f"cumulative_cost must be 0 or more, not {cumulative_cost:g}")
    pupils = _finite("pupils", pupils)
    if pupils <= 0:
        raise CostDataError(f"pupils must be above 0, not {pupils:g}")
    _whole_years(years)
    return cumulative_cost / (pupils * years)


def incremental_cost_effectiveness_ratio(
    incremental_cost: float, incremental_effect: float
) -> float | None:
    """The ICER ``ΔC / ΔE``: the extra cost per unit of effect gained (per event averted).
    None when ``ΔE`` is 0 (no ratio exists). Read it with its quadrant
    (:func:`cost_effectiveness_quadrant`): a negative ICER may be a programme that saves money
    and works, or one that costs more and harms.

    Source: Drummond et al. (2015), *Methods for the Economic Evaluation of Health Care
    Programmes*, 4th ed., ch. 4.
    """
    incremental_cost = _finite("incremental_cost", incremental_cost)
    incremental_effect = _finite("incremental_effect", incremental_effect)
    if incremental_effect == 0:
        return None
    return incremental_cost / incremental_effect


def cost_effectiveness_quadrant(incremental_cost: float, incremental_effect: float) -> str:
    """Where ``(ΔE, ΔC)`` lies on the cost-effectiveness plane.

    Source: Drummond et al. (2015), ch. 4 (the cost-effectiveness plane; Black 1990).
    """
    if incremental_effect > 0:
        return (
            "dominant (more effective, less costly)"
            if incremental_cost <= 0
            else "more effective, more costly"
        )
    if incremental_effect < 0:
        return (
            "dominated (less effective, more costly)"
            if incremental_cost >= 0
            else "less effective, less costly"
        )
    return "no difference in effect"


def incremental_net_benefit(
    incremental_cost: float, incremental_effect: float, willingness_to_pay: float
) -> float:
    """The incremental net (monetary) benefit ``INB(λ) = λ·ΔE − ΔC``: positive when the
    programme is worth its cost at ``λ`` per unit of effect.

    Source: Stinnett & Mullahy (1998), Medical Decision Making 18:S68-S80; Drummond et al.
    (2015), ch. 11.
    """
    incremental_cost = _finite("incremental_cost", incremental_cost)
    incremental_effect = _finite("incremental_effect", incremental_effect)
    willingness_to_pay = _willingness("willingness_to_pay", willingness_to_pay)
    return willingness_to_pay * incremental_effect - incremental_cost


def acceptability_curve(
    incremental_costs: Sequence[float] | Array,
    incremental_effects: Sequence[float] | Array,
    willingness_to_pay: Sequence[float] | Array,
) -> tuple[AcceptabilityPoint, ...]:
    """The cost-effectiveness acceptability curve: at each ``λ`` the share of the joint
    (bootstrap) draws of ``(ΔC, ΔE)`` with ``λ·ΔE − ΔC > 0`` (a draw exactly at 0 does not
    count).

    Source: Fenwick, O'Brien & Briggs (2004), Health Economics 13:405-415; van Hout et al.
    (1994), Health Economics 3:309-319.
    """
    costs = np.asarray(incremental_costs, dtype=np.float64)
    effects = np.asarray(incremental_effects, dtype=np.float64)
    if costs.shape != effects.shape or costs.ndim != 1 or costs.size == 0:
        raise CostDataError(
            "incremental_costs and incremental_effects must be two lists of the same, non-zero "
            "length (one pair per bootstrap replicate)"
        )
    grid = [_willingness("willingness_to_pay", float(v)) for v in willingness_to_pay]
    return tuple(
        AcceptabilityPoint(
            willingness_to_pay=value,
            probability=float(np.mean(value * effects - costs > 0)),
        )
        for value in grid
    )


# ---------------------------------------------------------------------------------------------
# The analysis.


def cost_effectiveness(
    schools: pd.DataFrame,
    costs: pd.DataFrame,
    spec: CostSpec,
    *,
    willingness_to_pay: float,
    seed: int,
    replicates: int = DEFAULT_REPLICATES,
    willingness_grid: Sequence[float] | None = None,
    confidence: float = 0.95,
) -> CostEffectiveness:
    """Cost per pupil per year in each arm, the incremental cost and effect, the ICER, the
    incremental net benefit at ``willingness_to_pay`` (£ per unit of effect, e.g. per s47
    enquiry averted), and their uncertainty by a cluster bootstrap stratified by arm with
    ``replicates`` replicates from ``seed`` (percentile intervals at ``confidence``), with the
    acceptability curve over ``willingness_grid`` (default: 41 points from 0 to
    4 × ``willingness_to_pay``).

    Sources: as the module docstring (EEF 2023; Drummond et al. 2015; Stinnett & Mullahy 1998;
    Fenwick et al. 2004; Flynn & Peters 2004; Gomes et al. 2012).
    """
    _whole_years(spec.years)
    willingness_to_pay = _willingness("willingness_to_pay", willingness_to_pay)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise CostDataError(f"seed must be a whole number of at least 0, not {seed!r}")
    if (
        isinstance(replicates, bool)
        or not isinstance(replicates, numbers.Integral)
        or replicates < 1
    ):
        raise CostDataError(f"replicates must be a whole number of at least 1, not {replicates!r}")
    if not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise CostDataError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")
    if willingness_grid is None:
        grid = list(np.linspace(0.0, 4.0 * willingness_to_pay, 41))
    else:
        grid = [_willingness("willingness_grid", float(v)) for v in willingness_grid]

    table = _schools_table(schools, spec)
    cumulative = _cumulative_costs(costs, table, spec)
    school_ids = table["school"].tolist()
    arm = table["arm"].to_numpy(dtype=np.int64)
    pupils = table["pupils"].to_numpy(dtype=np.float64)
    events = table["effect"].to_numpy(dtype=np.float64)
    follow_up = table["follow_up"].to_numpy(dtype=np.float64)
    cost = np.array([cumulative.get(str(s), 0.0) for s in school_ids], dtype=np.float64)
    years = int(spec.years)

    summaries = {}
    for value in (1, 0):
        here = arm == value
        summaries[value] = ArmSummary(
            schools=int(here.sum()),
            pupils=float(pupils[here].sum()),
            cumulative_cost=float(cost[here].sum()),
            cost_per_pupil_per_year=cost_per_pupil_per_year(
                float(cost[here].sum()), float(pupils[here].sum()), years
            ),
            events=float(events[here].sum()),
            events_per_pupil_year=float(
                events[here].sum() / (pupils[here] * follow_up[here]).sum()
            ),
        )
    sign = -1.0 if spec.lower_is_better else 1.0
    delta_cost = summaries[1].cost_per_pupil_per_year - summaries[0].cost_per_pupil_per_year
    delta_effect = sign * (summaries[1].events_per_pupil_year - summaries[0].events_per_pupil_year)

    # The stratified cluster bootstrap: the intervention arm's draws, then control's.
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    per_arm: dict[int, tuple[Array, Array]] = {}
    for value in (1, 0):
        here = np.flatnonzero(arm == value)
        draws = rng.integers(0, len(here), size=(int(replicates), len(here)))
        chosen = here[draws]
        pupil_sum = pupils[chosen].sum(axis=1)
        per_arm[value] = (
            cost[chosen].sum(axis=1) / (pupil_sum * years),
            events[chosen].sum(axis=1) / (pupils[chosen] * follow_up[chosen]).sum(axis=1),
        )
    boot_cost = per_arm[1][0] - per_arm[0][0]
    boot_effect = sign * (per_arm[1][1] - per_arm[0][1])
    boot_inb = willingness_to_pay * boot_effect - boot_cost
    tail = (1.0 - float(confidence)) / 2.0

    def interval(estimate: float, draws: Array) -> Interval:
        lower, upper = np.quantile(draws, [tail, 1.0 - tail])
        return Interval(estimate=estimate, lower=float(lower), upper=float(upper))

    school_costs = tuple(
        SchoolCost(
            school=s,
            arm=int(a),
            pupils=float(p),
            cumulative_cost=float(c),
            cost_per_pupil_per_year=cost_per_pupil_per_year(float(c), float(p), years),
        )
        for s, a, p, c in zip(school_ids, arm, pupils, cost, strict=True)
    )
    at_willingness = acceptability_curve(boot_cost, boot_effect, [willingness_to_pay])[0]
    return CostEffectiveness(
        intervention=summaries[1],
        control=summaries[0],
        incremental_cost=interval(delta_cost, boot_cost),
        incremental_effect=interval(delta_effect, boot_effect),
        icer=incremental_cost_effectiveness_ratio(delta_cost, delta_effect),
        quadrant=cost_effectiveness_quadrant(delta_cost, delta_effect),
        willingness_to_pay=willingness_to_pay,
        incremental_net_benefit=interval(
            incremental_net_benefit(delta_cost, delta_effect, willingness_to_pay), boot_inb
        ),
        probability_cost_effective=at_willingness.probability,
        acceptability_curve=acceptability_curve(boot_cost, boot_effect, grid),
        schools=school_costs,
        replicates=int(replicates),
        seed=int(seed),
        confidence=float(confidence),
        years=years,
        lower_is_better=spec.lower_is_better,
    )


# ---------------------------------------------------------------------------------------------
# Checks.


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise CostDataError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def _willingness(name: str, value: float) -> float:
    value = _finite(name, value)
    if value < 0:
        raise CostDataError(f"{name} must be 0 or more (£ per unit of effect), not {value:g}")
    return value


def _whole_years(years: int) -> None:
    if isinstance(years, bool) or not isinstance(years, numbers.Integral) or years < 1:
        raise CostDataError(
            f"years must be a whole number of at least 1 (the EEF's convention is 3), not {years!r}"
        )


def _listed(values: Sequence[object], most: int = 3) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def _plain(value: object) -> Hashable:
    if isinstance(value, np.generic):
        plain: Hashable = value.item()
        return plain
    return value


def _columns(frame: pd.DataFrame, names: Sequence[str], table: str) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise CostDataError(
            f"column(s) {', '.join(map(repr, missing))} not in the {table} table: name existing "
            "columns in the CostSpec"
        )


def _schools_table(schools: pd.DataFrame, spec: CostSpec) -> pd.DataFrame:
    """The schools, checked, as columns school, arm, pupils, effect, follow_up, in the order
    of their identifiers as text."""
    names = [spec.school, spec.arm, spec.pupils, spec.effect]
    if isinstance(spec.follow_up_years, str):
        names.append(spec.follow_up_years)
    _columns(schools, names, "schools")
    if schools[spec.school].isna().any():
        raise CostDataError(f"column {spec.school!r} of the schools table has empty identifiers")
    ids = [_plain(v) for v in schools[spec.school]]
    texts = [str(v) for v in ids]
    repeated = sorted(t for t, n in Counter(texts).items() if n > 1)
    if repeated:
        raise CostDataError(
            f"school(s) {_listed(repeated)} appear more than once in the schools table: give one "
            "row per school"
        )
    arm = pd.to_numeric(schools[spec.arm], errors="coerce")
    wrong = [t for t, ok in zip(texts, arm.isin([0, 1]), strict=True) if not ok]
    if wrong or pd.api.types.is_bool_dtype(schools[spec.arm]):
        raise CostDataError(
            f"arm column {spec.arm!r} must hold 0 (control) or 1 (intervention); school(s) "
            f"{_listed(wrong) or 'all'} do not"
        )
    pupils = pd.to_numeric(schools[spec.pupils], errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(pupils) & (pupils > 0))
    if bad.any():
        raise CostDataError(
            f"pupils ({spec.pupils!r}) must be above 0; it is 0, negative or missing for "
            f"school(s) {_listed([t for t, b in zip(texts, bad, strict=True) if b])}"
        )
    effect = pd.to_numeric(schools[spec.effect], errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(effect) & (effect >= 0))
    if bad.any():
        raise CostDataError(
            f"effect ({spec.effect!r}) must be a count of events, 0 or more; it is missing or "
            f"negative for school(s) {_listed([t for t, b in zip(texts, bad, strict=True) if b])}"
        )
    if isinstance(spec.follow_up_years, str):
        follow_up = pd.to_numeric(schools[spec.follow_up_years], errors="coerce").to_numpy(
            dtype=np.float64
        )
    else:
        follow_up = np.full(len(schools), _finite("follow_up_years", spec.follow_up_years))
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(follow_up) & (follow_up > 0))
    if bad.any():
        raise CostDataError(
            f"follow-up years must be above 0; they are not for school(s) "
            f"{_listed([t for t, b in zip(texts, bad, strict=True) if b])}"
        )
    table = pd.DataFrame(
        {
            "school": ids,
            "key": texts,
            "arm": arm.to_numpy(dtype=np.int64),
            "pupils": pupils,
            "effect": effect,
            "follow_up": follow_up,
        }
    )
    table = table.sort_values("key", kind="mergesort").reset_index(drop=True)
    for value, label in ((1, "intervention"), (0, "control")):
        count = int((table["arm"] == value).sum())
        if count < 2:
            raise CostDataError(
                f"the {label} arm has {count} school(s): a cluster bootstrap needs at least 2 "
                "per arm"
            )
    return table


def _cumulative_costs(costs: pd.DataFrame, table: pd.DataFrame, spec: CostSpec) -> dict[str, float]:
    """Each school's cost summed over items and years 1..years (keyed by identifier as text),
    after refusing missing, negative or misplaced costs and intervention schools without
    costs."""
    _columns(costs, [spec.school, spec.item, spec.year, spec.cost], "costs")
    known = set(table["key"])
    for column in (spec.school, spec.item):
        if costs[column].isna().any():
            raise MissingCosts(
                f"the costs table has {int(costs[column].isna().sum())} row(s) with no "
                f"{column!r}: say which school and item each cost is for"
            )
    schools = [str(_plain(v)) for v in costs[spec.school]]
    items = [str(_plain(v)) for v in costs[spec.item]]
    unknown = sorted({s for s in schools if s not in known})
    if unknown:
        raise CostDataError(
            f"the costs table names school(s) {_listed(unknown)} that are not in the schools "
            "table: correct the identifier or add the school"
        )
    years = pd.to_numeric(costs[spec.year], errors="coerce").to_numpy(dtype=np.float64)
    amounts = pd.to_numeric(costs[spec.cost], errors="coerce").to_numpy(dtype=np.float64)
    seen: set[tuple[str, str, float]] = set()
    for school, item, year, raw, amount in zip(
        schools, items, years, costs[spec.year], amounts, strict=True
    ):
        if not (math.isfinite(year) and year == math.floor(year) and 1 <= year <= spec.years):
            raise CostDataError(
                f"school {school}, item {item!r}: year {_plain(raw)!r} is not a year from 1 to "
                f"{spec.years} of the programme"
            )
        if not math.isfinite(amount):
            raise MissingCosts(
                f"school {school}, item {item!r}, year {int(year)}: the cost is missing; record "
                "it from the intervention log (0 if nothing was spent)"
            )
        if amount < 0:
            raise CostDataError(
                f"school {school}, item {item!r}, year {int(year)}: the cost {amount:g} is "
                "negative; record the resources used, 0 or more"
            )
        if (school, item, year) in seen:
            raise CostDataError(
                f"school {school}, item {item!r}, year {int(year)} is recorded twice: give one "
                "row per school, item and year"
            )
        seen.add((school, item, year))
    amounts_by_school: dict[str, list[float]] = {}
    for school, amount in zip(schools, amounts, strict=True):
        amounts_by_school.setdefault(school, []).append(float(amount))
    # fsum is exactly rounded, so the order of the rows cannot change a total.
    totals = {school: math.fsum(values) for school, values in amounts_by_school.items()}
    recorded_items: dict[str, set[str]] = {}
    for school, item in zip(schools, items, strict=True):
        recorded_items.setdefault(school, set()).add(item)
    for school in table.loc[table["arm"] == 1, "key"]:
        if school not in totals:
            raise MissingCosts(
                f"school {school} (intervention arm) has no costs recorded: record its costs from "
                "the intervention log (0 if nothing was spent)"
            )
        for item in spec.required_items:
            if item not in recorded_items[school]:
                raise MissingCosts(
                    f"school {school} (intervention arm) has no cost recorded for {item!r}: "
                    "record it (0 if nothing was spent)"
                )
    return totals
