"""Simulated power of cluster randomised designs: simulate the trial, analyse it, count
rejections. The yardstick for ``cwsw.evaluation.power`` in ``test_power.py`` (few replicates)
and ``benchmarks/trial_power.py`` (many).

Written from the models the formulas assume, not from ``cwsw.evaluation.power`` (nothing here
imports it):

- continuous outcomes: the two-level normal model, pupils within schools, ICC the share of
  the total variance between schools; a school-level covariate explaining a share R₂² of the
  between-school variance and a pupil-level covariate explaining R₁² of the within-school
  variance. Analysed at school level, as Bloom's formula assumes: the pupil covariate's
  pooled within-school slope adjusts each school's mean, then ordinary least squares of the
  adjusted means on treatment (and the school covariate), a t-test on J − 2 − g degrees of
  freedom. With equal school sizes this is the REML mixed model's test.
- unequal school sizes: the same model, the arms compared by their pupil-weighted means
  (each pupil counts once, the analysis the Eldridge design effect describes), the
  variance of that difference from ANOVA estimates of the two variance components, a
  t-test on J − 2 degrees of freedom.
- rates: each school's true rate gamma-distributed about its arm's rate with coefficient of
  variation k, its count Poisson over its person-years; the arms compared by a t-test on the
  schools' observed rates (Hayes & Bennett 1999; Bennett et al. 2002, Int J Epidemiol
  31:839–846).

Everything is vectorised over replicates in chunks; a seed fixes every draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

# Numbers drawn per chunk: enough to vectorise, small enough for a shared machine's memory.
_CHUNK_VALUES = 4_000_000


@dataclass(frozen=True)
class SimulatedPower:
    """Rejections out of replicates, with the Monte Carlo standard error of their share."""

    rejections: int
    replicates: int

    @property
    def power(self) -> float:
        return self.rejections / self.replicates

    @property
    def standard_error(self) -> float:
        p = self.power
        return math.sqrt(max(p * (1.0 - p), 1e-12) / self.replicates)


def _chunks(replicates: int, values_per_replicate: int) -> list[int]:
    size = max(1, _CHUNK_VALUES // max(1, values_per_replicate))
    full, rest = divmod(replicates, size)
    return [size] * full + ([rest] if rest else [])


def simulate_cluster_trial(
    effect_size: float,
    clusters: int,
    cluster_size: int,
    icc: float,
    *,
    proportion_treated: float = 0.5,
    r2_level1: float = 0.0,
    r2_level2: float = 0.0,
    alpha: float = 0.05,
    replicates: int = 10_000,
    seed: int = 0,
) -> SimulatedPower:
    """Power of a two-level cluster randomised trial with equal cluster sizes (total outcome
    variance 1, so ``effect_size`` is in standard deviations). A school-level covariate is
    fitted when ``r2_level2`` is above 0, a pupil-level one when ``r2_level1`` is."""
    rng = np.random.Generator(np.random.PCG64(seed))
    treated = round(proportion_treated * clusters)
    treatment = np.r_[np.ones(treated), np.zeros(clusters - treated)]
    school_covariate = r2_level2 > 0
    parameters = 2 + int(school_covariate)
    df = clusters - parameters
    critical = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    rejections = 0
    for size in _chunks(replicates, clusters * cluster_size * 2):
        covariate_2 = rng.standard_normal((size, clusters))
        between = math.sqrt(icc * r2_level2) * covariate_2 + math.sqrt(
            icc * (1.0 - r2_level2)
        ) * rng.standard_normal((size, clusters))
        within_shape = (size, clusters, cluster_size)
        covariate_1 = rng.standard_normal(within_shape)
        outcome = (
            effect_size * treatment[None, :, None]
            + between[:, :, None]
            + math.sqrt((1.0 - icc) * r2_level1) * covariate_1
            + math.sqrt((1.0 - icc) * (1.0 - r2_level1)) * rng.standard_normal(within_shape)
        )
        school_mean = outcome.mean(axis=2)
        if r2_level1 > 0:
            covariate_mean = covariate_1.mean(axis=2)
            centred_x = covariate_1 - covariate_mean[:, :, None]
            centred_y = outcome - school_mean[:, :, None]
            slope = (centred_x * centred_y).sum(axis=(1, 2)) / (centred_x**2).sum(axis=(1, 2))
            school_mean = school_mean - slope[:, None] * covariate_mean
        columns = [np.ones((size, clusters)), np.broadcast_to(treatment, (size, clusters))]
        if school_covariate:
            columns.append(covariate_2)
        design = np.stack(columns, axis=2)
        cross = np.einsum("rjp,rjq->rpq", design, design)
        inverse = np.linalg.inv(cross)
        coefficients = np.einsum(
            "rpq,rq->rp", inverse, np.einsum("rjq,rj->rq", design, school_mean)
        )
        residuals = school_mean - np.einsum("rjp,rp->rj", design, coefficients)
        residual_variance = (residuals**2).sum(axis=1) / df
        t = coefficients[:, 1] / np.sqrt(residual_variance * inverse[:, 1, 1])
        rejections += int((np.abs(t) > critical).sum())
    return SimulatedPower(rejections, replicates)


def cluster_sizes(per_arm: int, mean: float, cv: float) -> NDArray[np.int64]:
    """``per_arm`` whole school sizes spread like a gamma distribution with this mean and
    coefficient of variation (its quantiles at (i − ½)/per_arm, rounded, at least 2)."""
    shape = 1.0 / (cv * cv)
    quantiles = (np.arange(per_arm) + 0.5) / per_arm
    sizes = stats.gamma.ppf(quantiles, shape, scale=mean / shape)
    return np.maximum(2, np.rint(sizes)).astype(np.int64)


@dataclass(frozen=True)
class SimulatedUnequal:
    """Power of the pupil-weighted comparison, and the variance of its estimate across
    replicates (to set against the design effect's)."""

    power: SimulatedPower
    estimate_variance: float


def simulate_unequal_clusters(
    effect_size: float,
    sizes: NDArray[np.int64],
    icc: float,
    *,
    alpha: float = 0.05,
    replicates: int = 10_000,
    seed: int = 0,
) -> SimulatedUnequal:
    """Power of a two-arm cluster trial with the schools of ``sizes`` in each arm (total
    outcome variance 1), comparing pupil-weighted arm means by a t-test whose variance comes
    from ANOVA estimates of the between- and within-school variances."""
    rng = np.random.Generator(np.random.PCG64(seed))
    per_arm = len(sizes)
    sizes_all = np.r_[sizes, sizes].astype(np.int64)
    clusters = 2 * per_arm
    pupils = int(sizes_all.sum())
    pupils_per_arm = float(sizes.sum())
    starts = np.r_[0, np.cumsum(sizes_all)[:-1]]
    school_of_pupil = np.repeat(np.arange(clusters), sizes_all)
    treated_pupil = (school_of_pupil < per_arm).astype(float)
    sum_squares_sizes = float((sizes.astype(float) ** 2).sum())
    # ANOVA: E[between mean square] = σ_w² + m₀·σ_b² with arms as the fixed effect.
    m0 = (pupils - 2.0 * sum_squares_sizes / pupils_per_arm) / (clusters - 2)
    critical = float(stats.t.ppf(1.0 - alpha / 2.0, clusters - 2))
    rejections = 0
    estimates: list[NDArray[np.float64]] = []
    for size in _chunks(replicates, pupils * 2):
        between = math.sqrt(icc) * rng.standard_normal((size, clusters))
        outcome = (
            effect_size * treated_pupil[None, :]
            + between[:, school_of_pupil]
            + math.sqrt(1.0 - icc) * rng.standard_normal((size, pupils))
        )
        totals = np.add.reduceat(outcome, starts, axis=1)
        school_mean = totals / sizes_all
        mean_treated = totals[:, :per_arm].sum(axis=1) / pupils_per_arm
        mean_control = totals[:, per_arm:].sum(axis=1) / pupils_per_arm
        difference = mean_treated - mean_control
        within = ((outcome**2).sum(axis=1) - (totals**2 / sizes_all).sum(axis=1)) / (
            pupils - clusters
        )
        arm_mean = np.concatenate(
            [
                np.repeat(mean_treated[:, None], per_arm, 1),
                np.repeat(mean_control[:, None], per_arm, 1),
            ],
            axis=1,
        )
        between_square = (sizes_all * (school_mean - arm_mean) ** 2).sum(axis=1) / (clusters - 2)
        between_variance = np.maximum(0.0, (between_square - within) / m0)
        variance = 2.0 * (
            between_variance * sum_squares_sizes / pupils_per_arm**2 + within / pupils_per_arm
        )
        t = difference / np.sqrt(variance)
        rejections += int((np.abs(t) > critical).sum())
        estimates.append(difference)
    return SimulatedUnequal(
        SimulatedPower(rejections, replicates), float(np.concatenate(estimates).var(ddof=1))
    )


def simulate_rate_trial(
    clusters_per_arm: int,
    rate_control: float,
    rate_intervention: float,
    person_years: float,
    cv: float,
    *,
    alpha: float = 0.05,
    replicates: int = 40_000,
    seed: int = 0,
) -> SimulatedPower:
    """Power of a two-arm cluster trial comparing event rates: gamma-distributed true school
    rates (coefficient of variation ``cv``), Poisson counts over ``person_years`` per school,
    a pooled-variance t-test on the schools' observed rates on 2c − 2 degrees of freedom."""
    rng = np.random.Generator(np.random.PCG64(seed))
    shape = 1.0 / (cv * cv)
    c = clusters_per_arm
    arm_rate = np.r_[np.full(c, rate_intervention), np.full(c, rate_control)]
    critical = float(stats.t.ppf(1.0 - alpha / 2.0, 2 * c - 2))
    rejections = 0
    for size in _chunks(replicates, 2 * c * 2):
        true_rate = arm_rate[None, :] * rng.gamma(shape, 1.0 / shape, size=(size, 2 * c))
        observed = rng.poisson(true_rate * person_years) / person_years
        intervention, control = observed[:, :c], observed[:, c:]
        difference = intervention.mean(axis=1) - control.mean(axis=1)
        pooled = (intervention.var(axis=1, ddof=1) + control.var(axis=1, ddof=1)) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = difference / np.sqrt(pooled * 2.0 / c)
        # No spread in either arm (say, no school with an event): no test, no rejection.
        rejections += int((np.nan_to_num(np.abs(t), nan=0.0) > critical).sum())
    return SimulatedPower(rejections, replicates)
