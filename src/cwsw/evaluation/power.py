"""Power and minimum detectable effects for cluster randomised trials of schools.

One function per published formula, each naming its source; ``docs/evaluation-design.md``
sets them side by side. Effect sizes for continuous outcomes are in standard deviations of the
outcome (total variance, between plus within clusters, before covariates), as Bloom and the
EEF report them. Rates are events per person-year (for schools: per pupil-year).

Every formula here is checked in ``tests/evaluation/test_power.py`` against a simulation of
the design it describes (simulate, fit, count rejections); ``benchmarks/trial_power.py``
prints the same comparison with more replicates.
"""

from __future__ import annotations

import math
import numbers

from scipy import stats

from cwsw.errors import UserError


class DesignError(UserError):
    """A trial design that the formulas cannot describe (an ICC of 1, one cluster in an arm,
    a rate of zero, ...); the message names the input and what to give instead."""


# ---------------------------------------------------------------------------------------------
# Checks on inputs: one line each, naming the argument.


def _finite(name: str, value: float) -> float:
    # numbers.Real takes numpy's numbers too (a count read by pandas is a numpy integer).
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise DesignError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def _icc(icc: float) -> float:
    icc = _finite("icc", icc)
    if not 0.0 <= icc < 1.0:
        raise DesignError(
            f"icc must be at least 0 and below 1, not {icc:g}: give the share of "
            "the outcome's variance that lies between clusters"
        )
    return icc


def _share(name: str, value: float, what: str) -> float:
    value = _finite(name, value)
    if not 0.0 <= value < 1.0:
        raise DesignError(f"{name} must be at least 0 and below 1, not {value:g}: {what}")
    return value


def _probability(name: str, value: float) -> float:
    value = _finite(name, value)
    if not 0.0 < value < 1.0:
        raise DesignError(f"{name} must lie strictly between 0 and 1, not {value:g}")
    return value


def _at_least(name: str, value: float, low: float, what: str) -> float:
    value = _finite(name, value)
    if value < low:
        raise DesignError(f"{name} must be at least {low:g}, not {value:g}: {what}")
    return value


def _positive(name: str, value: float, what: str) -> float:
    value = _finite(name, value)
    if value <= 0.0:
        raise DesignError(f"{name} must be above 0, not {value:g}: {what}")
    return value


def _clusters(clusters: float, proportion_treated: float) -> tuple[float, float]:
    """The total number of clusters and the share treated, checked to leave at least two
    clusters in each arm (fewer leaves no between-cluster variance to test against)."""
    clusters = _finite("clusters", clusters)
    proportion_treated = _probability("proportion_treated", proportion_treated)
    smaller_arm = clusters * min(proportion_treated, 1.0 - proportion_treated)
    if smaller_arm < 2.0 - 1e-9:
        raise DesignError(
            f"{clusters:g} clusters with {proportion_treated:g} treated leaves "
            f"{smaller_arm:g} in the smaller arm: a cluster trial needs at least 2 clusters per arm"
        )
    return clusters, proportion_treated


# ---------------------------------------------------------------------------------------------
# Design effects.


def design_effect(cluster_size: float, icc: float) -> float:
    """The design effect of randomising clusters of equal size ``m``: ``1 + (m − 1)·ICC``.

    The factor by which clustering inflates the variance of a mean (and so the sample size
    needed) over an individually randomised trial of the same number of people.
    Sources: Kish (1965), *Survey Sampling* (Wiley); Donner, Birkett & Buck (1981),
    "Randomization by cluster: sample size requirements and analysis", Am J Epidemiol
    114:906–914.
    """
    cluster_size = _at_least("cluster_size", cluster_size, 1.0, "give pupils per school")
    return 1.0 + (cluster_size - 1.0) * _icc(icc)


def design_effect_unequal(mean_cluster_size: float, cv: float, icc: float) -> float:
    """The design effect with unequal cluster sizes: ``1 + ((1 + CV²)·m̄ − 1)·ICC``.

    ``cv`` is the coefficient of variation of cluster size (standard deviation over mean;
    work it out from the schools that will take part). Exact for the comparison of arm means
    weighted by cluster size (each pupil counts once), where it equals
    ``1 + (Σm²/Σm − 1)·ICC`` with the standard deviation taken over the clusters themselves
    (divisor J); conservative for an analysis with minimum-variance weights such as a mixed model.
    Sources: Eldridge, Ashby & Kerry (2006), "Sample size for cluster randomized trials:
    effect of coefficient of variation of cluster size and analysis method", Int J Epidemiol
    35:1292–1300; Kerry & Bland (2001), "Unequal cluster sizes for trials in English and Welsh
    general practice: implications for sample size calculations", Stat Med 20:377–390.
    """
    mean_cluster_size = _at_least(
        "mean_cluster_size", mean_cluster_size, 1.0, "give the mean pupils per school"
    )
    cv = _finite("cv", cv)
    if cv < 0.0:
        raise DesignError(f"cv must be at least 0, not {cv:g}: give the cluster sizes' SD / mean")
    return 1.0 + ((1.0 + cv * cv) * mean_cluster_size - 1.0) * _icc(icc)


