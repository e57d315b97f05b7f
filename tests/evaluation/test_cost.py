"""Cost and cost-effectiveness (cwsw.evaluation.cost).

The point estimates are worked out by hand below from the EEF's convention and the
definitions of the ICER and net benefit; the bootstrap is re-done here from its documented
draws, checked to keep each arm's schools apart, and its spread compared with the delta
method's standard error of a ratio estimator.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cwsw.errors import UserError
from cwsw.evaluation.cost import (
    AcceptabilityPoint,
    CostDataError,
    CostSpec,
    MissingCosts,
    acceptability_curve,
    cost_effectiveness,
    cost_effectiveness_quadrant,
    cost_per_pupil_per_year,
    incremental_cost_effectiveness_ratio,
    incremental_net_benefit,
)

SPEC = CostSpec(follow_up_years=2.0)


@pytest.fixture()
def schools() -> pd.DataFrame:
    """Four intervention schools (1000 pupils, 24 events in 2 years) and four control
    schools (1000 pupils, 32 events)."""
    return pd.DataFrame(
        {
            "laestab": [8001, 8002, 8003, 8004, 8005, 8006, 8007, 8008],
            "intervention": [1, 1, 1, 1, 0, 0, 0, 0],
            "pupils": [100, 200, 300, 400, 250, 250, 250, 250],
            "events": [4, 6, 6, 8, 8, 8, 8, 8],
        }
    )


@pytest.fixture()
def costs() -> pd.DataFrame:
    """£30,000 over three years in the intervention schools, none in control."""
    rows = [
        (8001, "social worker", 1, 1500.0),
        (8001, "social worker", 2, 1500.0),
        (8001, "social worker", 3, 1500.0),
        (8001, "set-up", 1, 1500.0),
        (8002, "social worker", 1, 3000.0),
        (8002, "social worker", 2, 3000.0),
        (8002, "social worker", 3, 3000.0),
        (8003, "social worker", 1, 4000.0),
        (8003, "social worker", 2, 4000.0),
        (8003, "social worker", 3, 4000.0),
        (8004, "social worker", 1, 3000.0),
    ]
    return pd.DataFrame(rows, columns=["laestab", "item", "year", "cost"])


def analyse(schools, costs, **options):
    options = {"willingness_to_pay": 5000.0, "seed": 17, "replicates": 500, **options}
    return cost_effectiveness(schools, costs, SPEC, **options)


# ---------------------------------------------------------------------------------------------
# The definitions, by hand.


def test_cost_per_pupil_per_year_is_the_three_year_cost_over_pupils_and_three():
    # Start-up £3,000 in year 1 and £1,500 a year after it, for 50 pupils:
    # £6,000 / (50 × 3) = £40 per pupil per year (EEF 2023).
    assert cost_per_pupil_per_year(3000 + 1500 + 1500, 50) == 40.0
    assert cost_per_pupil_per_year(6000, 50, years=2) == 60.0
    for bad in ((-1.0, 50, 3), (100.0, 0, 3), (100.0, 50, 0), (math.nan, 50, 3)):
        with pytest.raises(CostDataError):
            cost_per_pupil_per_year(*bad)


def test_icer_net_benefit_and_quadrant_by_hand():
    # £10 more per pupil per year for 0.004 events per pupil-year averted: £2,500 per event.
    assert incremental_cost_effectiveness_ratio(10.0, 0.004) == pytest.approx(2500.0)
    assert incremental_cost_effectiveness_ratio(10.0, 0.0) is None
    assert incremental_net_benefit(10.0, 0.004, 5000.0) == pytest.approx(10.0)
    assert incremental_net_benefit(10.0, 0.004, 2000.0) == pytest.approx(-2.0)
    assert incremental_net_benefit(10.0, 0.004, 2500.0) == pytest.approx(0.0)
    assert cost_effectiveness_quadrant(10.0, 0.004) == "more effective, more costly"
    assert cost_effectiveness_quadrant(-1.0, 0.004).startswith("dominant")
    assert cost_effectiveness_quadrant(10.0, -0.004).startswith("dominated")
    assert cost_effectiveness_quadrant(-1.0, -0.004) == "less effective, less costly"
    with pytest.raises(CostDataError):
        incremental_net_benefit(10.0, 0.004, -1.0)


def test_acceptability_curve_counts_positive_net_benefit():
    costs = [10.0, 10.0, -5.0, 20.0]
    effects = [0.004, 0.001, 0.001, -0.002]
    # INB at λ = 5000: 10, -5, 10, -30 → 2 of 4; at 0: -10, -10, 5, -20 → 1 of 4;
    # at 2500: 0 (not counted), -7.5, 7.5, -25 → 1 of 4.
    curve = acceptability_curve(costs, effects, [0.0, 2500.0, 5000.0])
    assert curve == (
        AcceptabilityPoint(0.0, 0.25),
        AcceptabilityPoint(2500.0, 0.25),
        AcceptabilityPoint(5000.0, 0.5),
    )


def test_point_estimates_of_the_analysis_by_hand(schools, costs):
    result = analyse(schools, costs)
    # Intervention: £30,000 / (1000 pupils × 3) = £10 per pupil per year; control £0.
    assert result.intervention.cumulative_cost == 30000.0
    assert result.intervention.cost_per_pupil_per_year == pytest.approx(10.0)
    assert result.control.cost_per_pupil_per_year == 0.0
    # Events per pupil-year: 24 / (1000 × 2) = 0.012 and 32 / (1000 × 2) = 0.016.
    assert result.intervention.events_per_pupil_year == pytest.approx(0.012)
    assert result.control.events_per_pupil_year == pytest.approx(0.016)
    assert result.incremental_cost.estimate == pytest.approx(10.0)
    assert result.incremental_effect.estimate == pytest.approx(0.004)
    assert result.icer == pytest.approx(2500.0)
    assert result.quadrant == "more effective, more costly"
    # INB(£5,000) = 5000 × 0.004 − 10 = £10 per pupil per year.
    assert result.incremental_net_benefit.estimate == pytest.approx(10.0)
    # Each school's cost per pupil per year: 6000/300, 9000/600, 12000/900, 3000/1200.
    by_school = {s.school: s.cost_per_pupil_per_year for s in result.schools}
    assert by_school[8001] == pytest.approx(20.0)
    assert by_school[8002] == pytest.approx(15.0)
    assert by_school[8003] == pytest.approx(12000 / 900)
    assert by_school[8004] == pytest.approx(2.5)
    assert by_school[8005] == 0.0
    assert (result.seed, result.replicates, result.years) == (17, 500, 3)


def test_an_outcome_where_more_is_better(schools, costs):
    spec = CostSpec(follow_up_years=2.0, lower_is_better=False)
    result = cost_effectiveness(schools, costs, spec, willingness_to_pay=5000.0, seed=1)
    assert result.incremental_effect.estimate == pytest.approx(-0.004)
    assert result.quadrant.startswith("dominated")


# ---------------------------------------------------------------------------------------------
# The bootstrap.


def test_bootstrap_redone_from_its_documented_draws(schools, costs):
    result = analyse(schools, costs, replicates=300, willingness_grid=[0.0, 2500.0, 10000.0])
    # Schools in identifier order within each arm; draws for the intervention arm, then control.
    rng = np.random.Generator(np.random.PCG64(17))
    cost = {8001: 6000.0, 8002: 9000.0, 8003: 12000.0, 8004: 3000.0}
    arms = {}
    for value in (1, 0):
        arm = schools[schools["intervention"] == value].sort_values("laestab")
        c = np.array([cost.get(s, 0.0) for s in arm["laestab"]])
        p = arm["pupils"].to_numpy(float)
        e = arm["events"].to_numpy(float)
        draws = rng.integers(0, len(arm), size=(300, len(arm)))
        arms[value] = (
            c[draws].sum(1) / (p[draws].sum(1) * 3),
            e[draws].sum(1) / (p[draws].sum(1) * 2),
        )
    delta_cost = arms[1][0] - arms[0][0]
    delta_effect = arms[0][1] - arms[1][1]
    inb = 5000.0 * delta_effect - delta_cost
    assert result.incremental_cost.lower == pytest.approx(np.quantile(delta_cost, 0.025))
    assert result.incremental_cost.upper == pytest.approx(np.quantile(delta_cost, 0.975))
    assert result.incremental_effect.lower == pytest.approx(np.quantile(delta_effect, 0.025))
    assert result.incremental_net_benefit.upper == pytest.approx(np.quantile(inb, 0.975))
    assert result.probability_cost_effective == pytest.approx(np.mean(inb > 0))
    assert [p.probability for p in result.acceptability_curve] == pytest.approx(
        [np.mean(w * delta_effect - delta_cost > 0) for w in (0.0, 2500.0, 10000.0)]
    )


def test_bootstrap_is_reproducible_and_independent_of_row_order(schools, costs):
    first = analyse(schools, costs)
    assert analyse(schools, costs) == first
    shuffled = analyse(
        schools.sample(frac=1.0, random_state=3), costs.sample(frac=1.0, random_state=4)
    )
    assert shuffled == first
    other = analyse(schools, costs, seed=18)
    assert other.incremental_cost != first.incremental_cost
    assert other.incremental_cost.estimate == first.incremental_cost.estimate


def test_bootstrap_keeps_the_arms_apart(schools, costs):
    # Every intervention school costs £10 per pupil per year: a bootstrap that mixed the arms
    # would vary the incremental cost; one stratified by arm cannot.
    flat = pd.DataFrame(
        {
            "laestab": [8001, 8002, 8003, 8004],
            "item": "social worker",
            "year": 1,
            "cost": [3000.0, 6000.0, 9000.0, 12000.0],
        }
    )
    result = analyse(schools, flat)
    assert result.incremental_cost.lower == pytest.approx(10.0)
    assert result.incremental_cost.upper == pytest.approx(10.0)


def test_bootstrap_spread_agrees_with_the_delta_method():
    # Many schools: the percentile interval's half-width / z is close to the delta method's
    # standard error of the difference of two ratio estimators Σc/Σp.
    rng = np.random.Generator(np.random.PCG64(99))
    n = 300
    pupils = rng.integers(500, 1500, 2 * n).astype(float)
    arm = np.repeat([1, 0], n)
    cost = np.where(arm == 1, pupils * rng.gamma(25.0, 40.0 / 25.0, 2 * n) * 3, 0.0)
    schools = pd.DataFrame(
        {"laestab": np.arange(2 * n), "intervention": arm, "pupils": pupils, "events": 1}
    )
    costs = pd.DataFrame(
        {"laestab": np.arange(n), "item": "programme", "year": 1, "cost": cost[:n]}
    )
    result = cost_effectiveness(
        schools, costs, SPEC, willingness_to_pay=0.0, seed=5, replicates=4000
    )
    c, p = cost[:n] / 3, pupils[:n]
    ratio = c.sum() / p.sum()
    delta_se = math.sqrt(n / (n - 1) * np.sum((c - ratio * p) ** 2)) / p.sum()
    half_width = (result.incremental_cost.upper - result.incremental_cost.lower) / 2 / 1.959964
    assert half_width == pytest.approx(delta_se, rel=0.06)


def test_swis_scale_bootstrap_is_quick():
    rng = np.random.Generator(np.random.PCG64(1))
    n = 268
    schools = pd.DataFrame(
        {
            "laestab": np.arange(n),
            "intervention": np.arange(n) % 2,
            "pupils": rng.integers(600, 1600, n),
            "events": rng.poisson(30, n),
        }
    )
    costs = pd.DataFrame(
        {
            "laestab": np.repeat(np.arange(1, n, 2), 3),
            "item": "social worker",
            "year": np.tile([1, 2, 3], n // 2),
            "cost": 45000.0,
        }
    )
    result = cost_effectiveness(schools, costs, SPEC, willingness_to_pay=20000.0, seed=1)
    assert result.replicates == 1000
    assert len(result.acceptability_curve) == 41
    assert result.acceptability_curve[-1].willingness_to_pay == 80000.0


# ---------------------------------------------------------------------------------------------
# Missing and bad costs: one clear line each.


def one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    assert isinstance(error.value, UserError)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_an_empty_cost_names_the_school_item_and_year(schools, costs):
    costs.loc[5, "cost"] = np.nan
    with pytest.raises(MissingCosts) as error:
        analyse(schools, costs)
    message = one_line(error)
    assert "school 8002, item 'social worker', year 2: the cost is missing" in message


def test_an_intervention_school_without_costs(schools, costs):
    with pytest.raises(MissingCosts) as error:
        analyse(schools, costs[costs["laestab"] != 8004])
    assert "school 8004 (intervention arm) has no costs recorded" in one_line(error)


def test_a_required_item_not_recorded(schools, costs):
    spec = CostSpec(follow_up_years=2.0, required_items=("social worker", "set-up"))
    with pytest.raises(MissingCosts) as error:
        cost_effectiveness(schools, costs, spec, willingness_to_pay=1.0, seed=1)
    assert "school 8002 (intervention arm) has no cost recorded for 'set-up'" in one_line(error)


def test_costs_without_a_school_or_item(schools, costs):
    costs["item"] = costs["item"].astype(object)
    costs.loc[2, "item"] = None
    with pytest.raises(MissingCosts, match="1 row"):
        analyse(schools, costs)


@pytest.mark.parametrize(
    ("row", "column", "value", "expected"),
    [
        (0, "cost", -10.0, "school 8001, item 'social worker', year 1: the cost -10 is negative"),
        (0, "year", 4, "school 8001, item 'social worker': year 4 is not a year from 1 to 3"),
        (0, "laestab", 9999, "school(s) 9999 that are not in the schools table"),
        (1, "year", 1, "school 8001, item 'social worker', year 1 is recorded twice"),
    ],
)
def test_bad_cost_rows(schools, costs, row, column, value, expected):
    costs.loc[row, column] = value
    with pytest.raises(CostDataError) as error:
        analyse(schools, costs)
    assert expected in one_line(error)


def test_bad_schools_table(schools, costs):
    with pytest.raises(CostDataError, match=r"pupils .* 0, negative or missing for school"):
        analyse(schools.assign(pupils=[0, 200, 300, 400, 250, 250, 250, 250]), costs)
    with pytest.raises(CostDataError, match=r"effect \('events'\).*8005"):
        analyse(schools.assign(events=[1, 1, 1, 1, np.nan, 1, 1, 1]), costs)
    with pytest.raises(CostDataError, match="control arm has 1 school"):
        analyse(schools.iloc[:5], costs)
    with pytest.raises(CostDataError, match="more than once"):
        analyse(pd.concat([schools, schools.iloc[:1]]), costs)
    with pytest.raises(CostDataError, match=r"column\(s\) 'events' not in the schools table"):
        analyse(schools.drop(columns="events"), costs)
    with pytest.raises(CostDataError, match="seed"):
        analyse(schools, costs, seed=-1)
    with pytest.raises(CostDataError, match="willingness_to_pay"):
        analyse(schools, costs, willingness_to_pay=-5.0)
