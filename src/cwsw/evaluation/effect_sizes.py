"""Hedges' g effect sizes for education trials, as the EEF's R package eefAnalytics computes them.

One function per definition, each naming its source. They take a model's estimates (the
intervention coefficient, variance components) and the trial's pupils per school and arm, and
return the effect size with its standard error and 95% confidence interval. The models that
give those estimates are in :mod:`cwsw.evaluation.mixed_models`; the formulas are set out in
docs/evaluation-effect-sizes.md.

Sources:

- eefAnalytics 1.1.5 (Uwimpuhwe, Zhang, Singh, Vallis, Einbeck, Higgins, Xiao, De Troyer and
  Kasim; CRAN, January 2025), functions ``crtFREQ``, ``srtFREQ`` and ``mstFREQ`` with their
  default options (intervals from standard errors, no bootstrap or permutation).
- Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. *Journal of Educational and
  Behavioral Statistics* 32(4), 341-370 (unequal cluster sizes).
- Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
  estimators. *Journal of Educational Statistics* 6(2), 107-128 (the correction J).
- Singh, A., Uwimpuhwe, G., Li, M., Einbeck, J., Higgins, S. and Kasim, A. (2022). Multisite
  educational trials: estimating the effect size and its confidence intervals. *International
  Journal of Research & Method in Education* 45(1), 18-38 (doi:10.1080/1743727X.2021.1882416).

The package calls every one of these "Hedges' g"; only the single-level one carries the
small-sample correction J, and the interval is always the estimate +- 1.96 standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from cwsw.errors import UserError

# eefAnalytics writes 1.96, not the normal quantile 1.959964...: keep its figure so that the
# intervals agree with the package to the last digit it prints.
Z_95 = 1.96


class TrialDataError(UserError):
    """Trial data that cannot give an effect size (the message says what to change)."""


class EmptyArm(TrialDataError):
    """One arm of the trial has no pupils with an outcome."""


class TooFewClusters(TrialDataError):
    """Too few schools (in an arm, or holding both arms) for the model or the effect size."""


class TooFewPupils(TrialDataError):
    """Too few pupils for the model's degrees of freedom."""


@dataclass(frozen=True)
class EffectSize:
    """An effect size with its standard error and its 95% interval (estimate +- 1.96 SE)."""

    estimate: float
    standard_error: float
    lower: float
    upper: float

    @classmethod
    def from_standard_error(cls, estimate: float, standard_error: float) -> EffectSize:
        return cls(
            estimate=estimate,
            standard_error=standard_error,
            lower=estimate - Z_95 * standard_error,
            upper=estimate + Z_95 * standard_error,
        )


@dataclass(frozen=True)
class SchoolArmCounts:
    """Pupils of each arm in each school, schools in sorted order (0 where a school has none).

    In Hedges (2007)'s notation ``treated`` holds the n_i^T of the schools with treated pupils
    and ``control`` the n_i^C; a multisite school appears in both.
    """

    schools: tuple[Hashable, ...]
    treated: tuple[int, ...]
    control: tuple[int, ...]

    @classmethod
    def from_pupils(cls, treated: Iterable[int], school: Iterable[Hashable]) -> SchoolArmCounts:
        """Count pupils by school and arm from one row per pupil (``treated`` is 0 or 1)."""
        counts: dict[Hashable, list[int]] = {}
        for arm, where in zip(treated, school, strict=True):
            counts.setdefault(where, [0, 0])[1 if arm == 1 else 0] += 1
        ordered = sorted(counts, key=_sort_key)
        return cls(
            schools=tuple(ordered),
            treated=tuple(counts[s][1] for s in ordered),
            control=tuple(counts[s][0] for s in ordered),
        )

    @property
    def pupils_treated(self) -> int:
        """N^T."""
        return sum(self.treated)

    @property
    def pupils_control(self) -> int:
        """N^C."""
        return sum(self.control)

    @property
    def pupils(self) -> int:
        """N."""
        return self.pupils_treated + self.pupils_control

    @property
    def schools_treated(self) -> int:
        """m^T: schools with at least one treated pupil."""
        return sum(1 for n in self.treated if n > 0)

    @property
    def schools_control(self) -> int:
        """m^C: schools with at least one control pupil."""
        return sum(1 for n in self.control if n > 0)

    @property
    def schools_with_both_arms(self) -> tuple[tuple[int, int], ...]:
        """(n_i^T, n_i^C) of each school holding pupils of both arms (the multisite blocks)."""
        return tuple((t, c) for t, c in zip(self.treated, self.control, strict=True) if t and c)


