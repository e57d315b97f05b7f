"""Trial analyses for continuous outcomes, reproducing the EEF's eefAnalytics (``*FREQ``).

Three designs, one function each, each returning a frozen :class:`TrialAnalysis`:

- :func:`analyse_cluster_randomised_trial` (``crtFREQ``): whole schools randomised; a two-level
  model with a random intercept for school, fitted by REML;
- :func:`analyse_simple_randomised_trial` (``srtFREQ``): pupils randomised, clustering ignored;
  ordinary least squares;
- :func:`analyse_multisite_trial` (``mstFREQ``): pupils randomised within schools; a two-level
  model with a random intercept and a random intervention slope for school (unstructured
  covariance), fitted by REML.

Each reports the coefficients with 95% intervals (profile likelihood for the mixed models, as
lme4's ``confint`` gives them; t intervals for OLS), the variance components and ICC of the
adjusted ("conditional") model and of the intercept-only ("unconditional") model, and Hedges'
g on the within-school and total variance under each, with the package's intervals (estimate
+- 1.96 standard errors from the formulas in :mod:`cwsw.evaluation.effect_sizes`). Defaults
match the package's: no bootstrap and no permutation. Values are unrounded; the package prints
them to 2 decimal places. docs/evaluation-effect-sizes.md has the formulas and the reference
figures these functions reproduce.

The REML fits are statsmodels' ``MixedLM``. The profile intervals need the ML deviance
minimised over the covariance parameters at many fixed values of one coefficient, which
statsmodels does not offer; :class:`_ProfiledDeviance` computes that deviance (Bates et al.
2015, lme4's formulation) from per-school cross-products, and the tests check it against
lme4's. It also checks each statsmodels fit against the REML criterion's minimum and stands
in where statsmodels stops short of it (a school variance of zero, where lme4 reports a
singular fit and statsmodels does not converge).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize
from scipy.linalg import cho_factor, cho_solve
from scipy.stats import norm
from statsmodels.regression.linear_model import OLS
from statsmodels.regression.mixed_linear_model import MixedLM

from cwsw.evaluation.effect_sizes import (
    EffectSize,
    EmptyArm,
    SchoolArmCounts,
    TooFewClusters,
    TooFewPupils,
    TrialDataError,
    hedges_g_simple_randomised,
    hedges_g_total_cluster_randomised,
    hedges_g_total_multisite,
    hedges_g_within_cluster_randomised,
    hedges_g_within_multisite,
    intraclass_correlation,
    multisite_icc,
    multisite_total_variance,
)

Design = Literal["cluster randomised", "simple randomised", "multisite"]
Array = NDArray[np.float64]

# lme4's isSingular(): a relative covariance factor's diagonal below this is on the boundary.
_SINGULAR_TOLERANCE = 1e-4
# Below this a diagonal of the relative covariance factor may belong on the boundary.
_NEAR_BOUNDARY = 1e-2
# lme4's profile intervals: where the signed root deviance crosses the normal 97.5% point.
_PROFILE_CUTOFF = float(norm.ppf(0.975))


class MissingColumns(TrialDataError):
    """A column the analysis was told to use is not in the data."""


class NonNumericColumn(TrialDataError):
    """An outcome or covariate column holds values that are not numbers."""


class InterventionNotBinary(TrialDataError):
    """The intervention column is not coded 0 (control) and 1 (intervention)."""


class WrongDesign(TrialDataError):
    """The data's allocation does not match the design asked for."""


class ModelNotFitted(TrialDataError):
    """The model cannot be estimated from these data (collinear, constant or not converged)."""


@dataclass(frozen=True)
class Coefficient:
    """A fixed-effect coefficient with its 95% interval."""

    name: str
    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True)
class VarianceComponents:
    """Variance components of one model and its ICC.

    ``school`` is the random intercept's variance and ``pupil`` the residual (within-school)
    variance; for a multisite model ``treatment_slope`` and ``school_slope_covariance`` are the
    school-by-intervention slope's variance and its covariance with the intercept, and
    ``total`` is :func:`~cwsw.evaluation.effect_sizes.multisite_total_variance`. A single-level
    model has only ``pupil`` (= ``total``), no ICC.
    """

    pupil: float
    total: float
    school: float | None = None
    icc: float | None = None
    treatment_slope: float | None = None
    school_slope_covariance: float | None = None


@dataclass(frozen=True)
class EffectSizes:
    """Hedges' g on the within-school and on the total variance (one model's variances).

    A single-level analysis has one variance: its g is ``total`` and ``within`` is None.
    """

    total: EffectSize
    within: EffectSize | None = None