def power_with_design_effect(
    effect_size: float,
    clusters_per_arm: float,
    mean_cluster_size: float,
    icc: float,
    *,
    cv: float = 0.0,
    alpha: float = 0.05,
) -> float:
    """Power of a two-arm cluster trial from its design effect: the power of comparing two
    means with ``clusters_per_arm × mean_cluster_size`` people per arm, the variance of the
    difference inflated by :func:`design_effect_unequal` (:func:`design_effect` when ``cv`` is
    0), two-sided, from the noncentral t distribution with ``2·clusters_per_arm − 2`` degrees
    of freedom (the clusters, not the pupils, carry the between-cluster variance).

    Sources: Eldridge, Ashby & Kerry (2006), Int J Epidemiol 35:1292–1300 (the variance of
    an individually randomised comparison times the design effect); the t rather than the
    normal distribution, for few clusters, as in Donner & Klar (2000), *Design and Analysis
    of Cluster Randomization Trials in Health Research* (Arnold). With ``cv`` 0 it is
    :func:`power_for_effect_size` with half the clusters treated and no covariates.
    """
    effect_size = _finite("effect_size", effect_size)
    clusters_per_arm = _at_least(
        "clusters_per_arm", clusters_per_arm, 2.0, "a cluster trial needs at least 2 per arm"
    )
    inflation = design_effect_unequal(mean_cluster_size, cv, icc)
    alpha = _probability("alpha", alpha)
    people_per_arm = clusters_per_arm * mean_cluster_size
    standard_error = math.sqrt(inflation * 2.0 / people_per_arm)
    return _two_sided_t_power(effect_size / standard_error, 2.0 * clusters_per_arm - 2.0, alpha)


def _two_sided_t_power(noncentrality: float, df: float, alpha: float) -> float:
    """P(|T| > t_{1−α/2, df}) for T noncentral t with ``df`` and ``noncentrality``."""
    critical = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    noncentrality = abs(noncentrality)
    upper = float(stats.nct.sf(critical, df, noncentrality))
    # The far tail by symmetry, P(T_λ < −c) = P(T_−λ > c): scipy's nct.cdf returns NaN
    # there for large λ.
    lower = float(stats.nct.sf(critical, df, -noncentrality))
    return upper + lower


# ---------------------------------------------------------------------------------------------
# Minimum detectable effect size (Bloom).


def bloom_multiplier(
    df: float, *, alpha: float = 0.05, power: float = 0.8, two_sided: bool = True
) -> float:
    """The MDES multiplier ``M = t_{1−α/2} + t_{power}`` on ``df`` degrees of freedom
    (``t_{1−α}`` for a one-sided test): the minimum detectable effect is M standard errors.

    About 2.80 for large df at α = 0.05 (two-sided) and 80% power, 2.49 one-sided, 3.24 at
    90% power. Sources: Bloom (1995), "Minimum detectable effects: a simple way to report the
    statistical power of experimental designs", Evaluation Review 19:547–556 (its table of
    multipliers); Bloom (2005), "Randomizing groups to evaluate place-based programs", ch. 4
    of *Learning More from Social Experiments* (Russell Sage).
    """
    df = _positive("df", df, "it is clusters − 2 − cluster-level covariates; add clusters")
    alpha = _probability("alpha", alpha)
    power = _probability("power", power)
    tail = alpha / 2.0 if two_sided else alpha
    return float(stats.t.ppf(1.0 - tail, df) + stats.t.ppf(power, df))


