"""Rate outcomes of a cluster randomised trial (cwsw.evaluation.trial_rates).

Every figure is checked against a calculation written here from the definitions, not from
the module: the NB2 likelihood from ``scipy.stats.nbinom`` maximised by scipy's optimisers
(and, for the default, Cox & Reid's adjusted profile likelihood built on it), the Poisson
likelihood in the Poisson limit, and the GEE's estimating equations, moment estimator of the
exchangeable correlation and (bias-reduced) sandwich written out by hand. The planted-effect
recovery simulates SWIS-like trials here (``simulate_swis_like_trials``, also used by
``benchmarks/trial_analysis.py``) and counts how often the interval covers the planted ratio.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from scipy import optimize, special, stats

from cwsw.errors import UserError
from cwsw.evaluation import trial_rates
from cwsw.evaluation.effect_sizes import EmptyArm, TooFewClusters
from cwsw.evaluation.trial_rates import (
    MissingColumns,
    MissingCovariates,
    NoEvents,
    NonPositiveExposure,
    NotCounts,
    RateDataError,
    RateTrialSpec,
    analyse_rate_outcome,
    gee_rate_ratio,
    negative_binomial_rate_ratio,
)

Array = NDArray[np.float64]
COVARIATES = ("baseline_rate", "pupils", "fsm_percent")


# ---------------------------------------------------------------------------------------------
# A SWIS-like trial, simulated (vectorised over replicates).


@dataclass(frozen=True)
class SimulatedTrials:
    """``replicates`` trials of the same shape: arrays replicates × schools."""

    la: NDArray[np.int64]  # schools
    pupils: Array
    fsm_percent: Array
    baseline_rate: Array
    intervention: NDArray[np.int64]
    events: NDArray[np.int64]
    years: float
    rate_ratio: float

    @property
    def replicates(self) -> int:
        return int(self.pupils.shape[0])

    def frame(self, replicate: int) -> pd.DataFrame:
        """One replicate as the school-level table the analysis reads."""
        schools = self.pupils.shape[1]
        return pd.DataFrame(
            {
                "laestab": 100_000 + np.arange(schools),
                "la_code": 800 + self.la,
                "intervention": self.intervention[replicate],
                "s47": self.events[replicate],
                "pupils": self.pupils[replicate],
                "baseline_rate": self.baseline_rate[replicate],
                "fsm_percent": self.fsm_percent[replicate],
            }
        )


def simulate_swis_like_trials(
    replicates: int,
    local_authorities: int,
    schools_per_la: int | Sequence[int],
    rate_ratio: float,
    *,
    seed: int,
    mean_pupils: float = 1040.0,
    pupils_cv: float = 0.35,
    rate: float = 0.015,
    la_sd: float = 0.25,
    school_cv: float = 0.3,
    year_cv: float = 0.15,
    fsm_gradient: float = 0.02,
    years: float = 2.0,
) -> SimulatedTrials:
    """SWIS-like trials: secondary schools within LAs (``schools_per_la``: one number, or one
    per LA), half of each LA's schools randomised to the intervention (the odd one by a
    coin), s47 enquiries as gamma-Poisson counts.

    Each school's true rate per pupil-year is ``rate × LA effect (log-normal, SD la_sd) ×
    exp(fsm_gradient·(%FSM − 25)) × u``, with ``u`` gamma (mean 1, CV ``school_cv``) and
    lasting; the baseline year's count is Poisson at that rate; the follow-up's count is
    Poisson at that rate × ``rate_ratio`` in the intervention arm × a new gamma factor (mean 1,
    CV ``year_cv``, the change from year to year), over ``years``. Pupils are gamma (mean
    ``mean_pupils``, CV ``pupils_cv``, at least 150); %FSM is 100 × Beta(2, 6). The analysis
    model (NB2, baseline rate linear on the log scale) is not the model simulated: as in a
    real trial, it only approximates it.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    sizes = np.broadcast_to(np.asarray(schools_per_la, dtype=np.int64), (local_authorities,))
    schools = int(sizes.sum())
    shape = (replicates, schools)
    la = np.repeat(np.arange(local_authorities), sizes)
    pupils = np.maximum(
        150.0,
        np.rint(rng.gamma(1 / pupils_cv**2, mean_pupils * pupils_cv**2, shape)),
    )
    fsm = 100.0 * rng.beta(2.0, 6.0, shape)
    la_effect = np.exp(rng.normal(0.0, la_sd, (replicates, local_authorities)))[:, la]
    lasting = rng.gamma(1 / school_cv**2, school_cv**2, shape)
    true_rate = rate * la_effect * np.exp(fsm_gradient * (fsm - 25.0)) * lasting
    baseline = rng.poisson(true_rate * pupils)
    # Randomisation within LA: the schools with the lowest random keys in each LA, half of
    # them, and the middle one by a coin when the LA has an odd number.
    keys = rng.random(shape)
    rank = np.empty(shape, dtype=np.int64)
    for index in range(local_authorities):
        columns = np.flatnonzero(la == index)
        rank[:, columns] = np.argsort(np.argsort(keys[:, columns], axis=1), axis=1)
    half = (sizes // 2)[la]
    odd = (sizes % 2 == 1)[la]
    coin = rng.random((replicates, local_authorities))[:, la] < 0.5
    intervention = (rank < half) | ((rank == half) & coin & odd)
    change = rng.gamma(1 / year_cv**2, year_cv**2, shape)
    expected = true_rate * np.where(intervention, rate_ratio, 1.0) * change * pupils * years
    events = rng.poisson(expected)
    return SimulatedTrials(
        la=la,
        pupils=pupils,
        fsm_percent=fsm,
        baseline_rate=baseline / pupils,
        intervention=intervention.astype(np.int64),
        events=events,
        years=years,
        rate_ratio=rate_ratio,
    )


def coverage(trials: SimulatedTrials, spec: RateTrialSpec) -> tuple[int, int]:
    """How many replicates' intervals cover the planted ratio, of how many."""
    covered = 0
    for replicate in range(trials.replicates):
        ratio = negative_binomial_rate_ratio(trials.frame(replicate), spec).intervention
        covered += int(ratio.lower <= trials.rate_ratio <= ratio.upper)
    return covered, trials.replicates


# ---------------------------------------------------------------------------------------------
# Independent fits.


def design_matrix(frame: pd.DataFrame, la_effects: bool) -> tuple[Array, Array, Array]:
    """Intercept, intervention, the covariates (centred and scaled, for the optimisers) and
    LA indicators (all but the smallest code); the covariates' scales; and the offset."""
    covariates = frame[list(COVARIATES)].to_numpy(float)
    scales = covariates.std(axis=0)
    columns = [np.ones(len(frame)), frame["intervention"].to_numpy(float)]
    columns += list(((covariates - covariates.mean(axis=0)) / scales).T)
    if la_effects:
        for code in sorted(frame["la_code"].unique())[1:]:
            columns.append((frame["la_code"] == code).to_numpy(float))
    offset = np.log(frame["pupils"].to_numpy(float) * 2.0)
    return np.column_stack(columns), scales, offset


def nb2_negative_log_likelihood(beta: Array, alpha: float, y: Array, x: Array, off: Array) -> float:
    mean = np.exp(x @ beta + off)
    return -float(stats.nbinom.logpmf(y, 1.0 / alpha, 1.0 / (1.0 + alpha * mean)).sum())


def nb2_gradient(beta: Array, alpha: float, y: Array, x: Array, off: Array) -> tuple[Array, float]:
    """dℓ/dβ and dℓ/dα of the NB2 log-likelihood (Cameron & Trivedi 2013, eq. 3.29)."""
    mean = np.exp(x @ beta + off)
    size = 1.0 / alpha
    d_beta = x.T @ ((y - mean) / (1.0 + alpha * mean))
    d_size = (
        special.digamma(y + size)
        - special.digamma(size)
        + np.log(size / (size + mean))
        + (mean - y) / (size + mean)
    ).sum()
    return d_beta, float(d_size * -(size**2))


def fit_nb2_by_scipy(y: Array, x: Array, off: Array) -> tuple[Array, float, Array]:
    """Joint maximum likelihood of (β, α) by BFGS on (β, log α), polished by Newton steps on
    a finite-difference Hessian of the analytic gradient; and the covariance of (β, α) from
    the observed information."""
    start = np.r_[np.zeros(x.shape[1]), math.log(0.1)]
    start[0] = math.log(y.sum() / np.exp(off).sum())

    def objective(theta: Array) -> tuple[float, Array]:
        beta, alpha = theta[:-1], math.exp(theta[-1])
        d_beta, d_alpha = nb2_gradient(beta, alpha, y, x, off)
        return nb2_negative_log_likelihood(beta, alpha, y, x, off), -np.r_[d_beta, d_alpha * alpha]

    found = optimize.minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-9})
    theta = np.r_[found.x[:-1], math.exp(found.x[-1])]

    def gradient(theta: Array) -> Array:
        d_beta, d_alpha = nb2_gradient(theta[:-1], theta[-1], y, x, off)
        return np.r_[d_beta, d_alpha]

    def hessian(theta: Array) -> Array:
        step = 1e-6 * np.maximum(1.0, np.abs(theta))
        columns = []
        for k in range(len(theta)):
            e = np.zeros(len(theta))
            e[k] = step[k]
            columns.append((gradient(theta + e) - gradient(theta - e)) / (2 * step[k]))
        h = np.column_stack(columns)
        return (h + h.T) / 2

    for _ in range(8):
        theta = theta - np.linalg.solve(hessian(theta), gradient(theta))
    covariance = np.asarray(np.linalg.inv(-hessian(theta)), dtype=np.float64)
    return np.asarray(theta[:-1], dtype=np.float64), float(theta[-1]), covariance