@dataclass(frozen=True)
class SchoolEffect:
    """A school's predicted random effects (BLUPs): its deviation from the intercept and,
    in a multisite model, from the average intervention effect."""

    school: Hashable
    intercept: float
    treatment_slope: float | None = None


@dataclass(frozen=True)
class TrialAnalysis:
    """One trial's analysis as eefAnalytics reports it (its ``Beta``, ``covParm``, ``ES``,
    ``SchEffects`` and ``Unconditional``), unrounded.

    ``conditional_*`` come from the adjusted model, ``unconditional_*`` from the intercept-only
    one; both effect sizes use the adjusted intervention coefficient. ``coefficients`` are
    named Intercept, the intervention column (the package's ``Intervention1``) and the
    covariates. ``singular_fit`` is lme4's "boundary (singular) fit": a school variance at
    zero or a correlation at +-1. ``rows_excluded`` counts rows left out for a missing value.
    """

    design: Design
    reproduces: str
    outcome: str
    intervention: str
    cluster: str | None
    covariates: tuple[str, ...]
    pupils: int
    pupils_intervention: int
    pupils_control: int
    schools: int | None
    rows_excluded: int
    coefficients: tuple[Coefficient, ...]
    conditional_variance: VarianceComponents
    unconditional_variance: VarianceComponents
    conditional_effect: EffectSizes
    unconditional_effect: EffectSizes
    school_effects: tuple[SchoolEffect, ...]
    singular_fit: bool

    @property
    def intervention_effect(self) -> Coefficient:
        """The intervention's coefficient (the adjusted difference in means)."""
        return next(c for c in self.coefficients if c.name == self.intervention)


@dataclass(frozen=True)
class _TrialData:
    """The rows an analysis uses, validated: outcome, 0/1 intervention, covariates, cluster."""

    y: Array
    treated: NDArray[np.int64]
    design: Array  # intercept, intervention, covariates
    names: tuple[str, ...]
    cluster: tuple[Hashable, ...] | None
    rows_excluded: int


def _prepare(
    data: pd.DataFrame,
    outcome: str,
    intervention: str,
    covariates: Sequence[str],
    cluster: str | None,
) -> _TrialData:
    """Check the columns and drop rows missing any used value (the package's ``na.omit``)."""
    wanted = [outcome, intervention, *covariates] + ([cluster] if cluster is not None else [])
    missing = [c for c in wanted if c not in data.columns]
    if missing:
        have = [str(c) for c in data.columns]
        listed = ", ".join(map(repr, have[:12])) + (", ..." if len(have) > 12 else "")
        raise MissingColumns(
            f"column(s) {', '.join(map(repr, missing))} not in the data (it has {listed}): "
            "name existing columns"
        )
    if len(set(wanted)) != len(wanted):
        raise TrialDataError(f"a column is named twice among {wanted}: name each role once")
    for column in [outcome, *covariates]:
        if not (
            pd.api.types.is_numeric_dtype(data[column])
            and not pd.api.types.is_bool_dtype(data[column])
        ):
            raise NonNumericColumn(
                f"column {column!r} is not numeric: outcomes and covariates must be numbers "
                "(code a categorical covariate as 0/1 columns)"
            )
        if np.isinf(data[column].to_numpy(dtype=np.float64)).any():
            raise NonNumericColumn(
                f"column {column!r} holds infinite values: replace them with a number or leave "
                "them empty"
            )
    arms = data[intervention].dropna()
    values = sorted({_as_plain(v) for v in arms}, key=_value_order)
    if not all(isinstance(v, int | float) and v in (0, 1) for v in values):
        shown = ", ".join(
            f"{v:g}" if isinstance(v, int | float) else str(v) for v in values[:6]
        ) + (", ..." if len(values) > 6 else "")
        raise InterventionNotBinary(
            f"intervention column {intervention!r} must hold 0 (control) and 1 (intervention); "
            f"found {shown}: recode it (a trial with more arms is analysed one pair at a time)"
        )
    used = data[wanted].dropna()
    treated = used[intervention].to_numpy(dtype=np.int64)
    for arm, label in ((1, "intervention"), (0, "control")):
        if not (treated == arm).any():
            recorded = ", ".join(c for c in wanted if c != intervention)
            raise EmptyArm(
                f"the {label} arm ({intervention} = {arm}) has no pupils with an outcome "
                f"({recorded} all recorded): both arms are needed"
            )
    y = used[outcome].to_numpy(dtype=np.float64)
    if np.ptp(y) == 0:
        raise ModelNotFitted(f"outcome {outcome!r} takes one value only: nothing to model")
    design = np.column_stack(
        [np.ones(len(used)), treated.astype(np.float64)]
        + [used[c].to_numpy(dtype=np.float64) for c in covariates]
    )
    names = ("Intercept", intervention, *covariates)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ModelNotFitted(
            f"the model's terms {', '.join(names)} are collinear (a covariate is constant, "
            "duplicates another or is fixed by the intervention): drop it"
        )
    # (With no more pupils than terms every fit is exact: the design's own check says so.)
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    residual = np.sum((y - fitted) ** 2)
    if len(y) > design.shape[1] and residual <= 1e-12 * np.sum((y - y.mean()) ** 2):
        raise ModelNotFitted(
            f"outcome {outcome!r} is an exact function of {', '.join(names[1:])}: "
            "there is no residual variation to model"
        )
    return _TrialData(
        y=y,
        treated=treated,
        design=design,
        names=names,
        cluster=tuple(_as_plain(v) for v in used[cluster]) if cluster is not None else None,
        rows_excluded=len(data) - len(used),
    )


