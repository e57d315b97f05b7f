"""Power formulas for cluster randomised trials (cwsw.evaluation.power) against published
figures, hand arithmetic from printed t tables, and simulation.

Issue 17's acceptance: each formula's answer is within 2 percentage points of the simulated
power at three design points. The simulations (``power_simulation.py``) are written from the
models the formulas assume, not from the code under test; each uses enough replicates that
its Monte Carlo standard error is at most half a point, and a fixed seed. A null simulation
for each model checks the analysis holds its 5% size before its power is believed.
``benchmarks/trial_power.py`` runs the same comparison with more replicates and more points.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from cwsw.errors import UserError
from cwsw.evaluation import power
from tests.evaluation.power_simulation import (
    SimulatedPower,
    cluster_sizes,
    simulate_cluster_trial,
    simulate_rate_trial,
    simulate_unequal_clusters,
)

# The acceptance's tolerance, and the largest Monte Carlo error allowed beside it.
TOLERANCE = 0.02
MAX_MONTE_CARLO_SE = 0.005


def _close_to_simulation(formula: float, simulated: SimulatedPower) -> None:
    assert simulated.standard_error <= MAX_MONTE_CARLO_SE
    assert abs(formula - simulated.power) <= TOLERANCE, (
        f"formula {formula:.4f}, simulated {simulated.power:.4f} ± {simulated.standard_error:.4f}"
    )


# ---------------------------------------------------------------------------------------------
# Published figures and hand arithmetic.


@pytest.mark.parametrize(
    ("two_sided", "target", "published"),
    [(True, 0.8, 2.80), (False, 0.8, 2.49), (True, 0.9, 3.24), (False, 0.9, 2.93)],
)
def test_bloom_multipliers_for_large_samples_are_bloom_1995s(
    two_sided: bool, target: float, published: float
) -> None:
    # Bloom (1995), Evaluation Review 19:547–556: 2.80 / 2.49 at 80% power, 3.24 / 2.93 at 90%,
    # two- and one-sided, alpha 0.05, large samples.
    multiplier = power.bloom_multiplier(1e7, alpha=0.05, power=target, two_sided=two_sided)
    assert round(multiplier, 2) == published


def test_bloom_multiplier_on_18_degrees_of_freedom_from_a_printed_t_table() -> None:
    # 20 schools: t(0.975, 18) = 2.101 and t(0.80, 18) = 0.862 in any printed t table.
    assert power.bloom_multiplier(18) == pytest.approx(2.101 + 0.862, abs=0.001)


def test_mdes_of_twenty_schools_by_hand() -> None:
    # J = 20 schools of n = 25 pupils, ICC 0.15, half treated, no covariates:
    # SE = sqrt(0.15 / (0.25·20) + 0.85 / (0.25·20·25)) = sqrt(0.03 + 0.0068) = 0.19183;
    # MDES = (2.101 + 0.862) · 0.19183 = 0.5684.
    mdes = power.minimum_detectable_effect_size(20, 25, 0.15)
    assert mdes == pytest.approx(2.963 * math.sqrt(0.0368), abs=0.0005)


def test_mdes_with_covariates_by_hand() -> None:
    # J = 40, n = 30, ICC 0.10, R1² = R2² = 0.5, one school covariate (37 df), P = 0.5:
    # SE = sqrt(0.1·0.5/10 + 0.9·0.5/300) = sqrt(0.005 + 0.0015) = 0.080623;
    # t(0.975, 37) = 2.026, t(0.80, 37) = 0.851 (printed tables) so MDES = 2.877 · SE = 0.2320.
    mdes = power.minimum_detectable_effect_size(
        40, 30, 0.10, r2_level1=0.5, r2_level2=0.5, cluster_covariates=1
    )
    assert mdes == pytest.approx(2.877 * math.sqrt(0.0065), abs=0.0005)


def test_hayes_bennett_clusters_match_the_documented_clusterpower_example() -> None:
    # R's clusterPower documents crtpwr.2rate(py = 10, r1 = 0.10, r2 = 0.20, cvb = 0.10) at
    # alpha 0.05, power 0.80 as "m greater than 24, [so] 25 clusters per condition".
    clusters = power.clusters_per_arm_for_rates(0.20, 0.10, 10, 0.10)
    assert 24 < clusters < 25
    assert math.ceil(clusters) == 25


def test_hayes_bennett_clusters_by_hand() -> None:
    # λ0 = 0.01, λ1 = 0.005 per person-year, y = 1000 person-years per cluster, k = 0.25:
    # (1.960 + 0.842)² · (0.015/1000 + 0.0625·0.000125) / 0.005² = 7.851 · 0.9125 = 7.164;
    # c = 8.16, so 9 clusters per arm.
    clusters = power.clusters_per_arm_for_rates(0.01, 0.005, 1000, 0.25)
    assert clusters == pytest.approx(1 + (1.960 + 0.842) ** 2 * 0.9125, abs=0.005)
    assert math.ceil(clusters) == 9
    # Solved for the power at that c, the formula gives back the power asked for.
    assert power.power_for_rates(clusters, 0.01, 0.005, 1000, 0.25) == pytest.approx(0.8)


def test_design_effect_by_hand() -> None:
    assert power.design_effect(20, 0.05) == pytest.approx(1.95)
    assert power.design_effect(1, 0.3) == 1.0  # clusters of one are individual randomisation


def test_unequal_design_effect_is_kerry_and_blands_for_the_sizes_themselves() -> None:
    # Kerry & Bland (2001): the pupil-weighted analysis's design effect is
    # 1 + (Σm²/Σm − 1)·ICC. Schools of 10, 20, 30 and 60 pupils: Σm = 120, Σm² = 5000.
    # Their mean is 30 and their SD (divisor J) √350, so CV² = 350/900.
    icc = 0.05
    by_sizes = 1 + (5000 / 120 - 1) * icc
    assert power.design_effect_unequal(30, math.sqrt(350) / 30, icc) == pytest.approx(by_sizes)
    assert power.design_effect_unequal(30, 0.0, icc) == power.design_effect(30, icc)


def test_power_from_the_design_effect_is_blooms_for_equal_clusters() -> None:
    # Two routes to the same design: 12 schools per arm of 30, ICC 0.08, effect 0.3.
    by_design_effect = power.power_with_design_effect(0.3, 12, 30, 0.08)
    by_bloom = power.power_for_effect_size(0.3, 24, 30, 0.08)
    assert by_design_effect == pytest.approx(by_bloom, abs=1e-12)


@pytest.mark.parametrize("clusters", [10, 20, 40, 100])
def test_power_at_the_mdes_is_within_a_point_of_the_power_asked_for(clusters: int) -> None:
    # Bloom's multiplier uses the central t; the exact power at the MDES is a little below
    # the target for few clusters (df 8 at 10 clusters), and the gap closes as they grow.
    mdes = power.minimum_detectable_effect_size(clusters, 20, 0.15)
    assert power.power_for_effect_size(mdes, clusters, 20, 0.15) == pytest.approx(0.8, abs=0.01)


# ---------------------------------------------------------------------------------------------
# Against simulation: three design points per formula.

# (clusters, pupils per school, ICC, share treated, R1², R2²); a school covariate with R2² > 0.
CONTINUOUS_DESIGNS = [
    pytest.param(20, 25, 0.15, 0.5, 0.0, 0.0, id="20 schools, no covariates"),
    pytest.param(40, 30, 0.10, 0.5, 0.5, 0.5, id="40 schools, pupil and school covariates"),
    pytest.param(60, 20, 0.20, 0.4, 0.3, 0.6, id="60 schools, 40% treated, covariates"),
]


def _mdes(clusters: int, size: int, icc: float, share: float, r2_1: float, r2_2: float) -> float:
    return power.minimum_detectable_effect_size(
        clusters,
        size,
        icc,
        proportion_treated=share,
        r2_level1=r2_1,
        r2_level2=r2_2,
        cluster_covariates=1 if r2_2 > 0 else 0,
    )


def _power(
    effect: float, clusters: int, size: int, icc: float, share: float, r2_1: float, r2_2: float
) -> float:
    return power.power_for_effect_size(
        effect,
        clusters,
        size,
        icc,
        proportion_treated=share,
        r2_level1=r2_1,
        r2_level2=r2_2,
        cluster_covariates=1 if r2_2 > 0 else 0,
    )


@pytest.mark.parametrize(("clusters", "size", "icc", "share", "r2_1", "r2_2"), CONTINUOUS_DESIGNS)
def test_simulated_power_at_the_mdes_is_the_power_asked_for(
    clusters: int, size: int, icc: float, share: float, r2_1: float, r2_2: float
) -> None:
    mdes = _mdes(clusters, size, icc, share, r2_1, r2_2)
    simulated = simulate_cluster_trial(
        mdes,
        clusters,
        size,
        icc,
        proportion_treated=share,
        r2_level1=r2_1,
        r2_level2=r2_2,
        replicates=20_000,
        seed=1701 + clusters,
    )
    _close_to_simulation(0.8, simulated)


@pytest.mark.parametrize(("clusters", "size", "icc", "share", "r2_1", "r2_2"), CONTINUOUS_DESIGNS)
def test_power_for_an_effect_size_matches_simulation(
    clusters: int, size: int, icc: float, share: float, r2_1: float, r2_2: float
) -> None:
    # An effect below the MDES, where power changes fastest (about 50%).
    effect = 0.7 * _mdes(clusters, size, icc, share, r2_1, r2_2)
    formula = _power(effect, clusters, size, icc, share, r2_1, r2_2)
    simulated = simulate_cluster_trial(
        effect,
        clusters,
        size,
        icc,
        proportion_treated=share,
        r2_level1=r2_1,
        r2_level2=r2_2,
        replicates=20_000,
        seed=2801 + clusters,
    )
    _close_to_simulation(formula, simulated)


def test_the_continuous_simulation_holds_its_size() -> None:
    # No effect: the school-level analysis with both covariates rejects about 5% of the time.
    simulated = simulate_cluster_trial(
        0.0, 40, 30, 0.10, r2_level1=0.5, r2_level2=0.5, replicates=12_000, seed=3
    )
    assert abs(simulated.power - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / 12_000)


# (schools per arm, their mean size and CV, ICC, effect size): sizes spread like a gamma.
UNEQUAL_DESIGNS = [
    pytest.param(15, 20, 0.6, 0.05, 0.35, id="15 a side, mean 20, CV 0.6"),
    pytest.param(30, 50, 0.4, 0.10, 0.25, id="30 a side, mean 50, CV 0.4"),
    pytest.param(20, 100, 0.8, 0.02, 0.20, id="20 a side, mean 100, CV 0.8"),
]


@pytest.mark.parametrize(("per_arm", "mean", "cv", "icc", "effect"), UNEQUAL_DESIGNS)
def test_unequal_design_effect_matches_simulation(
    per_arm: int, mean: float, cv: float, icc: float, effect: float
) -> None:
    sizes = cluster_sizes(per_arm, mean, cv)
    actual_mean = float(sizes.mean())
    actual_cv = float(sizes.std()) / actual_mean  # the sizes' own CV (divisor J)
    simulated = simulate_unequal_clusters(effect, sizes, icc, replicates=10_000, seed=per_arm)
    # The variance of the pupil-weighted difference over that of an individually randomised
    # trial of the same pupils is the design effect (Monte Carlo error about 1.4%).
    individually_randomised = 2.0 / float(sizes.sum())
    design_effect = power.design_effect_unequal(actual_mean, actual_cv, icc)
    assert simulated.estimate_variance / individually_randomised == pytest.approx(
        design_effect, rel=0.05
    )
    formula = power.power_with_design_effect(effect, per_arm, actual_mean, icc, cv=actual_cv)
    _close_to_simulation(formula, simulated.power)


@pytest.mark.parametrize(
    ("per_arm", "size", "icc", "effect"),
    [(8, 25, 0.15, 0.6), (12, 30, 0.08, 0.3), (25, 60, 0.05, 0.25)],
)
def test_equal_cluster_design_effect_matches_simulation(
    per_arm: int, size: int, icc: float, effect: float
) -> None:
    sizes = np.full(per_arm, size, dtype=np.int64)  # every school the same size
    simulated = simulate_unequal_clusters(effect, sizes, icc, replicates=10_000, seed=size)
    individually_randomised = 2.0 / (per_arm * size)
    assert simulated.estimate_variance / individually_randomised == pytest.approx(
        power.design_effect(size, icc), rel=0.05
    )
    formula = power.power_with_design_effect(effect, per_arm, size, icc)
    _close_to_simulation(formula, simulated.power)


def test_the_unequal_cluster_simulation_holds_its_size() -> None:
    sizes = cluster_sizes(15, 20, 0.6)
    simulated = simulate_unequal_clusters(0.0, sizes, 0.05, replicates=12_000, seed=4)
    assert abs(simulated.power.power - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / 12_000)


def _person_years_for(clusters: int, control: float, intervention: float, cv: float) -> float:
    """The person-years per cluster at which Hayes & Bennett's formula asks for exactly
    ``clusters`` per arm at alpha 0.05 and 80% power (their formula solved for y by hand,
    with z = 1.959964 + 0.841621)."""
    z2 = (1.959964 + 0.841621) ** 2
    difference2 = (control - intervention) ** 2
    return (control + intervention) / (
        (clusters - 1) * difference2 / z2 - cv * cv * (control**2 + intervention**2)
    )


# (clusters per arm, control and intervention rates per person-year, k).
RATE_DESIGNS = [
    # clusterPower's documented example (y comes out at 10 person-years).
    pytest.param(25, 0.20, 0.10, 0.10, id="clusterPower example, 25 a side"),
    # SWIS-like: s47 enquiries 1.5 per 100 pupil-years cut by a fifth, schools vary by 30%.
    pytest.param(54, 0.015, 0.012, 0.30, id="s47-like, 54 schools a side"),
    pytest.param(12, 0.03, 0.02, 0.20, id="12 a side, rate ratio 2/3"),
]


@pytest.mark.parametrize(("clusters", "control", "intervention", "cv"), RATE_DESIGNS)
def test_hayes_bennett_clusters_give_the_power_asked_for_in_simulation(
    clusters: int, control: float, intervention: float, cv: float
) -> None:
    person_years = _person_years_for(clusters, control, intervention, cv)
    assert power.clusters_per_arm_for_rates(control, intervention, person_years, cv) == (
        pytest.approx(clusters)
    )
    simulated = simulate_rate_trial(
        clusters, control, intervention, person_years, cv, replicates=40_000, seed=clusters
    )
    _close_to_simulation(0.8, simulated)


@pytest.mark.parametrize(("clusters", "control", "intervention", "cv"), RATE_DESIGNS)
def test_hayes_bennett_power_matches_simulation(
    clusters: int, control: float, intervention: float, cv: float
) -> None:
    person_years = _person_years_for(clusters, control, intervention, cv)
    fewer = round(0.6 * clusters)  # about 55% power
    formula = power.power_for_rates(fewer, control, intervention, person_years, cv)
    simulated = simulate_rate_trial(
        fewer, control, intervention, person_years, cv, replicates=40_000, seed=100 + clusters
    )
    _close_to_simulation(formula, simulated)


def test_the_rate_simulation_holds_its_size() -> None:
    simulated = simulate_rate_trial(25, 0.015, 0.015, 1000, 0.3, replicates=40_000, seed=5)
    assert abs(simulated.power - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / 40_000)


# ---------------------------------------------------------------------------------------------
# Inputs the formulas cannot describe: a DesignError (a UserError) with a one-line message.


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: power.design_effect(20, 1.0), "icc"),
        (lambda: power.design_effect(20, -0.01), "icc"),
        (lambda: power.design_effect(0.5, 0.1), "cluster_size"),
        (lambda: power.design_effect_unequal(20, -0.2, 0.1), "cv"),
        (lambda: power.design_effect_unequal(20, 0.5, math.nan), "icc"),
        (lambda: power.minimum_detectable_effect_size(3, 20, 0.1), "at least 2 clusters per arm"),
        (
            lambda: power.minimum_detectable_effect_size(10, 20, 0.1, proportion_treated=0.1),
            "at least 2 clusters per arm",
        ),
        (lambda: power.minimum_detectable_effect_size(4, 20, 0.1, cluster_covariates=2), "add"),
        (lambda: power.minimum_detectable_effect_size(20, 20, 1.2), "icc"),
        (lambda: power.minimum_detectable_effect_size(20, 20, 0.1, r2_level2=1.0), "r2_level2"),
        (lambda: power.minimum_detectable_effect_size(20, 20, 0.1, power=1.0), "power"),
        (lambda: power.power_for_effect_size(0.2, 20, 20, 0.1, alpha=0.0), "alpha"),
        (lambda: power.power_with_design_effect(0.2, 1, 20, 0.1), "clusters_per_arm"),
        (lambda: power.clusters_per_arm_for_rates(0.0, 0.01, 100, 0.2), "rate_control"),
        (lambda: power.clusters_per_arm_for_rates(0.02, -0.01, 100, 0.2), "rate_intervention"),
        (lambda: power.clusters_per_arm_for_rates(0.02, 0.02, 100, 0.2), "equal"),
        (lambda: power.clusters_per_arm_for_rates(0.02, 0.01, 0, 0.2), "person_years"),
        (lambda: power.power_for_rates(1, 0.02, 0.01, 100, 0.2), "clusters_per_arm"),
        (lambda: power.power_for_rates(10, 0.02, 0.01, 100, -1), "cv"),
    ],
)
def test_an_impossible_design_is_refused_with_one_clear_line(
    call: Callable[[], float], named: str
) -> None:
    with pytest.raises(power.DesignError) as raised:
        call()
    message = str(raised.value)
    assert isinstance(raised.value, UserError)
    assert named in message and "\n" not in message