def best_beta_given_alpha(y: Array, x: Array, off: Array, alpha: float) -> Array:
    """The maximum likelihood β for a fixed α (α = 0: Poisson) by Newton's method on the
    observed Hessian, from scipy's BFGS."""

    def negative(beta: Array) -> tuple[float, Array]:
        mean = np.exp(x @ beta + off)
        if alpha == 0:
            value = -float(stats.poisson.logpmf(y, mean).sum())
            return value, -(x.T @ (y - mean))
        return nb2_negative_log_likelihood(beta, alpha, y, x, off), -nb2_gradient(
            beta, alpha, y, x, off
        )[0]

    start = np.zeros(x.shape[1])
    start[0] = math.log(y.sum() / np.exp(off).sum())
    beta = optimize.minimize(negative, start, jac=True, method="BFGS").x
    for _ in range(8):
        mean = np.exp(x @ beta + off)
        weight = mean * (1 + alpha * y) / (1 + alpha * mean) ** 2
        beta = beta + np.linalg.solve((x.T * weight) @ x, -negative(beta)[1])
    return beta


def adjusted_profile(y: Array, x: Array, off: Array, alpha: float) -> float:
    """Cox & Reid's adjusted profile log-likelihood of α, ℓ(β̂_α, α) − ½ log det(XᵀWX)."""
    beta = best_beta_given_alpha(y, x, off, alpha)
    mean = np.exp(x @ beta + off)
    weight = mean / (1 + alpha * mean)
    return -nb2_negative_log_likelihood(beta, alpha, y, x, off) - 0.5 * float(
        np.linalg.slogdet((x.T * weight) @ x)[1]
    )