def _value_order(value: Hashable) -> tuple[int, float, str]:
    """Numbers in numeric order, then anything else by its text."""
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _as_plain(value: Hashable) -> Hashable:
    """A numpy scalar as the Python value it holds (1.0 stays 1.0; IDs print as given)."""
    if isinstance(value, np.generic):
        plain: Hashable = value.item()
        return plain
    return value


def _group_codes(cluster: tuple[Hashable, ...], counts: SchoolArmCounts) -> NDArray[np.int64]:
    """Each pupil's school as its position in the sorted schools of ``counts``."""
    position = {school: i for i, school in enumerate(counts.schools)}
    return np.array([position[c] for c in cluster], dtype=np.int64)


class _ProfiledDeviance:
    """The deviance of a linear mixed model with one grouping factor, fixed effects and the
    residual variance profiled out, as a function of the relative covariance factor theta.

    theta holds the lower triangle of L, column by column (lme4's order), with
    Var(b_i) = sigma^2 L L'. With M_i = I + L' Z_i' Z_i L and W = [X, y]:
    log|V| = sum log|M_i|, and W' V^-1 W = W'W - sum W_i' Z_i L M_i^-1 L' Z_i' W_i, from which
    beta, the residual sum of squares r^2 and the deviance follow:
    ML: log|V| + n (1 + log(2 pi r^2 / n)); REML adds log|X' V^-1 X| with n - p for n.
    Source: Bates, Maechler, Bolker and Walker (2015), Fitting linear mixed-effects models
    using lme4, J. Stat. Softw. 67(1), section 3.
    """

    def __init__(self, y: Array, x: Array, z: Array, groups: NDArray[np.int64]) -> None:
        n_groups = int(groups.max()) + 1
        w = np.column_stack([x, y])
        self.n, self.p = x.shape
        self.q = z.shape[1]
        self.ztz = np.zeros((n_groups, self.q, self.q))
        np.add.at(self.ztz, groups, z[:, :, None] * z[:, None, :])
        self.ztw = np.zeros((n_groups, self.q, self.p + 1))
        np.add.at(self.ztw, groups, z[:, :, None] * w[:, None, :])
        self.wtw = w.T @ w
        self.lower = [0.0 if i == j else -np.inf for j in range(self.q) for i in range(j, self.q)]

    def factor(self, theta: Array) -> Array:
        """L from theta."""
        factor = np.zeros((self.q, self.q))
        k = 0
        for j in range(self.q):
            for i in range(j, self.q):
                factor[i, j] = theta[k]
                k += 1
        return factor

    def theta_of(self, relative_covariance: Array) -> Array:
        """theta of a relative covariance matrix G / sigma^2 (a boundary one included)."""
        factor = np.zeros((self.q, self.q))
        for j in range(self.q):
            pivot = relative_covariance[j, j] - factor[j, :j] @ factor[j, :j]
            factor[j, j] = math.sqrt(max(pivot, 0.0))
            for i in range(j + 1, self.q):
                rest = relative_covariance[i, j] - factor[i, :j] @ factor[j, :j]
                factor[i, j] = rest / factor[j, j] if factor[j, j] > 0 else 0.0
        return np.array([factor[i, j] for j in range(self.q) for i in range(j, self.q)])

    def _reduced(self, theta: Array) -> tuple[float, Array]:
        if self.q == 1:
            # A random intercept: M_i is the scalar 1 + theta^2 n_i.
            scale = theta[0] ** 2
            m1 = 1.0 + scale * self.ztz[:, 0, 0]
            zw = self.ztw[:, 0, :]
            return float(np.log(m1).sum()), self.wtw - (zw.T * (scale / m1)) @ zw
        factor = self.factor(theta)
        m = np.eye(self.q) + factor.T @ self.ztz @ factor
        _, logdets = np.linalg.slogdet(m)
        # K_i = L M_i^-1 L', then sum_i W_i' Z_i K_i Z_i' W_i as one product over all schools.
        kw = factor @ np.linalg.solve(m, factor.T @ self.ztw)
        rows = self.ztw.shape[0] * self.q
        return float(logdets.sum()), self.wtw - self.ztw.reshape(rows, -1).T @ kw.reshape(rows, -1)

    def deviance(self, theta: Array, transform: Array | None = None, reml: bool = False) -> float:
        """-2 log-likelihood (ML, or REML) at theta, with the columns of W = [X, y] replaced
        by W @ transform when given (a fixed coefficient moved into the response)."""
        logdet_v, s = self._reduced(theta)
        if transform is not None:
            s = transform.T @ s @ transform
        xtx, xty, yty = s[:-1, :-1], s[:-1, -1], s[-1, -1]
        chol = cho_factor(xtx)
        rss = yty - xty @ cho_solve(chol, xty)
        n = self.n - (xtx.shape[0] if reml else 0)
        value = logdet_v + n * (1 + math.log(2 * math.pi * rss / n))
        if reml:
            value += 2 * float(np.log(np.diag(chol[0])).sum())
        return value

    def fixed_effects(self, theta: Array) -> tuple[Array, Array]:
        """The ML estimates of beta at theta and their covariance matrix."""
        _, s = self._reduced(theta)
        xtx, xty, yty = s[:-1, :-1], s[:-1, -1], s[-1, -1]
        beta = np.linalg.solve(xtx, xty)
        sigma2 = float(yty - xty @ beta) / self.n
        return np.asarray(beta, dtype=np.float64), sigma2 * np.linalg.inv(xtx)

    def reml_estimates(self, theta: Array) -> tuple[Array, Array, float, Array]:
        """beta, G, sigma^2 and the schools' predicted random effects of a REML fit at theta.

        beta by GLS, sigma^2 = r^2 / (n - p), G = sigma^2 L L', and
        b_i = L M_i^-1 L' Z_i' (y_i - X_i beta) (the conditional modes, lme4's ``ranef``).
        """
        factor = self.factor(theta)
        _, s = self._reduced(theta)
        xtx, xty, yty = s[:-1, :-1], s[:-1, -1], s[-1, -1]
        beta = np.linalg.solve(xtx, xty)
        sigma2 = float(yty - xty @ beta) / (self.n - self.p)
        m = np.eye(self.q) + factor.T @ self.ztz @ factor
        residual_z = self.ztw @ np.append(-beta, 1.0)  # Z_i' (y_i - X_i beta), per school
        blups = (factor @ np.linalg.solve(m, (factor.T @ residual_z[:, :, None])))[:, :, 0]
        return (
            np.asarray(beta, dtype=np.float64),
            sigma2 * (factor @ factor.T),
            sigma2,
            np.asarray(blups, dtype=np.float64),
        )

    def minimise(
        self, start: Array, transform: Array | None = None, reml: bool = False
    ) -> tuple[Array, float]:
        """theta minimising the deviance (bounded as lme4 bounds it) and that minimum.

        Near a singular fit (a diagonal of L under 0.01) the surface is too flat for the
        optimiser to reach the boundary by itself, so a second start sits on it.
        """
        bounds = [(low, None) for low in self.lower]
        start = np.array([max(v, low) for v, low in zip(start, self.lower, strict=True)])
        starts = [start]
        for k, low in enumerate(self.lower):
            if low == 0 and 0 < start[k] < _NEAR_BOUNDARY:
                on_boundary = start.copy()
                on_boundary[k] = 0.0
                starts.append(on_boundary)
        best: tuple[Array, float] | None = None
        for x0 in starts:
            # Derivative-free, as lme4's own optimisers are: 1 to 3 parameters.
            found = optimize.minimize(
                self.deviance,
                x0,
                args=(transform, reml),
                method="Nelder-Mead",
                bounds=bounds,
                # A deviance near 10^3 to 1e-10: far below what moves a printed figure.
                options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
            )
            if best is None or found.fun < best[1]:
                best = (np.asarray(found.x, dtype=np.float64), float(found.fun))
        assert best is not None
        return best

    def is_singular(self, theta: Array) -> bool:
        """Whether a REML fit at theta is on the boundary, as lme4's ``isSingular`` says.

        lme4 calls a fit singular when a diagonal of L is below 1e-4. statsmodels' optimiser
        can stop a hair inside a boundary it should be on, so a fit also counts as singular
        when the boundary (that diagonal at zero, the rest re-fitted) is at least as good.
        """
        diagonal = [k for k, low in enumerate(self.lower) if low == 0]
        if any(theta[k] < _SINGULAR_TOLERANCE for k in diagonal):
            return True
        at_fit = self.deviance(theta, reml=True)
        for k in diagonal:
            bounds = [(0.0, 0.0) if i == k else (low, None) for i, low in enumerate(self.lower)]
            face = theta.copy()
            face[k] = 0.0
            found = optimize.minimize(
                self.deviance,
                face,
                args=(None, True),
                method="Nelder-Mead",
                bounds=bounds,
                options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
            )
            if found.fun <= at_fit + 1e-6:
                return True
        return False


