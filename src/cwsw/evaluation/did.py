"""Difference-in-differences for pilots, staggered starts and interrupted time series.

Three designs for the quantitative half of a pilot evaluation
(docs/evaluation-quasi-experimental.md):

- :func:`two_by_two_did` and :func:`panel_did`: the classic comparison of supported children
  with a comparison group before and after a common start, for a child-level outcome
  (attendance %, persistent absence 0/1 as a linear probability, suspensions as a count), by
  least squares with standard errors clustered by child or by school (statsmodels).
- :func:`callaway_santanna`: staggered starts, Callaway and Sant'Anna (2021)'s group-time
  average treatment effects ATT(g,t) and their simple, dynamic (event-study) and group
  aggregations, computed by the pinned package ``moderndid`` (a port of R's ``did``) behind the
  frozen dataclasses here, so that nothing else in cwsw sees the package.
- :func:`interrupted_time_series`: segmented regression on weekly or termly attendance with
  term seasonality and Newey-West standard errors.

Every estimate is on the outcome's own scale (percentage points, a difference in proportions,
suspensions per child). Input a user can fix raises :class:`DidInputError` (a
:class:`cwsw.errors.UserError`) with one line naming the column, value or count.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from cwsw.errors import UserError

# The fewest clusters (children or schools) an arm may have for a cluster-robust standard
# error to be computed at all; far more are needed for it to be trustworthy (docs).
MIN_CLUSTERS_PER_ARM = 2


class DidInputError(UserError):
    """Data that cannot give a difference-in-differences estimate as asked (a missing column,
    an empty cell, too few clusters, ...); the message names it and says what to do."""


# --------------------------------------------------------------------------------------------
# Classic difference-in-differences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoByTwoSpec:
    """Columns of a two-group, two-period comparison: one row per child per period.

    ``treated`` is 1 for a supported child and 0 for a comparison child (fixed for a child);
    ``after`` is 1 for the period after the start and 0 for the baseline. ``cluster`` names the
    column to cluster standard errors by (default: ``unit``, the child); it must be fixed for
    a child, e.g. the school at baseline.
    """

    outcome: str
    unit: str
    treated: str
    after: str
    cluster: str | None = None
    alpha: float = 0.05


@dataclass(frozen=True)
class PanelSpec:
    """Columns of a panel comparison with a common start: one row per child per period.

    ``period`` holds numbers in time order (academic years, terms numbered in order); periods
    at or after ``start`` are after the start. ``treated`` and ``cluster`` as in
    :class:`TwoByTwoSpec`.
    """

    outcome: str
    unit: str
    period: str
    treated: str
    start: float
    cluster: str | None = None
    alpha: float = 0.05


@dataclass(frozen=True)
class CellMeans:
    """The four means of a two-by-two design, and the naive before/after change of the
    supported children beside the difference-in-differences."""

    treated_before: float
    treated_after: float
    comparison_before: float
    comparison_after: float

    @property
    def naive_before_after(self) -> float:
        """The supported children's change alone: biased by any common trend and by regression
        to the mean when support was given on need."""
        return self.treated_after - self.treated_before

    @property
    def difference_in_differences(self) -> float:
        return (self.treated_after - self.treated_before) - (
            self.comparison_after - self.comparison_before
        )


@dataclass(frozen=True)
class DidEstimate:
    """A difference-in-differences estimate with its cluster-robust interval.

    The interval and p-value use Student's t with (clusters - 1) degrees of freedom and the
    CR1 small-sample factor, as Stata's ``vce(cluster)``.
    """

    design: str
    outcome: str
    effect: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float
    alpha: float
    cluster: str
    n_clusters: int
    n_units: int
    n_observations: int
    means: CellMeans | None


def two_by_two_did(data: pd.DataFrame, spec: TwoByTwoSpec) -> DidEstimate:
    """The two-group, two-period difference-in-differences: the coefficient of
    treated x after in ``outcome ~ treated + after + treated:after`` by ordinary least squares,
    which equals the difference of the four cell means, with standard errors clustered by
    ``spec.cluster`` (default the child).

    Source: Angrist, J. D. and Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, ch. 5
    (the regression form of the 2x2 design); Cameron, A. C. and Miller, D. L. (2015). A
    practitioner's guide to cluster-robust inference. *Journal of Human Resources* 50(2),
    317-372 (CR1 standard errors, t with G - 1 degrees of freedom).
    """
    cluster = spec.cluster or spec.unit
    frame = _columns(data, (spec.outcome, spec.unit, spec.treated, spec.after, cluster))
    _check_alpha(spec.alpha)
    _numeric(frame, spec.outcome)
    treated = _binary(frame, spec.treated)
    after = _binary(frame, spec.after)
    _fixed_within_unit(frame, spec.unit, spec.treated)
    if cluster != spec.unit:
        _fixed_within_unit(frame, spec.unit, cluster)
    means = _cell_means(frame[spec.outcome].to_numpy(float), treated, after, spec.treated)
    _clusters_per_arm(frame[cluster], treated, spec.treated, cluster)

    y = frame[spec.outcome].to_numpy(float)
    design = np.column_stack([np.ones(len(y)), treated, after, treated * after])
    return _ols_clustered(
        y,
        design,
        term=3,
        clusters=frame[cluster],
        alpha=spec.alpha,
        label="two-by-two difference-in-differences",
        outcome=spec.outcome,
        cluster_name=cluster,
        n_units=int(frame[spec.unit].nunique()),
        means=means,
    )


def panel_did(data: pd.DataFrame, spec: PanelSpec) -> DidEstimate:
    """Difference-in-differences over several periods with a common start: child and period
    fixed effects, ``outcome_it = a_i + l_t + d * treated_i * [t >= start] + e_it``, by least
    squares after removing each child's mean (within transformation, exact for unbalanced
    panels by the Frisch-Waugh-Lovell theorem), standard errors clustered by ``spec.cluster``
    (default the child). Children seen in one period only carry no information and are left
    out. With two periods and every child in both, ``d`` is the two-by-two difference of means.

    Source: Wooldridge, J. M. (2010). *Econometric Analysis of Cross Section and Panel Data*,
    2nd ed., ch. 10 (fixed effects) and ch. 6 (difference-in-differences); the
    cluster-robust factor counts the regressors but not the absorbed child effects, which are
    nested in the clusters (as Stata's ``xtreg, fe vce(cluster)``; Cameron and Miller 2015).
    Staggered starts need :func:`callaway_santanna` instead (Goodman-Bacon 2021).
    """
    cluster = spec.cluster or spec.unit
    frame = _columns(data, (spec.outcome, spec.unit, spec.period, spec.treated, cluster))
    _check_alpha(spec.alpha)
    _numeric(frame, spec.outcome)
    _numeric(frame, spec.period)
    treated_all = _binary(frame, spec.treated)
    _fixed_within_unit(frame, spec.unit, spec.treated)
    if cluster != spec.unit:
        _fixed_within_unit(frame, spec.unit, cluster)
    if frame.duplicated([spec.unit, spec.period]).any():
        raise DidInputError(
            f"column {spec.period!r}: a child has two rows for one period; give one row per "
            "child per period"
        )
    seen = frame.groupby(spec.unit, sort=True)[spec.period].transform("size").to_numpy()
    frame = frame.loc[seen >= 2].reset_index(drop=True)
    treated = treated_all[seen >= 2]
    after = (frame[spec.period].to_numpy(float) >= spec.start).astype(float)
    if after.all() or not after.any():
        raise DidInputError(
            f"column {spec.period!r}: every period is on one side of the start {spec.start}; "
            "give periods before and after it"
        )
    means = _cell_means(frame[spec.outcome].to_numpy(float), treated, after, spec.treated)
    _clusters_per_arm(frame[cluster], treated, spec.treated, cluster)

    periods = np.sort(frame[spec.period].unique())
    # Period dummies (the first is the reference) and the treatment indicator, then every
    # column less its child's mean: the child effects are absorbed, not estimated.
    columns = [(frame[spec.period].to_numpy() == p).astype(float) for p in periods[1:]]
    columns.append(treated * after)
    raw = np.column_stack([frame[spec.outcome].to_numpy(float), *columns])
    unit_codes = pd.factorize(frame[spec.unit], sort=True)[0]
    counts = np.bincount(unit_codes)
    unit_means = np.vstack(
        [np.bincount(unit_codes, weights=raw[:, j]) / counts for j in range(raw.shape[1])]
    ).T
    within = raw - unit_means[unit_codes]
    return _ols_clustered(
        within[:, 0],
        within[:, 1:],
        term=within.shape[1] - 2,
        clusters=frame[cluster],
        alpha=spec.alpha,
        label="panel difference-in-differences (child and period fixed effects)",
        outcome=spec.outcome,
        cluster_name=cluster,
        n_units=len(counts),
        means=means if len(periods) == 2 else None,
    )


def _ols_clustered(
    y: np.ndarray,
    design: np.ndarray,
    *,
    term: int,
    clusters: pd.Series,
    alpha: float,
    label: str,
    outcome: str,
    cluster_name: str,
    n_units: int,
    means: CellMeans | None,
) -> DidEstimate:
    codes = pd.factorize(clusters, sort=True)[0]
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise DidInputError(
            f"the treatment indicator for {outcome!r} cannot be separated from the periods "
            "(an empty cell); give both groups in both periods"
        )
    fit = sm.OLS(y, design).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    effect = float(fit.params[term])
    se = float(fit.bse[term])
    n_clusters = int(codes.max()) + 1
    t = float(stats.t.ppf(1 - alpha / 2, n_clusters - 1))
    return DidEstimate(
        design=label,
        outcome=outcome,
        effect=effect,
        std_error=se,
        ci_lower=effect - t * se,
        ci_upper=effect + t * se,
        p_value=float(2 * stats.t.sf(abs(effect / se), n_clusters - 1)) if se > 0 else math.nan,
        alpha=alpha,
        cluster=cluster_name,
        n_clusters=n_clusters,
        n_units=n_units,
        n_observations=len(y),
        means=means,
    )


def _cell_means(y: np.ndarray, treated: np.ndarray, after: np.ndarray, name: str) -> CellMeans:
    cells = {}
    for arm, arm_label in ((1.0, "supported"), (0.0, "comparison")):
        for when, when_label in ((0.0, "before"), (1.0, "after")):
            chosen = (treated == arm) & (after == when)
            if not chosen.any():
                raise DidInputError(
                    f"column {name!r}: no {arm_label} children are observed {when_label} the "
                    "start; both groups are needed before and after"
                )
            cells[(arm, when)] = float(y[chosen].mean())
    return CellMeans(
        treated_before=cells[(1.0, 0.0)],
        treated_after=cells[(1.0, 1.0)],
        comparison_before=cells[(0.0, 0.0)],
        comparison_after=cells[(0.0, 1.0)],
    )


def _clusters_per_arm(clusters: pd.Series, treated: np.ndarray, name: str, column: str) -> None:
    for arm, label in ((1.0, "supported"), (0.0, "comparison")):
        n = int(clusters[treated == arm].nunique())
        if n < MIN_CLUSTERS_PER_ARM:
            raise DidInputError(
                f"column {column!r}: the {label} group ({name}) has {n} cluster(s); at least "
                f"{MIN_CLUSTERS_PER_ARM} are needed for a cluster-robust standard error"
            )


# --------------------------------------------------------------------------------------------
# Staggered starts: Callaway and Sant'Anna (2021)
# --------------------------------------------------------------------------------------------

# The package and version behind callaway_santanna (pinned in pyproject.toml): the tests check
# its answers against R did's published output for mpdta before anything trusts it.
STAGGERED_PACKAGE = "moderndid"


@dataclass(frozen=True)
class StaggeredSpec:
    """A staggered-adoption panel: one row per unit (child) per period.

    ``first_treated`` is the period in which the unit's support began, 0 for a unit never
    supported in the data's window; it is fixed for a unit. ``period`` must hold whole numbers
    (academic years, or terms numbered in order). ``covariates`` are baseline characteristics
    (their values in the period before each comparison are used). ``control_group`` is
    ``"never_treated"`` (R did's default) or ``"not_yet_treated"``; ``method`` is ``"dr"``
    (doubly robust, the default), ``"ipw"`` or ``"reg"``.

    Standard errors are analytic, from the influence functions, clustered by unit. With
    ``cluster`` (e.g. the school, fixed for a unit) they come instead from the package's
    multiplier bootstrap clustered by it, with ``bootstrap_draws`` draws from ``seed``.
    """

    outcome: str
    unit: str
    period: str
    first_treated: str
    covariates: tuple[str, ...] = ()
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated"
    method: Literal["dr", "ipw", "reg"] = "dr"
    anticipation: int = 0
    alpha: float = 0.05
    cluster: str | None = None
    bootstrap_draws: int = 999
    seed: int | None = None


@dataclass(frozen=True)
class GroupTimeAtt:
    """ATT(g,t): the average effect in period ``period`` on the units first supported in
    ``group``; for ``period < group`` a placebo (pre-trend) estimate."""

    group: int
    period: int
    att: float
    std_error: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class AggregateEffect:
    """One aggregated effect; ``label`` is the event time (dynamic) or the group (group),
    None for an overall figure. The interval is pointwise."""

    label: int | None
    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class Aggregation:
    """An aggregation of the ATT(g,t) as R did's ``aggte(type=kind)``: ``overall`` is the
    figure the package prints as "Overall ATT" for that type (for ``dynamic``, the average over
    event times 0 and later; for ``group``, the groups' effects weighted by group size), and
    ``effects`` the effects by event time or by group (empty for ``simple``)."""

    kind: Literal["simple", "dynamic", "group"]
    overall: AggregateEffect
    effects: tuple[AggregateEffect, ...]


@dataclass(frozen=True)
class StaggeredResult:
    """Callaway and Sant'Anna's estimates for one outcome.

    ``pretest_p_value`` is the Wald test that every pre-treatment ATT(g,t) is zero (R did's
    "P-value for pre-test of parallel trends assumption"), None where it cannot be formed
    (no pre-periods, or clustering beyond the unit). ``notes`` says which units were left out
    or recoded, then gives the package's warnings, in the order given.
    """

    spec: StaggeredSpec
    group_time: tuple[GroupTimeAtt, ...]
    simple: Aggregation
    dynamic: Aggregation
    group: Aggregation
    pretest_p_value: float | None
    n_units: int
    standard_errors: str
    package: str
    notes: tuple[str, ...]


def callaway_santanna(data: pd.DataFrame, spec: StaggeredSpec) -> StaggeredResult:
    """Group-time average treatment effects for staggered starts and their aggregations.

    Each ATT(g,t) compares the change in the outcome from period g - 1 - anticipation (for
    t >= g; the period before t otherwise) to t of units first treated in g with that of the
    comparison group (never treated, or not yet treated by t), by the doubly robust estimator
    of Sant'Anna and Zhao (2020) (or inverse probability weighting, or outcome regression).
    The aggregations weight the ATT(g,t) by group size; standard errors account for the
    estimated weights. This is R did's ``att_gt`` then ``aggte`` with ``bstrap = FALSE``.

    Source: Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with
    multiple time periods. *Journal of Econometrics* 225(2), 200-230
    (doi:10.1016/j.jeconom.2020.12.001); Sant'Anna, P. H. C. and Zhao,
    J. (2020). Doubly robust difference-in-differences estimators. *Journal of Econometrics*
    219(1), 101-122. Computed by the package ``moderndid`` (MIT), checked against R did's
    published output for its ``mpdta`` example (tests/evaluation/test_did.py).
    """
    frame, notes = _staggered_frame(data, spec)
    try:
        import moderndid
    except ImportError as error:  # pragma: no cover - the pin installs it
        raise DidInputError(
            f"the package {STAGGERED_PACKAGE} is not installed; install cwsw's locked "
            "dependencies (make test or uv sync)"
        ) from error

    boot = spec.cluster is not None
    package_notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitted = moderndid.att_gt(
                data=frame,
                yname="outcome",
                tname="period",
                idname="unit",
                gname="first_treated",
                xformla=("~" + " + ".join(_covariate_names(spec))) if spec.covariates else None,
                alp=spec.alpha,
                cband=False,
                boot=boot,
                biters=spec.bootstrap_draws,
                clustervars=["cluster"] if spec.cluster else None,
                est_method=spec.method,
                control_group=spec.control_group.replace("_", ""),
                anticipation=spec.anticipation,
                random_state=spec.seed,
                n_jobs=1,
            )
            aggregations = {
                kind: moderndid.aggte(fitted, type=kind, cband=False, random_state=spec.seed)
                for kind in ("simple", "dynamic", "group")
            }
        except ValueError as error:
            warned = [" ".join(str(w.message).split()) for w in caught]
            reason = warned[0] if warned else " ".join(str(error).split())
            hint = (
                f"; the covariates ({', '.join(spec.covariates)}) may separate a group from "
                "its comparison group: drop or coarsen them"
                if spec.covariates
                else ""
            )
            raise DidInputError(
                f"{STAGGERED_PACKAGE} could not estimate {spec.outcome!r} ({reason}){hint}"
            ) from error
    package_notes.extend(" ".join(str(w.message).split()) for w in caught)

    z = float(stats.norm.ppf(1 - spec.alpha / 2))
    group_time = tuple(
        GroupTimeAtt(
            group=int(g),
            period=int(t),
            att=float(att),
            std_error=float(se),
            ci_lower=float(att - z * se),
            ci_upper=float(att + z * se),
        )
        for g, t, att, se in zip(
            fitted.groups, fitted.times, fitted.att_gt, fitted.se_gt, strict=True
        )
    )
    missing = [cell for cell in group_time if not math.isfinite(cell.att)]
    if missing:
        cell = missing[0]
        said = f" ({package_notes[0]})" if package_notes else ""
        raise DidInputError(
            f"ATT(g={cell.group}, t={cell.period}) for {spec.outcome!r} could not be estimated"
            f"{said}; check that group and its comparison group have units in both periods"
        )
    no_se = [f"ATT({c.group},{c.period})" for c in group_time if not math.isfinite(c.std_error)]
    if no_se:
        package_notes.append(
            f"no standard error for {', '.join(no_se)}: the outcome's change does not vary "
            "within the group or its comparison group"
        )
    n_units = int(frame["unit"].nunique())
    return StaggeredResult(
        spec=spec,
        group_time=group_time,
        simple=_aggregation("simple", aggregations["simple"], z),
        dynamic=_aggregation("dynamic", aggregations["dynamic"], z),
        group=_aggregation("group", aggregations["group"], z),
        pretest_p_value=(None if fitted.wald_pvalue is None else float(fitted.wald_pvalue)),
        n_units=n_units,
        standard_errors=(
            f"multiplier bootstrap clustered by {spec.cluster}, {spec.bootstrap_draws} draws, "
            f"seed {spec.seed}"
            if boot
            else "analytic, from the influence functions, clustered by unit"
        ),
        package=f"{STAGGERED_PACKAGE} {moderndid.__version__}",
        notes=tuple(notes + package_notes),
    )


def _aggregation(kind: Literal["simple", "dynamic", "group"], result: Any, z: float) -> Aggregation:
    overall = _effect(None, float(result.overall_att), float(result.overall_se), z)
    effects: tuple[AggregateEffect, ...] = ()
    if kind != "simple":
        effects = tuple(
            _effect(int(label), float(att), float(se), z)
            for label, att, se in zip(
                result.event_times, result.att_by_event, result.se_by_event, strict=True
            )
        )
    return Aggregation(kind=kind, overall=overall, effects=effects)


def _effect(label: int | None, estimate: float, se: float, z: float) -> AggregateEffect:
    return AggregateEffect(
        label=label,
        estimate=estimate,
        std_error=se,
        ci_lower=estimate - z * se,
        ci_upper=estimate + z * se,
    )


def _covariate_names(spec: StaggeredSpec) -> list[str]:
    """The names the covariates go by in the package's formula."""
    return [f"covariate_{i}" for i in range(1, len(spec.covariates) + 1)]


def _staggered_frame(data: pd.DataFrame, spec: StaggeredSpec) -> tuple[pd.DataFrame, list[str]]:
    """The columns the package needs, checked, in (unit, period) order; and notes on what
    was left out."""
    _check_alpha(spec.alpha)
    if spec.control_group not in ("never_treated", "not_yet_treated"):
        raise DidInputError(
            f"control group {spec.control_group!r}: use 'never_treated' or 'not_yet_treated'"
        )
    if spec.method not in ("dr", "ipw", "reg"):
        raise DidInputError(f"method {spec.method!r}: use 'dr', 'ipw' or 'reg'")
    if spec.anticipation < 0:
        raise DidInputError(f"anticipation {spec.anticipation}: give 0 or more periods")
    if spec.cluster is not None and spec.seed is None:
        raise DidInputError(
            f"clustering by {spec.cluster!r} uses the bootstrap: give a seed so that the "
            "standard errors can be reproduced"
        )
    needed = [spec.outcome, spec.unit, spec.period, spec.first_treated, *spec.covariates]
    if spec.cluster is not None:
        needed.append(spec.cluster)
    frame = _columns(data, tuple(dict.fromkeys(needed)))
    for column in (spec.outcome, spec.period, spec.first_treated, *spec.covariates):
        _numeric(frame, column)
    if frame[spec.outcome].nunique() < 2:
        raise DidInputError(f"column {spec.outcome!r} has one value for every row; no effect")
    if spec.covariates:
        covariates = np.column_stack(
            [np.ones(len(frame))] + [frame[c].to_numpy(float) for c in spec.covariates]
        )
        for j in range(2, covariates.shape[1] + 1):
            if np.linalg.matrix_rank(covariates[:, :j]) < j:
                raise DidInputError(
                    f"covariate {spec.covariates[j - 2]!r} is constant or determined by the "
                    "covariates before it (collinear); drop it"
                )
    for column in (spec.period, spec.first_treated):
        values = frame[column].to_numpy(float)
        if not np.all(values == np.round(values)):
            raise DidInputError(
                f"column {column!r} holds a value that is not a whole number; number the "
                "periods (academic years, or terms in order)"
            )
    if frame.duplicated([spec.unit, spec.period]).any():
        raise DidInputError(
            f"column {spec.period!r}: a unit has two rows for one period; give one row per "
            "unit per period"
        )
    _fixed_within_unit(frame, spec.unit, spec.first_treated)
    if spec.cluster is not None:
        _fixed_within_unit(frame, spec.unit, spec.cluster)
    periods = np.sort(frame[spec.period].unique())
    if len(periods) < 2:
        raise DidInputError(f"column {spec.period!r} has one period; at least two are needed")
    per_unit = frame.groupby(spec.unit, sort=False)[spec.period].size()
    if (per_unit != len(periods)).any():
        short = int((per_unit != len(periods)).sum())
        raise DidInputError(
            f"column {spec.period!r}: {short} unit(s) are not observed in all "
            f"{len(periods)} periods; give a balanced panel (fill or drop them)"
        )
    first = frame[spec.first_treated].to_numpy(float)
    notes: list[str] = []
    # Units supported from the first period on have no before; R did drops them too.
    always = (first > 0) & (first <= periods[0] + spec.anticipation)
    if always.any():
        n_always = int(frame.loc[always, spec.unit].nunique())
        notes.append(
            f"{n_always} unit(s) supported from the first period {int(periods[0])} were left "
            "out: they have no period before support"
        )
        frame = frame.loc[~always]
        first = first[~always]
    # Support that began after the window (and any anticipation) is no support within it,
    # as in R did.
    later = first > periods[-1] + spec.anticipation
    if later.any():
        n_later = int(frame.loc[later, spec.unit].nunique())
        notes.append(
            f"{n_later} unit(s) first supported after the last period {int(periods[-1])} count "
            "as never supported within the data"
        )
        first = np.where(later, 0.0, first)
    if not (first > 0).any():
        raise DidInputError(
            f"column {spec.first_treated!r}: no unit starts support within the data; "
            "nothing to estimate"
        )
    if spec.control_group == "never_treated" and not (first == 0).any():
        raise DidInputError(
            f"column {spec.first_treated!r}: no never-supported units (value 0) for the "
            "comparison; add them or use control_group='not_yet_treated'"
        )
    # The package sees plain column names (a formula cannot hold every column name) and
    # whole-number unit and cluster codes in sorted order, rows in (unit, period) order.
    plain = pd.DataFrame(
        {
            "unit": pd.factorize(frame[spec.unit], sort=True)[0] + 1,
            "period": frame[spec.period].to_numpy(float).astype(np.int64),
            "first_treated": first.astype(np.int64),
            "outcome": frame[spec.outcome].to_numpy(float),
        }
    )
    for name, column in zip(_covariate_names(spec), spec.covariates, strict=True):
        plain[name] = frame[column].to_numpy(float)
    if spec.cluster is not None:
        plain["cluster"] = pd.factorize(frame[spec.cluster], sort=True)[0] + 1
    plain = plain.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)
    return plain, notes


# --------------------------------------------------------------------------------------------
# Interrupted time series
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItsSpec:
    """A single series: one row per week or term, in time order.

    ``time`` holds the period's number (weeks or terms counted from any origin, increasing);
    the intervention starts at time ``start`` (its first period after). ``season`` names the
    term of each row (e.g. autumn / spring / summer) for term seasonality, or None. ``lags``
    is the Newey-West truncation lag; None takes floor(4 (n/100)^(2/9)) (Newey and West 1994).
    """

    outcome: str
    time: str
    start: float
    season: str | None = None
    lags: int | None = None
    alpha: float = 0.05


@dataclass(frozen=True)
class Coefficient:
    """One coefficient of the segmented regression, with its Newey-West interval."""

    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float


@dataclass(frozen=True)
class ItsResult:
    """The segmented regression's four parameters: the baseline ``level`` (at time ``start``,
    before any change, for the reference season) and ``trend`` per period, and at the start the
    ``level_change`` and ``trend_change`` per period. ``seasons`` lists the seasons, the first
    being the reference."""

    outcome: str
    level: Coefficient
    trend: Coefficient
    level_change: Coefficient
    trend_change: Coefficient
    lags: int
    n_before: int
    n_after: int
    seasons: tuple[str, ...]

    def effect_after(self, periods: float) -> float:
        """The estimated difference from the continued baseline ``periods`` after the start
        (0 at the first period after it): level change + trend change x periods."""
        return self.level_change.estimate + self.trend_change.estimate * periods


def interrupted_time_series(data: pd.DataFrame, spec: ItsSpec) -> ItsResult:
    """Segmented regression of a series on time, a step and a slope change at the start, and
    term dummies:
    ``y_t = b0 + b1 (t - start) + b2 after_t + b3 (t - start) after_t + season_t + e_t``,
    by ordinary least squares, with Newey-West (Bartlett kernel) standard errors robust to
    autocorrelation and heteroscedasticity; intervals by the normal approximation.

    Sources: Wagner, A. K., Soumerai, S. B., Zhang, F. and Ross-Degnan, D. (2002). Segmented
    regression analysis of interrupted time series studies in medication use research.
    *Journal of Clinical Pharmacy and Therapeutics* 27, 299-309; Bernal, J. L., Cummins, S.
    and Gasparrini, A. (2017). Interrupted time series regression for the evaluation of public
    health interventions: a tutorial. *International Journal of Epidemiology* 46(1), 348-355
    (seasonality); Newey, W. K. and West, K. D. (1987). *Econometrica* 55(3), 703-708, and
    (1994), *Review of Economic Studies* 61(4), 631-653 (the lag rule).
    """
    columns = [spec.outcome, spec.time] + ([spec.season] if spec.season else [])
    frame = _columns(data, tuple(columns))
    _check_alpha(spec.alpha)
    _numeric(frame, spec.outcome)
    _numeric(frame, spec.time)
    frame = frame.sort_values(spec.time, kind="stable").reset_index(drop=True)
    time = frame[spec.time].to_numpy(float)
    if np.any(np.diff(time) == 0):
        raise DidInputError(
            f"column {spec.time!r}: two rows share one period; give one row per period"
        )
    after = (time >= spec.start).astype(float)
    n_after = int(after.sum())
    n_before = len(time) - n_after
    if n_before < 3 or n_after < 3:
        raise DidInputError(
            f"column {spec.time!r}: {n_before} period(s) before and {n_after} after the start "
            f"{spec.start}; at least 3 on each side are needed for a trend and its change"
        )
    centred = time - spec.start
    design_columns = [np.ones(len(time)), centred, after, centred * after]
    seasons: tuple[str, ...] = ()
    if spec.season:
        labels = frame[spec.season].astype(str).to_numpy()
        seasons = tuple(sorted(set(labels)))
        design_columns += [(labels == s).astype(float) for s in seasons[1:]]
    design = np.column_stack(design_columns)
    if len(time) <= design.shape[1] + 1:
        raise DidInputError(
            f"the series has {len(time)} periods for {design.shape[1]} parameters; give a "
            "longer series or fewer seasons"
        )
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise DidInputError(
            f"column {spec.season!r}: a season coincides with the start or the trend; "
            "give periods of every season before and after the start"
        )
    lags = spec.lags if spec.lags is not None else newey_west_lags(len(time))
    if lags < 0:
        raise DidInputError(f"lags {lags}: give 0 or more")
    fit = sm.OLS(frame[spec.outcome].to_numpy(float), design).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    z = float(stats.norm.ppf(1 - spec.alpha / 2))

    def coefficient(j: int) -> Coefficient:
        estimate, se = float(fit.params[j]), float(fit.bse[j])
        return Coefficient(
            estimate=estimate,
            std_error=se,
            ci_lower=estimate - z * se,
            ci_upper=estimate + z * se,
            p_value=float(2 * stats.norm.sf(abs(estimate / se))) if se > 0 else math.nan,
        )

    return ItsResult(
        outcome=spec.outcome,
        level=coefficient(0),
        trend=coefficient(1),
        level_change=coefficient(2),
        trend_change=coefficient(3),
        lags=lags,
        n_before=n_before,
        n_after=n_after,
        seasons=seasons,
    )


def newey_west_lags(n: int) -> int:
    """The Newey-West truncation lag floor(4 (n/100)^(2/9)) for a series of ``n`` periods.

    Source: Newey, W. K. and West, K. D. (1994). Automatic lag selection in covariance matrix
    estimation. *Review of Economic Studies* 61(4), 631-653 (the Bartlett kernel's rule).
    """
    return math.floor(4 * (n / 100) ** (2 / 9))


# --------------------------------------------------------------------------------------------
# Checks shared by the designs
# --------------------------------------------------------------------------------------------


def _columns(data: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    missing = [name for name in names if name not in data.columns]
    if missing:
        raise DidInputError(
            f"column {missing[0]!r} is not in the data; the columns are "
            f"{', '.join(map(str, data.columns))}"
        )
    frame = data.loc[:, list(dict.fromkeys(names))]
    empty = frame.isna().sum()
    if empty.any():
        column = str(empty[empty > 0].index[0])
        raise DidInputError(
            f"column {column!r} has {int(empty[column])} missing value(s); fill or drop those "
            "rows first"
        )
    if frame.empty:
        raise DidInputError("the data has no rows")
    return frame.reset_index(drop=True)


def _numeric(frame: pd.DataFrame, column: str) -> None:
    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        return
    if not pd.api.types.is_numeric_dtype(series):
        raise DidInputError(f"column {column!r} is not numeric; give numbers")
    if not np.isfinite(series.to_numpy(float)).all():
        raise DidInputError(f"column {column!r} holds an infinite value; give finite numbers")


def _binary(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    if np.isnan(values).any() or not np.isin(values, (0.0, 1.0)).all():
        raise DidInputError(f"column {column!r} must hold 0 or 1 only")
    return values


def _fixed_within_unit(frame: pd.DataFrame, unit: str, column: str) -> None:
    varying = frame.groupby(unit, sort=True)[column].nunique()
    if (varying > 1).any():
        raise DidInputError(
            f"column {column!r} changes within a unit ({int((varying > 1).sum())} unit(s)); "
            "give each unit one value, e.g. its value at baseline"
        )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise DidInputError(f"alpha {alpha}: give a level between 0 and 1, e.g. 0.05")