# ---------------------------------------------------------------------------------------------
# Fixtures.


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    """One SWIS-like trial: 8 LAs of 9 schools, a planted ratio of 1.2."""
    return simulate_swis_like_trials(1, 8, 9, 1.2, seed=20270101).frame(0)


@pytest.fixture(scope="module")
def wide_trial() -> pd.DataFrame:
    """A trial with 12 LAs of 8 schools, for the GEE (which needs 10 clusters or more)."""
    return simulate_swis_like_trials(1, 12, 8, 1.15, seed=20270202).frame(0)


def spec(**changes: Any) -> RateTrialSpec:
    return dataclasses.replace(RateTrialSpec(outcome="s47", years=2.0), **changes)


# ---------------------------------------------------------------------------------------------
# The negative binomial model against independent fits.


def test_maximum_likelihood_fit_matches_scipy_on_the_nb2_likelihood(trial):
    result = negative_binomial_rate_ratio(trial, spec(dispersion="ml"))
    x, scales, off = design_matrix(trial, la_effects=True)
    y = trial["s47"].to_numpy(float)
    beta, alpha, covariance = fit_nb2_by_scipy(y, x, off)

    assert result.dispersion == pytest.approx(alpha, rel=1e-5)
    assert result.intervention.log_rate_ratio == pytest.approx(beta[1], rel=1e-7, abs=1e-9)
    assert result.intervention.rate_ratio == pytest.approx(math.exp(beta[1]), rel=1e-7)
    assert result.intervention.standard_error == pytest.approx(
        math.sqrt(covariance[1, 1]), rel=1e-5
    )
    z = stats.norm.ppf(0.975)
    se = math.sqrt(covariance[1, 1])
    assert result.intervention.lower == pytest.approx(math.exp(beta[1] - z * se), rel=1e-5)
    assert result.intervention.upper == pytest.approx(math.exp(beta[1] + z * se), rel=1e-5)
    assert result.intervention.p_value == pytest.approx(
        2 * stats.norm.sf(abs(beta[1]) / se), rel=1e-4
    )
    # The covariates per unit as given: the scaled coefficient over the scale.
    for k, ratio in enumerate(result.covariates):
        assert ratio.term == COVARIATES[k]
        assert ratio.log_rate_ratio == pytest.approx(beta[2 + k] / scales[k], rel=1e-6)
        assert ratio.standard_error == pytest.approx(
            math.sqrt(covariance[2 + k, 2 + k]) / scales[k], rel=1e-5
        )
    assert result.log_likelihood == pytest.approx(
        -nb2_negative_log_likelihood(beta, alpha, y, x, off), rel=1e-9
    )
    assert result.parameters == x.shape[1] + 1
    assert result.dispersion_method == "maximum likelihood"