def _profile_intervals(
    deviance: _ProfiledDeviance, theta_start: Array, names: tuple[str, ...]
) -> list[tuple[float, float]]:
    """95% profile-likelihood intervals of every fixed effect, as lme4's ``confint`` gives them
    for an lmer fit: the ML refit's deviance profiled over the covariance parameters, the
    interval where the signed root deviance difference lies within +-qnorm(0.975). lme4
    interpolates a spline through a grid of profile points; this finds the crossing itself."""
    theta_ml, dev_ml = deviance.minimise(theta_start)
    beta_ml, covariance = deviance.fixed_effects(theta_ml)
    return [
        _profile_interval(deviance, j, theta_ml, dev_ml, float(beta_ml[j]), covariance, names[j])
        for j in range(deviance.p)
    ]


def _profile_interval(
    deviance: _ProfiledDeviance,
    j: int,
    theta_ml: Array,
    dev_ml: float,
    beta_ml: float,
    covariance: Array,
    name: str,
) -> tuple[float, float]:
    p = deviance.p
    # Fixing beta_j = value moves value * x_j into the response: W -> W @ transform.
    transform = np.zeros((p + 1, p))
    for col, k in enumerate(k for k in range(p) if k != j):
        transform[k, col] = 1.0
    transform[p, p - 1] = 1.0

    def zeta(value: float) -> float:
        transform[j, p - 1] = -value
        _, dev = deviance.minimise(theta_ml, transform)
        root = math.sqrt(max(dev - dev_ml, 0.0))
        return root if value >= beta_ml else -root

    se = math.sqrt(covariance[j, j])
    ends = []
    for sign in (-1.0, 1.0):
        target = sign * _PROFILE_CUTOFF
        # The profile is close to the Wald line, so a secant from the Wald limit takes a few
        # steps; a bracketing search is the fallback.
        wald = beta_ml + target * se
        found = optimize.root_scalar(
            lambda v, target=target: zeta(v) - target,
            x0=wald,
            x1=wald + 0.05 * target * se,
            method="secant",
            xtol=1e-7 * se,
            maxiter=50,
        )
        if found.converged and sign * (found.root - beta_ml) > 0:
            ends.append(float(found.root))
            continue
        step = 2.0 * _PROFILE_CUTOFF * se
        for _ in range(20):
            if abs(zeta(beta_ml + sign * step)) > _PROFILE_CUTOFF:
                break
            step *= 2
        else:
            raise ModelNotFitted(
                f"the profile likelihood of {name} does not reach its 95% limit: "
                "the model is too weakly identified for an interval"
            )
        ends.append(
            optimize.brentq(
                lambda v, target=target: zeta(v) - target,
                *sorted((beta_ml, beta_ml + sign * step)),
                xtol=1e-7 * se,
            )
        )
    return ends[0], ends[1]