def _sort_key(value: Hashable) -> tuple[int, float | str]:
    """Numbers in numeric order, then anything else by its text: deterministic for mixed IDs."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def _check_arms(counts: SchoolArmCounts) -> None:
    if counts.pupils_treated == 0 or counts.pupils_control == 0:
        empty = "intervention" if counts.pupils_treated == 0 else "control"
        raise EmptyArm(f"the {empty} arm has no pupils with an outcome: an effect size needs both")


def _hedges_n_tilde(counts: SchoolArmCounts) -> float:
    """Hedges (2007) ñ, the cluster size that weights the design effect when sizes differ."""
    n_t, n_c, n = counts.pupils_treated, counts.pupils_control, counts.pupils
    sum_sq_t = sum(k * k for k in counts.treated)
    sum_sq_c = sum(k * k for k in counts.control)
    return n_c * sum_sq_t / (n_t * n) + n_t * sum_sq_c / (n_c * n)


def hedges_g_within_cluster_randomised(
    beta: float, within_variance: float, icc: float, counts: SchoolArmCounts
) -> EffectSize:
    """Hedges' g on the within-school variance of a cluster randomised trial, d_W.

    d_W = beta / sigma_W, with variance (Hedges 2007, eq. for d_W with unequal cluster sizes)

        (N^T + N^C) / (N^T N^C) * (1 + (ñ - 1) rho) / (1 - rho) + d_W^2 / (2 (N - M)),
        ñ = N^C sum (n_i^T)^2 / (N^T N) + N^T sum (n_i^C)^2 / (N^C N),

    where rho is the ICC and M = m^T + m^C the schools of each arm (counted once per arm, as
    eefAnalytics' ``crtFREQ`` does, which also applies this to the unconditional multisite g).
    Source: Hedges (2007); eefAnalytics 1.1.5 ``crtFREQ``. No small-sample correction.
    """
    _check_arms(counts)
    n = counts.pupils
    m = counts.schools_treated + counts.schools_control
    if n - m <= 0:
        raise TooFewPupils(
            f"{n} pupils in {m} school arms leave no within-school degrees of freedom: "
            "d_W needs more pupils than school arms"
        )
    if not 0 <= icc < 1:
        raise TrialDataError(f"an ICC of {icc:.3g} leaves no within-school variance")
    d_w = beta / math.sqrt(within_variance)
    n_t, n_c = counts.pupils_treated, counts.pupils_control
    variance = ((n_t + n_c) / (n_t * n_c)) * (1 + (_hedges_n_tilde(counts) - 1) * icc) / (
        1 - icc
    ) + d_w**2 / (2 * (n - m))
    return EffectSize.from_standard_error(d_w, math.sqrt(variance))


def hedges_g_total_cluster_randomised(
    beta: float, total_variance: float, icc: float, counts: SchoolArmCounts
) -> EffectSize:
    """Hedges' g on the total variance of a cluster randomised trial, d_T (unequal sizes).

    d_T = beta / sigma_T * sqrt(1 - rho ((N - ñ_U^T m^T - ñ_U^C m^C) + ñ_U^T + ñ_U^C - 2)
    / (N - 2)), with ñ_U = (N^2 - sum n_i^2) / (N (m - 1)) per arm, and variance

        (N^T + N^C) / (N^T N^C) (1 + (ñ - 1) rho)
        + [(N - 2)(1 - rho)^2 + A rho^2 + 2 B rho (1 - rho)] d_T^2
          / [2 (N - 2)((N - 2) - rho (N - 2 - B))],

    B = ñ_U^T (m^T - 1) + ñ_U^C (m^C - 1), A = A^T + A^C,
    A^T = [(N^T)^2 sum (n_i^T)^2 + (sum (n_i^T)^2)^2 - 2 N^T sum (n_i^T)^3] / (N^T)^2.
    Source: Hedges (2007), unequal cluster sizes; eefAnalytics 1.1.5 ``crtFREQ``.
    """
    _check_arms(counts)
    m_t, m_c = counts.schools_treated, counts.schools_control
    if m_t < 2 or m_c < 2:
        raise TooFewClusters(
            f"the total-variance effect size needs at least 2 schools in each arm; "
            f"found {m_t} intervention and {m_c} control"
        )
    n_t, n_c, n = counts.pupils_treated, counts.pupils_control, counts.pupils
    sq_t = sum(k * k for k in counts.treated)
    sq_c = sum(k * k for k in counts.control)
    cube_t = sum(k**3 for k in counts.treated)
    cube_c = sum(k**3 for k in counts.control)
    n_u_t = (n_t**2 - sq_t) / (n_t * (m_t - 1))
    n_u_c = (n_c**2 - sq_c) / (n_c * (m_c - 1))
    shrink = 1 - icc * ((n - n_u_t * m_t - n_u_c * m_c) + n_u_t + n_u_c - 2) / (n - 2)
    d_t = beta / math.sqrt(total_variance) * math.sqrt(shrink)
    b = n_u_t * (m_t - 1) + n_u_c * (m_c - 1)
    a = (n_t**2 * sq_t + sq_t**2 - 2 * n_t * cube_t) / n_t**2 + (
        n_c**2 * sq_c + sq_c**2 - 2 * n_c * cube_c
    ) / n_c**2
    variance = ((n_t + n_c) / (n_t * n_c)) * (1 + (_hedges_n_tilde(counts) - 1) * icc) + (
        (n - 2) * (1 - icc) ** 2 + a * icc**2 + 2 * b * icc * (1 - icc)
    ) * d_t**2 / (2 * (n - 2) * ((n - 2) - icc * (n - 2 - b)))
    return EffectSize.from_standard_error(d_t, math.sqrt(variance))


def _multisite_blocks(counts: SchoolArmCounts) -> tuple[list[float], int, int]:
    """The harmonic block sizes n_i^T n_i^C / n_i of the schools holding both arms, N and M."""
    _check_arms(counts)
    blocks = [t * c / (t + c) for t, c in counts.schools_with_both_arms]
    if not blocks:
        raise TooFewClusters(
            "no school holds pupils of both arms: a multisite effect size needs at least one"
        )
    n, m = counts.pupils, len(counts.schools)
    if 2 * n - 4 * m <= 0:
        raise TooFewPupils(
            f"{n} pupils in {m} schools: the multisite effect size needs more than 2 pupils "
            "per school on average (2N - 4M > 0)"
        )
    return blocks, n, m


def hedges_g_within_multisite(
    beta: float, within_variance: float, slope_variance: float, counts: SchoolArmCounts
) -> EffectSize:
    """Hedges' g on the within-school variance of a multisite trial.

    g = beta / sigma_W, with variance

        1 / sum_i [sigma_W^2 / (sigma_b1^2 + sigma_W^2 / ñ_i)] + g^2 / (2N - 4M),

    summed over the schools holding both arms, ñ_i = n_i^T n_i^C / (n_i^T + n_i^C),
    sigma_b1^2 the variance of the school-by-intervention random slope, M all schools.
    Source: Singh et al. (2022); eefAnalytics 1.1.5 ``mstFREQ``.
    """
    blocks, n, m = _multisite_blocks(counts)
    g = beta / math.sqrt(within_variance)
    information = sum(within_variance / (slope_variance + within_variance / k) for k in blocks)
    return EffectSize.from_standard_error(g, math.sqrt(1 / information + g**2 / (2 * n - 4 * m)))


def hedges_g_total_multisite(
    beta: float,
    total_variance: float,
    within_variance: float,
    slope_variance: float,
    counts: SchoolArmCounts,
) -> EffectSize:
    """Hedges' g on the total variance of a multisite trial.

    g = beta / sigma_T, with variance

        1 / sum_i [sigma_T^2 / (sigma_b1^2 + sigma_W^2 / ñ_i)] + g^2 / (2N - 4M),

    as :func:`hedges_g_within_multisite` with the total variance of
    :func:`multisite_total_variance` in the numerator.
    Source: Singh et al. (2022); eefAnalytics 1.1.5 ``mstFREQ``.
    """
    blocks, n, m = _multisite_blocks(counts)
    g = beta / math.sqrt(total_variance)
    information = sum(total_variance / (slope_variance + within_variance / k) for k in blocks)
    return EffectSize.from_standard_error(g, math.sqrt(1 / information + g**2 / (2 * n - 4 * m)))


def hedges_g_simple_randomised(
    beta: float, standard_deviation: float, n_treated: int, n_control: int
) -> EffectSize:
    """Hedges' g of a single-level (simple) randomised trial.

    d = beta / sigma; var(d) = (n_T + n_C) / (n_T n_C) + d^2 / (2 (n_T + n_C));
    g = J d and SE(g) = J sqrt(var(d)) with J = 1 - 3 / (4 (n_T + n_C - 2) - 1).
    sigma is the residual SD of the adjusted model (conditional) or the outcome's SD
    (unconditional). Source: Hedges (1981) for J; eefAnalytics 1.1.5 ``srtFREQ``.
    """
    if n_treated == 0 or n_control == 0:
        empty = "intervention" if n_treated == 0 else "control"
        raise EmptyArm(f"the {empty} arm has no pupils with an outcome: an effect size needs both")
    n = n_treated + n_control
    if n <= 2:
        raise TooFewPupils(f"{n} pupils: Hedges' g needs at least 3 (its correction uses N - 2)")
    d = beta / standard_deviation
    variance_d = n / (n_treated * n_control) + d**2 / (2 * n)
    j = 1 - 3 / (4 * (n - 2) - 1)
    return EffectSize.from_standard_error(j * d, j * math.sqrt(variance_d))


def intraclass_correlation(school_variance: float, pupil_variance: float) -> float:
    """ICC = sigma_B^2 / (sigma_B^2 + sigma_W^2) of a random-intercept model.

    Source: eefAnalytics 1.1.5 ``crtFREQ`` (conditional and unconditional ``covParm``).
    """
    return school_variance / (school_variance + pupil_variance)


def multisite_total_variance(
    school_variance: float,
    slope_variance: float,
    school_slope_covariance: float,
    pupil_variance: float,
    share_treated: float,
) -> float:
    """The total variance of a multisite model with a school-by-intervention random slope.

    sigma_T^2 = sigma_b0^2 + sigma_W^2 + (N^T / N)(sigma_b1^2 + 2 sigma_b01): the variance of an
    outcome averaged over the arms in proportion to their pupils. Source: eefAnalytics 1.1.5
    ``mstFREQ`` (``var.tt``).
    """
    return (
        school_variance
        + pupil_variance
        + share_treated * (slope_variance + 2 * school_slope_covariance)
    )


def multisite_icc(
    school_variance: float, slope_variance: float, school_slope_covariance: float, total: float
) -> float:
    """The conditional ICC eefAnalytics reports for a multisite trial.

    (sigma_b0^2 + sigma_b1^2 + 2 sigma_b01) / sigma_T^2: every element of the school random
    effects' covariance matrix over the total of :func:`multisite_total_variance`, i.e. the
    share of variance between schools for a treated pupil's outcome, over the arm-averaged
    total. Source: eefAnalytics 1.1.5 ``mstFREQ`` (``ICC1 = sum(var.B2)/var.tt``).
    """
    return (school_variance + slope_variance + 2 * school_slope_covariance) / total