def test_cox_reid_fit_matches_the_adjusted_profile_likelihood_by_scipy(trial):
    result = negative_binomial_rate_ratio(trial, spec())
    x, _, off = design_matrix(trial, la_effects=True)
    y = trial["s47"].to_numpy(float)
    found = optimize.minimize_scalar(
        lambda log_alpha: -adjusted_profile(y, x, off, math.exp(log_alpha)),
        bounds=(-8.0, 2.0),
        method="bounded",
        options={"xatol": 1e-8},
    )
    alpha = math.exp(found.x)
    beta = best_beta_given_alpha(y, x, off, alpha)
    mean = np.exp(x @ beta + off)
    # Given α, the coefficients' covariance is the inverse Fisher information (XᵀWX)⁻¹.
    covariance = np.linalg.inv((x.T * (mean / (1 + alpha * mean))) @ x)

    assert result.dispersion == pytest.approx(alpha, rel=1e-4)
    assert result.intervention.log_rate_ratio == pytest.approx(beta[1], rel=1e-5)
    assert result.intervention.standard_error == pytest.approx(
        math.sqrt(covariance[1, 1]), rel=1e-5
    )
    assert result.dispersion_method == "Cox-Reid adjusted profile likelihood"
    # The adjustment allows for the coefficients estimated: α above the ML estimate, so a
    # wider interval.
    ml = negative_binomial_rate_ratio(trial, spec(dispersion="ml"))
    assert result.dispersion > ml.dispersion
    assert result.intervention.standard_error > ml.intervention.standard_error


def test_poisson_limit_when_the_counts_vary_less_than_poisson():
    # Counts equal to their expectation, rounded: far less variable than Poisson, so the
    # (adjusted) profile likelihood of α is highest at 0 and the model is the Poisson GLM.
    rng = np.random.Generator(np.random.PCG64(7))
    schools = 60
    frame = pd.DataFrame(
        {
            "laestab": np.arange(schools),
            "la_code": np.repeat([801, 802, 803, 804], 15),
            "intervention": np.tile([0, 1], 30),
            "pupils": rng.integers(500, 1500, schools).astype(float),
            "baseline_rate": rng.uniform(0.005, 0.03, schools),
            "fsm_percent": rng.uniform(5, 50, schools),
        }
    )
    expected = (
        frame["pupils"]
        * 2.0
        * 0.015
        * np.exp(0.3 * frame["intervention"] + 10 * (frame["baseline_rate"] - 0.015))
    )
    frame["s47"] = np.rint(expected).astype(int)
    x, _, off = design_matrix(frame, la_effects=True)
    y = frame["s47"].to_numpy(float)
    beta = best_beta_given_alpha(y, x, off, 0.0)
    mean = np.exp(x @ beta + off)
    se = math.sqrt(np.linalg.inv((x.T * mean) @ x)[1, 1])
    for method in ("cox-reid", "ml"):
        result = negative_binomial_rate_ratio(frame, spec(dispersion=method))
        assert result.poisson_limit
        assert result.dispersion == 0.0
        assert result.intervention.log_rate_ratio == pytest.approx(beta[1], rel=1e-8)
        assert result.intervention.standard_error == pytest.approx(se, rel=1e-7)
        assert result.log_likelihood == pytest.approx(
            float(stats.poisson.logpmf(y, mean).sum()), rel=1e-9
        )