@dataclass(frozen=True)
class _RemlFit:
    fixed: Array
    school_covariance: Array  # G
    pupil_variance: float  # sigma^2
    random_effects: Array  # one row per school, in school order
    theta: Array  # the relative covariance factor, for the profile and the singular check


def _fit_reml(y: Array, x: Array, z: Array, groups: NDArray[np.int64]) -> _RemlFit:
    """A REML fit by statsmodels' MixedLM, checked against the REML criterion's minimum.

    statsmodels' optimiser can stop short of the optimum, and fails outright when it lies on
    the boundary (a school variance of zero), where lme4 reports a singular fit. So the
    criterion (:class:`_ProfiledDeviance`) is also minimised by scipy from statsmodels'
    answer; statsmodels' estimates stand when they are at that minimum (to 1e-6 in the
    deviance), as they are for the eefAnalytics examples, and otherwise the estimates at the
    minimum are computed by GLS.
    """
    deviance = _ProfiledDeviance(y, x, z, groups)
    model = MixedLM(y, x, groups=groups, exog_re=z)
    with warnings.catch_warnings(record=True):
        # Boundary fits (a zero variance, a correlation of +-1) warn; they are reported as
        # the analysis's ``singular_fit``, as lme4 reports them, not as failures.
        warnings.simplefilter("always")
        try:
            # statsmodels' default gradient tolerance stops short of the REML optimum (variance
            # components off lme4's in the fourth figure); 1e-10 reaches it.
            result = model.fit(reml=True, gtol=1e-10)
        except (np.linalg.LinAlgError, ValueError):
            result = None
    if result is not None and result.converged:
        g = np.atleast_2d(np.asarray(result.cov_re, dtype=np.float64))
        scale = float(result.scale)
        theta_sm = deviance.theta_of(g / scale)
        theta, best = deviance.minimise(theta_sm, reml=True)
        if deviance.deviance(theta_sm, reml=True) <= best + 1e-6:
            effects = result.random_effects
            return _RemlFit(
                fixed=np.asarray(result.fe_params, dtype=np.float64),
                school_covariance=g,
                pupil_variance=scale,
                random_effects=np.array(
                    [np.asarray(effects[k], dtype=np.float64) for k in sorted(effects)]
                ),
                theta=theta_sm,
            )
    else:
        theta, best = deviance.minimise(deviance.theta_of(np.eye(z.shape[1])), reml=True)
    if not math.isfinite(best):
        raise ModelNotFitted(
            "the mixed model cannot be fitted to these data: check for schools with very few "
            "pupils or an outcome with almost no variation"
        )
    beta, g, scale, blups = deviance.reml_estimates(theta)
    return _RemlFit(
        fixed=beta, school_covariance=g, pupil_variance=scale, random_effects=blups, theta=theta
    )