def _standard_error_of_impact(
    clusters: float,
    cluster_size: float,
    icc: float,
    proportion_treated: float,
    r2_level1: float,
    r2_level2: float,
) -> float:
    """Bloom's standard error of the impact estimate in effect-size units (σ² = 1)."""
    icc = _icc(icc)
    clusters, proportion_treated = _clusters(clusters, proportion_treated)
    cluster_size = _at_least("cluster_size", cluster_size, 1.0, "give pupils per school")
    r2_level1 = _share(
        "r2_level1", r2_level1, "give the share of within-school variance pupil covariates explain"
    )
    r2_level2 = _share(
        "r2_level2",
        r2_level2,
        "give the share of between-school variance school covariates explain",
    )
    allocation = proportion_treated * (1.0 - proportion_treated) * clusters
    variance = icc * (1.0 - r2_level2) / allocation + (1.0 - icc) * (1.0 - r2_level1) / (
        allocation * cluster_size
    )
    return math.sqrt(variance)


def _degrees_of_freedom(clusters: float, cluster_covariates: int) -> float:
    if isinstance(cluster_covariates, bool) or not isinstance(cluster_covariates, numbers.Integral):
        raise DesignError(f"cluster_covariates must be a whole number, not {cluster_covariates!r}")
    if cluster_covariates < 0:
        raise DesignError(f"cluster_covariates must be at least 0, not {cluster_covariates}")
    df = clusters - 2.0 - cluster_covariates
    if df < 1.0:
        raise DesignError(
            f"{clusters:g} clusters with {cluster_covariates} school-level covariates leave "
            f"{df:g} degrees of freedom: add clusters or drop covariates"
        )
    return df


def minimum_detectable_effect_size(
    clusters: float,
    cluster_size: float,
    icc: float,
    *,
    proportion_treated: float = 0.5,
    r2_level1: float = 0.0,
    r2_level2: float = 0.0,
    cluster_covariates: int = 0,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
) -> float:
    """The minimum detectable effect size of a two-level cluster randomised design:

    ``MDES = M_{J−g−2} · √( ICC·(1 − R₂²) / (P(1−P)J) + (1 − ICC)·(1 − R₁²) / (P(1−P)Jn) )``

    with ``J`` clusters in all (``clusters``), ``n`` people per cluster, a share ``P`` of the
    clusters treated, ``g`` cluster-level covariates explaining a share ``R₂²`` of the
    between-cluster variance and individual covariates explaining ``R₁²`` of the within-cluster
    variance, and ``M`` the :func:`bloom_multiplier` on ``J − g − 2`` degrees of freedom.
    For unequal cluster sizes use the harmonic mean for ``n`` (Dong & Maynard 2013).

    The formula treats the covariates as balanced between the arms; chance imbalance in a
    randomised trial costs a little power, about a point with one school-level covariate and
    40 clusters (``docs/evaluation-design.md``).

    Sources: Bloom (2005), "Randomizing groups to evaluate place-based programs", ch. 4 of
    *Learning More from Social Experiments* (Russell Sage); Bloom, Richburg-Hayes & Black
    (2007), "Using covariates to improve precision for studies that randomize schools to
    evaluate educational interventions", Educ Eval Policy Anal 29:30–59; the same formula as
    PowerUp! (Dong & Maynard 2013, J Res Educ Eff 6:24–67, design CRA2_2).
    """
    standard_error = _standard_error_of_impact(
        clusters, cluster_size, icc, proportion_treated, r2_level1, r2_level2
    )
    df = _degrees_of_freedom(float(clusters), cluster_covariates)
    return bloom_multiplier(df, alpha=alpha, power=power, two_sided=two_sided) * standard_error


def power_for_effect_size(
    effect_size: float,
    clusters: float,
    cluster_size: float,
    icc: float,
    *,
    proportion_treated: float = 0.5,
    r2_level1: float = 0.0,
    r2_level2: float = 0.0,
    cluster_covariates: int = 0,
    alpha: float = 0.05,
    two_sided: bool = True,
) -> float:
    """The power to detect ``effect_size`` in the design of :func:`minimum_detectable_effect_size`
    (the same arguments): the probability that the impact's t statistic, noncentral t on
    ``J − g − 2`` degrees of freedom with noncentrality ``effect_size / SE``, passes the
    critical value (either tail for a two-sided test).

    This is the exact power of the cluster-level analysis of equal clusters without
    covariates (with covariates, as if they were balanced between the arms), as Optimal
    Design and PowerUp! compute it; Bloom's MDES inverts it with the central-t approximation
    ``M = t_{1−α/2} + t_{power}``, so the power at the MDES is within about a point of the
    power asked for once there are ten or more clusters.
    Sources: Raudenbush (1997), "Statistical analysis and optimal design for cluster randomized
    trials", Psychol Methods 2:173–185; Spybrook et al. (2011), *Optimal Design Plus Empirical
    Evidence* documentation, ch. 7; Dong & Maynard (2013), J Res Educ Eff 6:24–67.
    """
    effect_size = _finite("effect_size", effect_size)
    standard_error = _standard_error_of_impact(
        clusters, cluster_size, icc, proportion_treated, r2_level1, r2_level2
    )
    df = _degrees_of_freedom(float(clusters), cluster_covariates)
    alpha = _probability("alpha", alpha)
    # The size of the effect, not its sign: a one-sided test looks in the effect's direction.
    noncentrality = abs(effect_size) / standard_error
    if two_sided:
        return _two_sided_t_power(noncentrality, df, alpha)
    return float(stats.nct.sf(float(stats.t.ppf(1.0 - alpha, df)), df, noncentrality))