def test_nb_approaches_poisson_as_overdispersion_vanishes():
    # Gamma-Poisson counts with a tiny gamma CV: α near 0 and the rate ratio near Poisson's.
    trials = simulate_swis_like_trials(
        1, 6, 10, 1.3, seed=11, school_cv=0.02, year_cv=0.02, la_sd=0.0, fsm_gradient=0.0
    )
    frame = trials.frame(0)
    result = negative_binomial_rate_ratio(frame, spec())
    x, _, off = design_matrix(frame, la_effects=True)
    y = frame["s47"].to_numpy(float)
    poisson = best_beta_given_alpha(y, x, off, 0.0)
    assert result.dispersion < 0.01
    assert result.intervention.log_rate_ratio == pytest.approx(poisson[1], abs=2e-3)


def test_crude_rates_and_sample(trial):
    result = negative_binomial_rate_ratio(trial, spec())
    for arm, summary in ((1, result.intervention_arm), (0, result.control_arm)):
        here = trial["intervention"] == arm
        assert summary.schools == int(here.sum())
        assert summary.events == trial.loc[here, "s47"].sum()
        assert summary.pupil_years == pytest.approx(trial.loc[here, "pupils"].sum() * 2.0)
        assert summary.rate == pytest.approx(
            trial.loc[here, "s47"].sum() / (trial.loc[here, "pupils"].sum() * 2.0)
        )
    assert (result.schools, result.local_authorities, result.schools_without_outcome) == (72, 8, 0)


def test_schools_without_an_outcome_are_left_out_and_counted(trial):
    lost = trial.copy()
    lost["s47"] = lost["s47"].astype(float)
    lost.loc[[3, 40], "s47"] = np.nan
    result = negative_binomial_rate_ratio(lost, spec())
    complete = negative_binomial_rate_ratio(trial.drop(index=[3, 40]), spec())
    assert result.schools_without_outcome == 2
    assert result.schools == 70
    assert result.intervention == complete.intervention


def test_row_order_and_identifier_types_change_nothing(trial):
    first = negative_binomial_rate_ratio(trial, spec())
    shuffled = trial.sample(frac=1.0, random_state=5)
    assert negative_binomial_rate_ratio(shuffled, spec()) == first
    as_text = trial.assign(
        la_code=trial["la_code"].astype(str), laestab=trial["laestab"].astype(str)
    )
    assert negative_binomial_rate_ratio(as_text, spec()) == first


def test_without_la_fixed_effects_the_model_has_fewer_terms(trial):
    result = negative_binomial_rate_ratio(trial, spec(la_fixed_effects=False))
    x, _, off = design_matrix(trial, la_effects=False)
    y = trial["s47"].to_numpy(float)
    beta, alpha, _ = fit_nb2_by_scipy(y, x, off)
    ml = negative_binomial_rate_ratio(trial, spec(la_fixed_effects=False, dispersion="ml"))
    assert ml.intervention.log_rate_ratio == pytest.approx(beta[1], rel=1e-6)
    assert ml.dispersion == pytest.approx(alpha, rel=1e-5)
    assert result.parameters == 1 + 1 + 3 + 1


# ---------------------------------------------------------------------------------------------
# The GEE against its equations written out.