def _clustered(
    data: pd.DataFrame,
    outcome: str,
    intervention: str,
    cluster: str,
    covariates: Sequence[str],
) -> tuple[_TrialData, SchoolArmCounts, NDArray[np.int64]]:
    trial = _prepare(data, outcome, intervention, covariates, cluster)
    assert trial.cluster is not None
    counts = SchoolArmCounts.from_pupils(trial.treated.tolist(), trial.cluster)
    return trial, counts, _group_codes(trial.cluster, counts)


def _unconditional(y: Array, groups: NDArray[np.int64]) -> tuple[float, float]:
    """School and pupil variances of the intercept-only model (REML)."""
    fit = _fit_reml(y, np.ones((len(y), 1)), np.ones((len(y), 1)), groups)
    return float(fit.school_covariance[0, 0]), fit.pupil_variance


def analyse_cluster_randomised_trial(
    data: pd.DataFrame,
    outcome: str,
    intervention: str,
    cluster: str,
    covariates: Sequence[str] = (),
) -> TrialAnalysis:
    """A cluster randomised trial as eefAnalytics' ``crtFREQ`` analyses it.

    outcome ~ intervention + covariates + (1 | cluster) by REML; coefficients with profile
    likelihood intervals; conditional variance components from that model, unconditional from
    outcome ~ 1 + (1 | cluster); Hedges (2007) g on within-school and total variance under
    each (:func:`~cwsw.evaluation.effect_sizes.hedges_g_within_cluster_randomised`,
    :func:`~cwsw.evaluation.effect_sizes.hedges_g_total_cluster_randomised`), both using the
    adjusted intervention coefficient. Rows missing any used value are left out.
    Source: eefAnalytics 1.1.5 ``crtFREQ`` with default options.
    """
    trial, counts, groups = _clustered(data, outcome, intervention, cluster, covariates)
    mixed = [
        s for s, t, c in zip(counts.schools, counts.treated, counts.control, strict=True) if t and c
    ]
    if mixed:
        raise WrongDesign(
            f"{len(mixed)} school(s) in {cluster!r} (first {mixed[0]!r}) have pupils in both arms: "
            "a cluster randomised trial allocates whole schools; use analyse_multisite_trial"
        )
    if counts.schools_treated < 2 or counts.schools_control < 2:
        raise TooFewClusters(
            f"{counts.schools_treated} intervention and {counts.schools_control} control "
            f"school(s) in {cluster!r}: a cluster randomised trial needs at least 2 in each arm"
        )
    if counts.pupils <= len(counts.schools) + trial.design.shape[1]:
        raise TooFewPupils(
            f"{counts.pupils} pupils in {len(counts.schools)} schools leave no degrees of "
            "freedom within schools for the model: more pupils are needed"
        )
    intercept = np.ones((len(trial.y), 1))
    fit = _fit_reml(trial.y, trial.design, intercept, groups)
    var_school = float(fit.school_covariance[0, 0])
    var_pupil = fit.pupil_variance
    deviance = _ProfiledDeviance(trial.y, trial.design, intercept, groups)
    intervals = _profile_intervals(deviance, fit.theta, trial.names)
    null_school, null_pupil = _unconditional(trial.y, groups)
    beta = float(fit.fixed[1])
    icc = intraclass_correlation(var_school, var_pupil)
    null_icc = intraclass_correlation(null_school, null_pupil)
    return TrialAnalysis(
        design="cluster randomised",
        reproduces="eefAnalytics 1.1.5 crtFREQ",
        outcome=outcome,
        intervention=intervention,
        cluster=cluster,
        covariates=tuple(covariates),
        pupils=counts.pupils,
        pupils_intervention=counts.pupils_treated,
        pupils_control=counts.pupils_control,
        schools=len(counts.schools),
        rows_excluded=trial.rows_excluded,
        coefficients=_coefficients(trial.names, fit.fixed, intervals),
        conditional_variance=VarianceComponents(
            school=var_school, pupil=var_pupil, total=var_school + var_pupil, icc=icc
        ),
        unconditional_variance=VarianceComponents(
            school=null_school,
            pupil=null_pupil,
            total=null_school + null_pupil,
            icc=null_icc,
        ),
        conditional_effect=EffectSizes(
            within=hedges_g_within_cluster_randomised(beta, var_pupil, icc, counts),
            total=hedges_g_total_cluster_randomised(beta, var_school + var_pupil, icc, counts),
        ),
        unconditional_effect=EffectSizes(
            within=hedges_g_within_cluster_randomised(beta, null_pupil, null_icc, counts),
            total=hedges_g_total_cluster_randomised(
                beta, null_school + null_pupil, null_icc, counts
            ),
        ),
        school_effects=tuple(
            SchoolEffect(school=s, intercept=float(fit.random_effects[i, 0]))
            for i, s in enumerate(counts.schools)
        ),
        singular_fit=deviance.is_singular(fit.theta),
    )