# ---------------------------------------------------------------------------------------------
# Rates: Hayes & Bennett.


def _rate_design(
    rate_control: float, rate_intervention: float, person_years_per_cluster: float, cv: float
) -> tuple[float, float]:
    """The squared difference in rates and Hayes & Bennett's variance term
    ``(λ₀ + λ₁)/y + k²(λ₀² + λ₁²)`` (the variance of a cluster's observed rate, summed
    over the two arms)."""
    what = "give events per person-year (per pupil-year)"
    rate_control = _positive("rate_control", rate_control, what)
    rate_intervention = _positive("rate_intervention", rate_intervention, what)
    if rate_control == rate_intervention:
        raise DesignError(
            "rate_control and rate_intervention are equal: give the rate the intervention is "
            "expected to bring about"
        )
    person_years = _positive(
        "person_years_per_cluster",
        person_years_per_cluster,
        "give pupils per school times years of follow-up",
    )
    cv = _finite("cv", cv)
    if cv < 0.0:
        raise DesignError(f"cv must be at least 0, not {cv:g}: give the between-school SD / mean")
    variance = (rate_control + rate_intervention) / person_years + cv * cv * (
        rate_control**2 + rate_intervention**2
    )
    return (rate_control - rate_intervention) ** 2, variance


def clusters_per_arm_for_rates(
    rate_control: float,
    rate_intervention: float,
    person_years_per_cluster: float,
    cv: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Hayes & Bennett's number of clusters per arm to compare two rates:

    ``c = 1 + (z_{1−α/2} + z_{power})² · [(λ₀ + λ₁)/y + k²(λ₀² + λ₁²)] / (λ₀ − λ₁)²``

    with ``y`` person-years of follow-up per cluster and ``k`` the coefficient of variation
    (SD / mean) of the true rates between clusters within each arm. The answer is not
    rounded: recruit ``math.ceil`` of it. The added 1 is Hayes & Bennett's allowance for
    analysing few clusters by a t-test on cluster rates rather than a normal test.
    Sources: Hayes & Bennett (1999), "Simple sample size calculation for cluster-randomized
    trials", Int J Epidemiol 28:319–326 (unmatched trials, rates per person-year); Hayes &
    Moulton (2017), *Cluster Randomised Trials*, 2nd ed. (CRC Press).
    """
    alpha = _probability("alpha", alpha)
    power = _probability("power", power)
    squared_difference, variance = _rate_design(
        rate_control, rate_intervention, person_years_per_cluster, cv
    )
    z = float(stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power))
    return 1.0 + z * z * variance / squared_difference


def power_for_rates(
    clusters_per_arm: float,
    rate_control: float,
    rate_intervention: float,
    person_years_per_cluster: float,
    cv: float,
    *,
    alpha: float = 0.05,
) -> float:
    """The power of a two-arm cluster trial comparing rates with ``clusters_per_arm`` clusters
    in each arm: Hayes & Bennett's formula (:func:`clusters_per_arm_for_rates`) solved for the
    power, ``Φ( √((c − 1)(λ₀ − λ₁)² / [(λ₀ + λ₁)/y + k²(λ₀² + λ₁²)]) − z_{1−α/2} )``.

    Source: Hayes & Bennett (1999), Int J Epidemiol 28:319–326, solved for the power (as R's
    clusterPower ``crtpwr.2rate`` does).
    """
    clusters_per_arm = _at_least(
        "clusters_per_arm", clusters_per_arm, 2.0, "a cluster trial needs at least 2 per arm"
    )
    alpha = _probability("alpha", alpha)
    squared_difference, variance = _rate_design(
        rate_control, rate_intervention, person_years_per_cluster, cv
    )
    signal = math.sqrt((clusters_per_arm - 1.0) * squared_difference / variance)
    return float(stats.norm.cdf(signal - stats.norm.ppf(1.0 - alpha / 2.0)))