def gee_by_hand(
    frame: pd.DataFrame, rho: float, exchangeable: bool
) -> tuple[Array, Array, Array, float]:
    """β solving Σ DᵢᵀVᵢ⁻¹(yᵢ − μᵢ) = 0 with Vᵢ = Aᵢ^½ R(ρ) Aᵢ^½ (Poisson: Aᵢ = diag μᵢ),
    clusters the LAs, no LA effects; its robust and Mancl-DeRouen covariances; and the moment
    estimate of ρ at that β (scale and pairs with p degrees of freedom removed)."""
    x, _, off = design_matrix(frame, la_effects=False)
    y = frame["s47"].to_numpy(float)
    groups = [
        np.flatnonzero(frame["la_code"].to_numpy() == c) for c in sorted(frame["la_code"].unique())
    ]
    beta = best_beta_given_alpha(y, x, off, 0.0)

    def pieces(beta: Array, rows: NDArray[np.intp]) -> tuple[Array, Array, Array]:
        mean = np.exp(x[rows] @ beta + off[rows])
        d = x[rows] * mean[:, None]
        r = np.full((len(rows), len(rows)), rho if exchangeable else 0.0)
        np.fill_diagonal(r, 1.0)
        v = np.sqrt(mean)[:, None] * r * np.sqrt(mean)[None, :]
        return d, np.linalg.inv(v), y[rows] - mean

    def bread_and_score(beta: Array) -> tuple[Array, Array]:
        bread = np.zeros((x.shape[1], x.shape[1]))
        score = np.zeros(x.shape[1])
        for g in groups:
            d, vi, e = pieces(beta, g)
            bread += d.T @ vi @ d
            score += d.T @ vi @ e
        return bread, score

    for _ in range(30):
        bread, score = bread_and_score(beta)
        beta = beta + np.linalg.solve(bread, score)
    bread_inverse = np.linalg.inv(bread_and_score(beta)[0])
    meat = np.zeros_like(bread_inverse)
    meat_corrected = np.zeros_like(bread_inverse)
    for g in groups:
        d, vi, e = pieces(beta, g)
        u = d.T @ vi @ e
        meat += np.outer(u, u)
        leverage = d @ bread_inverse @ d.T @ vi
        u_corrected = d.T @ vi @ np.linalg.solve(np.eye(len(g)) - leverage, e)
        meat_corrected += np.outer(u_corrected, u_corrected)
    robust = bread_inverse @ meat @ bread_inverse
    corrected = bread_inverse @ meat_corrected @ bread_inverse
    # The moment estimator of ρ (Liang & Zeger 1986), with statsmodels' degrees of freedom.
    mean = np.exp(x @ beta + off)
    pearson = (y - mean) / np.sqrt(mean)
    p = x.shape[1]
    scale = float((pearson**2).sum()) / (len(y) - p)
    pairs = sum(len(g) * (len(g) - 1) / 2 for g in groups)
    cross = sum((pearson[g].sum() ** 2 - (pearson[g] ** 2).sum()) / 2 for g in groups)
    return beta, robust, corrected, cross / scale / (pairs - p)


def test_gee_exchangeable_solves_its_equations_with_the_bias_reduced_sandwich(wide_trial):
    result = gee_rate_ratio(wide_trial, spec())
    beta, robust, corrected, rho = gee_by_hand(wide_trial, result.correlation, exchangeable=True)
    assert result.correlation == pytest.approx(rho, rel=1e-6, abs=1e-9)
    assert result.intervention.log_rate_ratio == pytest.approx(beta[1], rel=1e-7)
    assert result.intervention.standard_error == pytest.approx(math.sqrt(corrected[1, 1]), rel=1e-6)
    assert math.sqrt(corrected[1, 1]) > math.sqrt(robust[1, 1])
    # Student's t on clusters − coefficients = 12 − 5 degrees of freedom.
    t = stats.t.ppf(0.975, 7)
    se = math.sqrt(corrected[1, 1])
    assert result.degrees_of_freedom == 7
    assert result.intervention.lower == pytest.approx(math.exp(beta[1] - t * se), rel=1e-6)
    assert result.intervention.upper == pytest.approx(math.exp(beta[1] + t * se), rel=1e-6)
    assert result.intervention.p_value == pytest.approx(2 * stats.t.sf(abs(beta[1]) / se, 7))
    normal = gee_rate_ratio(wide_trial, spec(gee_t_interval=False))
    z = stats.norm.ppf(0.975)
    assert normal.degrees_of_freedom is None
    assert normal.intervention.upper == pytest.approx(math.exp(beta[1] + z * se), rel=1e-6)
    assert (result.clusters, result.cluster_column, result.la_fixed_effects) == (
        12,
        "la_code",
        False,
    )
    plain = gee_rate_ratio(wide_trial, spec(gee_covariance="robust"))
    assert plain.intervention.standard_error == pytest.approx(math.sqrt(robust[1, 1]), rel=1e-6)


def test_gee_with_independence_is_poisson_regression_with_a_sandwich(wide_trial):
    result = gee_rate_ratio(wide_trial, spec(gee_correlation="independence"))
    x, _, off = design_matrix(wide_trial, la_effects=False)
    poisson = best_beta_given_alpha(wide_trial["s47"].to_numpy(float), x, off, 0.0)
    _, _, corrected, _ = gee_by_hand(wide_trial, 0.0, exchangeable=False)
    assert result.correlation == 0.0
    assert result.intervention.log_rate_ratio == pytest.approx(poisson[1], rel=1e-7)
    assert result.intervention.standard_error == pytest.approx(math.sqrt(corrected[1, 1]), rel=1e-6)