def analyse_multisite_trial(
    data: pd.DataFrame,
    outcome: str,
    intervention: str,
    cluster: str,
    covariates: Sequence[str] = (),
) -> TrialAnalysis:
    """A multisite trial as eefAnalytics' ``mstFREQ`` analyses it.

    outcome ~ intervention + covariates + (1 + intervention | cluster) by REML (a school random
    intercept and a school-by-intervention random slope with their covariance); coefficients
    with profile likelihood intervals; the conditional total variance and ICC of
    :func:`~cwsw.evaluation.effect_sizes.multisite_total_variance` and
    :func:`~cwsw.evaluation.effect_sizes.multisite_icc`, with Singh et al. (2022) g; the
    unconditional variances from outcome ~ 1 + (1 | cluster) with Hedges (2007) g, as the
    package computes them. Rows missing any used value are left out.
    Source: eefAnalytics 1.1.5 ``mstFREQ`` with default options.
    """
    trial, counts, groups = _clustered(data, outcome, intervention, cluster, covariates)
    both = len(counts.schools_with_both_arms)
    if both == 0:
        raise WrongDesign(
            f"no school in {cluster!r} has pupils in both arms: a multisite trial randomises "
            "within schools; use analyse_cluster_randomised_trial"
        )
    if both < 2:
        raise TooFewClusters(
            f"only {both} school in {cluster!r} has pupils in both arms: the school-by-"
            "intervention variance needs at least 2"
        )
    if 2 * counts.pupils - 4 * len(counts.schools) <= 0:
        raise TooFewPupils(
            f"{counts.pupils} pupils in {len(counts.schools)} schools: the multisite model "
            "needs more than 2 pupils per school on average"
        )
    z = np.column_stack([np.ones(len(trial.y)), trial.treated.astype(np.float64)])
    fit = _fit_reml(trial.y, trial.design, z, groups)
    g = fit.school_covariance
    var_pupil = fit.pupil_variance
    share_treated = counts.pupils_treated / counts.pupils
    school, slope, covariance = float(g[0, 0]), float(g[1, 1]), float(g[0, 1])
    total = multisite_total_variance(school, slope, covariance, var_pupil, share_treated)
    deviance = _ProfiledDeviance(trial.y, trial.design, z, groups)
    intervals = _profile_intervals(deviance, fit.theta, trial.names)
    null_school, null_pupil = _unconditional(trial.y, groups)
    null_icc = intraclass_correlation(null_school, null_pupil)
    beta = float(fit.fixed[1])
    return TrialAnalysis(
        design="multisite",
        reproduces="eefAnalytics 1.1.5 mstFREQ",
        outcome=outcome,
        intervention=intervention,
        cluster=cluster,
        covariates=tuple(covariates),
        pupils=counts.pupils,
        pupils_intervention=counts.pupils_treated,
        pupils_control=counts.pupils_control,
        schools=len(counts.schools),
        rows_excluded=trial.rows_excluded,
        coefficients=_coefficients(trial.names, fit.fixed, intervals),
        conditional_variance=VarianceComponents(
            school=school,
            treatment_slope=slope,
            school_slope_covariance=covariance,
            pupil=var_pupil,
            total=total,
            icc=multisite_icc(school, slope, covariance, total),
        ),
        unconditional_variance=VarianceComponents(
            school=null_school,
            pupil=null_pupil,
            total=null_school + null_pupil,
            icc=null_icc,
        ),
        conditional_effect=EffectSizes(
            within=hedges_g_within_multisite(beta, var_pupil, slope, counts),
            total=hedges_g_total_multisite(beta, total, var_pupil, slope, counts),
        ),
        unconditional_effect=EffectSizes(
            within=hedges_g_within_cluster_randomised(beta, null_pupil, null_icc, counts),
            total=hedges_g_total_cluster_randomised(
                beta, null_school + null_pupil, null_icc, counts
            ),
        ),
        school_effects=tuple(
            SchoolEffect(
                school=s,
                intercept=float(fit.random_effects[i, 0]),
                treatment_slope=float(fit.random_effects[i, 1]),
            )
            for i, s in enumerate(counts.schools)
        ),
        singular_fit=deviance.is_singular(fit.theta),
    )