def test_gee_clustered_by_another_column_keeps_la_fixed_effects(wide_trial):
    # Clusters of two schools within an LA: the LA indicators stay in the model.
    pairs = wide_trial.assign(pair=wide_trial["la_code"] * 10 + np.arange(len(wide_trial)) % 8 // 2)
    result = gee_rate_ratio(pairs, spec(gee_clusters="pair"))
    assert (result.clusters, result.la_fixed_effects, result.parameters) == (48, True, 5 + 11)
    without = gee_rate_ratio(pairs, spec(gee_clusters="pair", la_fixed_effects=False))
    assert (without.la_fixed_effects, without.parameters) == (False, 5)
    with pytest.raises(TooFewClusters, match=r"6 clusters \('trust'\)"):
        gee_rate_ratio(
            wide_trial.assign(trust=(wide_trial["la_code"] - 800) // 2), spec(gee_clusters="trust")
        )


def test_gee_is_independent_of_row_order(wide_trial):
    first = gee_rate_ratio(wide_trial, spec())
    assert gee_rate_ratio(wide_trial.sample(frac=1.0, random_state=8), spec()) == first


def test_analysis_reports_both(wide_trial):
    both = analyse_rate_outcome(wide_trial, spec())
    assert both.primary == negative_binomial_rate_ratio(wide_trial, spec())
    assert both.sensitivity == gee_rate_ratio(wide_trial, spec())
    # Same trial, two analyses: the estimates agree to within their uncertainty.
    gap = abs(
        both.primary.intervention.log_rate_ratio - both.sensitivity.intervention.log_rate_ratio
    )
    assert gap < both.primary.intervention.standard_error


# ---------------------------------------------------------------------------------------------
# Bad input: one clear line each.


def one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(error.value)
    assert isinstance(error.value, UserError)
    assert "\n" not in message
    return message


def test_too_few_schools_for_the_model():
    small = simulate_swis_like_trials(1, 4, 4, 1.0, seed=3).frame(0)
    with pytest.raises(TooFewClusters) as error:
        negative_binomial_rate_ratio(small, spec())
    message = one_line(error)
    assert "16 schools for a model with 9 parameters" in message
    assert "at least 19" in message


def test_an_la_with_one_school_under_la_fixed_effects(trial):
    alone = trial.copy()
    alone.loc[0, "la_code"] = 999
    with pytest.raises(TooFewClusters) as error:
        negative_binomial_rate_ratio(alone, spec())
    message = one_line(error)
    assert "LA 999 has one school" in message and "la_fixed_effects=False" in message
    # Without LA fixed effects the same data are analysed.
    assert negative_binomial_rate_ratio(alone, spec(la_fixed_effects=False)).schools == 72


def test_an_la_all_in_one_arm(trial):
    skewed = trial.copy()
    skewed.loc[skewed["la_code"] == 801, "intervention"] = 1
    with pytest.raises(TooFewClusters, match="LA 801's schools are all in one arm"):
        negative_binomial_rate_ratio(skewed, spec())


def test_an_arm_with_no_outcomes(trial):
    lost = trial.copy()
    lost["s47"] = lost["s47"].astype(float)
    lost.loc[lost["intervention"] == 1, "s47"] = np.nan
    with pytest.raises(EmptyArm) as error:
        negative_binomial_rate_ratio(lost, spec())
    assert "intervention arm" in one_line(error)


def test_an_arm_with_no_events(trial):
    none = trial.copy()
    none.loc[none["intervention"] == 0, "s47"] = 0
    with pytest.raises(NoEvents) as error:
        negative_binomial_rate_ratio(none, spec())
    assert "every control school" in one_line(error)


def test_all_zero_outcomes(trial):
    with pytest.raises(NoEvents) as error:
        analyse_rate_outcome(trial.assign(s47=0), spec())
    assert "0 in every school" in one_line(error)


def test_an_la_with_no_events_under_la_fixed_effects(trial):
    none = trial.copy()
    none.loc[none["la_code"] == 803, "s47"] = 0
    with pytest.raises(NoEvents, match="every school of LA 803"):
        negative_binomial_rate_ratio(none, spec())


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [("pupils", 0, "pupils ('pupils')"), ("pupils", -5, "pupils"), ("pupils", np.nan, "pupils")],
)
def test_non_positive_exposure(trial, column, value, shown):
    bad = trial.copy()
    bad[column] = bad[column].astype(float)
    bad.loc[5, column] = value
    with pytest.raises(NonPositiveExposure) as error:
        negative_binomial_rate_ratio(bad, spec())
    message = one_line(error)
    assert shown in message and str(bad.loc[5, "laestab"]) in message


def test_non_positive_years(trial):
    with pytest.raises(NonPositiveExposure, match="years of follow-up"):
        negative_binomial_rate_ratio(trial, spec(years=0.0))
    with pytest.raises(NonPositiveExposure, match=r"years of follow-up \('years'\)"):
        negative_binomial_rate_ratio(trial.assign(years=-1.0), spec(years="years"))


def test_missing_covariates(trial):
    gap = trial.copy()
    gap.loc[[2, 7], "fsm_percent"] = np.nan
    with pytest.raises(MissingCovariates) as error:
        negative_binomial_rate_ratio(gap, spec())
    message = one_line(error)
    assert "'fsm_percent'" in message
    assert f"{gap.loc[2, 'laestab']}, {gap.loc[7, 'laestab']}" in message
    with pytest.raises(MissingColumns, match="'fsm_percent'"):
        gee_rate_ratio(trial.drop(columns="fsm_percent"), spec())


def test_outcomes_that_are_not_counts(trial):
    for value in (2.5, -1):
        bad = trial.copy()
        bad["s47"] = bad["s47"].astype(float)
        bad.loc[4, "s47"] = value
        with pytest.raises(NotCounts) as error:
            negative_binomial_rate_ratio(bad, spec())
        assert str(bad.loc[4, "laestab"]) in one_line(error)


def test_other_bad_input(trial):
    with pytest.raises(RateDataError, match=r"must hold 0 .* or 1"):
        negative_binomial_rate_ratio(trial.assign(intervention=trial["intervention"] * 2), spec())
    with pytest.raises(RateDataError, match="more than once"):
        negative_binomial_rate_ratio(pd.concat([trial, trial.iloc[:1]]), spec())
    with pytest.raises(RateDataError, match="take one value"):
        negative_binomial_rate_ratio(trial.assign(fsm_percent=20.0), spec())
    with pytest.raises(RateDataError, match="collinear"):
        negative_binomial_rate_ratio(
            trial.assign(fsm_copy=trial["fsm_percent"] * 2),
            spec(covariates=("baseline_rate", "fsm_percent", "fsm_copy")),
        )
    with pytest.raises(RateDataError, match="confidence"):
        negative_binomial_rate_ratio(trial, spec(confidence=95))
    gap = trial.astype({"la_code": object})
    gap.loc[6, "la_code"] = None
    with pytest.raises(
        RateDataError, match=f"column 'la_code' is empty for school.s. {gap.loc[6, 'laestab']}"
    ):
        negative_binomial_rate_ratio(gap, spec())


def test_too_few_clusters_for_the_gee(trial):
    with pytest.raises(TooFewClusters) as error:
        gee_rate_ratio(trial, spec())
    assert "8 clusters ('la_code')" in one_line(error)


def test_the_errors_are_user_errors():
    for error in (MissingColumns, MissingCovariates, NoEvents, NonPositiveExposure, NotCounts):
        assert issubclass(error, UserError)
    assert issubclass(trial_rates.RateModelNotFitted, UserError)


# ---------------------------------------------------------------------------------------------
# Planted effects recovered (acceptance: 93-97% coverage, 3-7% false positives).

RECOVERY_REPLICATES = 2000


def test_interval_covers_the_planted_rate_ratio():
    trials = simulate_swis_like_trials(RECOVERY_REPLICATES, 6, 10, 1.25, seed=2027)
    covered, replicates = coverage(trials, spec())
    assert 0.93 <= covered / replicates <= 0.97, f"coverage {covered}/{replicates}"


def test_false_positive_rate_without_an_effect():
    trials = simulate_swis_like_trials(RECOVERY_REPLICATES, 6, 10, 1.0, seed=2028)
    covered, replicates = coverage(trials, spec())
    assert 0.03 <= 1 - covered / replicates <= 0.07, (
        f"rejections {replicates - covered}/{replicates}"
    )