def analyse_simple_randomised_trial(
    data: pd.DataFrame,
    outcome: str,
    intervention: str,
    covariates: Sequence[str] = (),
) -> TrialAnalysis:
    """A simple (pupil-level, single-level) randomised trial as eefAnalytics' ``srtFREQ``.

    outcome ~ intervention + covariates by OLS, coefficients with t intervals; Hedges' g with
    the residual SD (conditional) or the outcome's SD (unconditional) and the correction J
    (:func:`~cwsw.evaluation.effect_sizes.hedges_g_simple_randomised`). Rows missing any used
    value are left out. Source: eefAnalytics 1.1.5 ``srtFREQ`` with default options.
    """
    trial = _prepare(data, outcome, intervention, covariates, None)
    n, p = trial.design.shape
    if n <= max(p, 2):
        raise TooFewPupils(
            f"{n} pupils for {p} coefficients: the model needs more pupils than coefficients"
        )
    result = OLS(trial.y, trial.design).fit()
    intervals = np.asarray(result.conf_int(alpha=0.05), dtype=np.float64)
    residual = float(result.scale)
    outcome_variance = float(np.var(trial.y, ddof=1))
    n_t = int(trial.treated.sum())
    n_c = n - n_t
    beta = float(result.params[1])
    return TrialAnalysis(
        design="simple randomised",
        reproduces="eefAnalytics 1.1.5 srtFREQ",
        outcome=outcome,
        intervention=intervention,
        cluster=None,
        covariates=tuple(covariates),
        pupils=n,
        pupils_intervention=n_t,
        pupils_control=n_c,
        schools=None,
        rows_excluded=trial.rows_excluded,
        coefficients=_coefficients(
            trial.names,
            np.asarray(result.params, dtype=np.float64),
            [(float(lo), float(hi)) for lo, hi in intervals],
        ),
        conditional_variance=VarianceComponents(pupil=residual, total=residual),
        unconditional_variance=VarianceComponents(pupil=outcome_variance, total=outcome_variance),
        conditional_effect=EffectSizes(
            total=hedges_g_simple_randomised(beta, math.sqrt(residual), n_t, n_c)
        ),
        unconditional_effect=EffectSizes(
            total=hedges_g_simple_randomised(beta, math.sqrt(outcome_variance), n_t, n_c)
        ),
        school_effects=(),
        singular_fit=False,
    )


def _coefficients(
    names: tuple[str, ...], estimates: Array, intervals: Sequence[tuple[float, float]]
) -> tuple[Coefficient, ...]:
    return tuple(
        Coefficient(name=name, estimate=float(est), lower=float(lo), upper=float(hi))
        for name, est, (lo, hi) in zip(names, estimates, intervals, strict=True)
    )
