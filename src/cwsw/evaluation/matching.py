"""A comparison group for a pilot by propensity score matching, with its balance table.

The steps (docs/evaluation-quasi-experimental.md):

1. A logistic regression of support (1 supported, 0 in the comparison pool) on the baseline
   covariates the caller names: numeric ones as given (baseline attendance %, FSM 0/1), and
   categorical ones as indicators of each level but the first in sorted order (social care
   group, SEN provision, phase, sex). Before fitting, the model is checked for perfect or
   quasi-perfect separation, when no maximum likelihood estimate exists and the propensity
   scores of some children are 0 or 1: first level by level and covariate by covariate, so
   that the message names the cause, then for any combination by a linear programme.
2. 1:1 nearest-neighbour matching on the logit of the propensity score, without replacement,
   within a caliper of ``caliper_sd`` (default 0.2) pooled standard deviations of the logit
   (Austin 2011). Supported children are taken from the highest propensity score down; ties
   in the score are taken in the order of the children's identifiers, and a supported child
   equally near two comparison children takes the one with the lower score, then the lower
   identifier. The result depends only on the data, never on the row order.
3. A balance table: each covariate's means and standardised mean difference, before matching
   (all children) and after (the matched pairs), both over the same denominator, the pooled
   standard deviation before matching (Austin 2009; Stuart 2010).

Sources: Rosenbaum, P. R. and Rubin, D. B. (1985). Constructing a control group using
multivariate matched sampling methods that incorporate the propensity score. *The American
Statistician* 39(1), 33-38; Austin, P. C. (2011). Optimal caliper widths for propensity-score
matching when estimating differences in means and differences in proportions in observational
studies. *Pharmaceutical Statistics* 10(2), 150-161; Austin, P. C. (2009). Balance diagnostics
for comparing the distribution of baseline covariates between treatment groups in
propensity-score matched samples. *Statistics in Medicine* 28, 3083-3107; Stuart, E. A.
(2010). Matching methods for causal inference: a review and a look forward. *Statistical
Science* 25(1), 1-21; Konis, K. (2007). *Linear programming algorithms for detecting separated
data in binary logistic regression models*. DPhil thesis, University of Oxford.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import linprog
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from cwsw.errors import UserError

# The caliper Austin (2011) recommends: 0.2 standard deviations of the logit.
DEFAULT_CALIPER_SD = 0.2

# Fewer supported children, or comparison children, than this cannot support a propensity
# model with the usual handful of covariates (the caller may lower it knowingly).
DEFAULT_MIN_GROUP_SIZE = 10

# Warnings from the logistic fit that mean its estimate cannot be trusted.
_FIT_FAILURES = (ConvergenceWarning, PerfectSeparationWarning, RuntimeWarning)


class MatchingError(UserError):
    """Data that cannot give a matched comparison group as asked; the message says why."""


class PerfectSeparation(MatchingError):
    """A covariate, a level or a combination of covariates predicts support exactly, so the
    propensity model has no estimate (its score is 0 or 1 for some children)."""


class NoOverlap(MatchingError):
    """No supported child has a comparison child within the caliper."""


class TooFewChildren(MatchingError):
    """Too few supported children, or comparison children, for a propensity model."""


@dataclass(frozen=True)
class MatchingSpec:
    """What to match on: one row per child.

    ``unit`` identifies the child; ``treated`` is 1 for a supported child and 0 for one in the
    comparison pool. ``numeric`` covariates are used as they are (baseline attendance %, FSM
    as 0/1); ``categorical`` ones as indicators of their levels (social care group, SEN
    provision, phase, sex).
    """

    unit: str
    treated: str
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    caliper_sd: float = DEFAULT_CALIPER_SD
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE


@dataclass(frozen=True)
class PropensityModel:
    """The fitted logistic regression: ``terms`` (``"(intercept)"``, the numeric covariates,
    then ``"column=level"`` indicators) and their coefficients on the log-odds scale."""

    terms: tuple[str, ...]
    coefficients: tuple[float, ...]
    n_children: int


@dataclass(frozen=True)
class MatchedPair:
    """A supported child and the comparison child matched to it, with their logits."""

    treated_unit: Hashable
    comparison_unit: Hashable
    treated_logit: float
    comparison_logit: float

    @property
    def distance(self) -> float:
        """The absolute difference of the logits."""
        return abs(self.treated_logit - self.comparison_logit)


@dataclass(frozen=True)
class BalanceRow:
    """One covariate (or level) before and after matching: the means of the supported and
    comparison children and the standardised mean difference (supported minus comparison,
    over the pooled standard deviation before matching)."""

    covariate: str
    treated_before: float
    comparison_before: float
    smd_before: float
    treated_after: float
    comparison_after: float
    smd_after: float


@dataclass(frozen=True)
class MatchingResult:
    """The matched pairs (in matching order), the supported children left without a match,
    the caliper on the logit scale, the model and the balance table."""

    pairs: tuple[MatchedPair, ...]
    unmatched_treated: tuple[Hashable, ...]
    caliper: float
    caliper_sd: float
    logit_sd: float
    n_treated: int
    n_comparison_pool: int
    model: PropensityModel
    balance: tuple[BalanceRow, ...]

    def balance_table(self) -> pd.DataFrame:
        """The balance table, one row per covariate or level, as a data frame."""
        return pd.DataFrame(
            [vars(row) for row in self.balance],
            columns=[
                "covariate",
                "treated_before",
                "comparison_before",
                "smd_before",
                "treated_after",
                "comparison_after",
                "smd_after",
            ],
        )

    def matched_units(self) -> pd.DataFrame:
        """One row per matched child: ``unit``, ``pair`` (numbered from 1 in matching order)
        and ``treated`` (1 or 0), for the outcome analysis of the matched sample."""
        rows = []
        for number, pair in enumerate(self.pairs, start=1):
            rows.append((pair.treated_unit, number, 1))
            rows.append((pair.comparison_unit, number, 0))
        return pd.DataFrame(rows, columns=["unit", "pair", "treated"])


def propensity_score_matching(data: pd.DataFrame, spec: MatchingSpec) -> MatchingResult:
    """Fit the propensity model, match 1:1 on its logit within the caliper and report balance.

    Raises :class:`TooFewChildren`, :class:`PerfectSeparation` or :class:`NoOverlap` (each a
    :class:`cwsw.errors.UserError`) with a one-line message naming the covariate or count.
    Sources: see the module docstring (Rosenbaum and Rubin 1985; Austin 2009, 2011; Konis 2007).
    """
    frame, treated = _checked(data, spec)
    terms, design = _design(frame, spec)
    _check_separation(terms, design, treated, frame, spec)
    coefficients = _fit_logit(terms, design, treated)
    logit = design @ coefficients

    logit_sd = _pooled_sd(logit[treated == 1], logit[treated == 0])
    caliper = spec.caliper_sd * logit_sd
    units = frame[spec.unit].to_numpy()
    pairs_index, unmatched_index = nearest_neighbour_pairs(logit, treated, units, caliper)
    n_treated = int(treated.sum())
    if not pairs_index:
        raise NoOverlap(
            f"no overlap: none of the {n_treated} supported children has a comparison child "
            f"within the caliper ({spec.caliper_sd} SD of the logit = {caliper:.4g}); widen "
            "the comparison pool or revisit the covariates"
        )
    pairs = tuple(
        MatchedPair(
            treated_unit=_plain(units[t]),
            comparison_unit=_plain(units[c]),
            treated_logit=float(logit[t]),
            comparison_logit=float(logit[c]),
        )
        for t, c in pairs_index
    )
    matched_t = np.array([t for t, _ in pairs_index])
    matched_c = np.array([c for _, c in pairs_index])
    balance = _balance(frame, spec, logit, treated, matched_t, matched_c)
    return MatchingResult(
        pairs=pairs,
        unmatched_treated=tuple(_plain(units[t]) for t in unmatched_index),
        caliper=float(caliper),
        caliper_sd=spec.caliper_sd,
        logit_sd=float(logit_sd),
        n_treated=n_treated,
        n_comparison_pool=int(len(treated) - n_treated),
        model=PropensityModel(
            terms=tuple(terms),
            coefficients=tuple(float(b) for b in coefficients),
            n_children=len(treated),
        ),
        balance=balance,
    )


def nearest_neighbour_pairs(
    logit: np.ndarray, treated: np.ndarray, units: np.ndarray, caliper: float
) -> tuple[list[tuple[int, int]], list[int]]:
    """Greedy 1:1 nearest-neighbour matching without replacement within ``caliper``.

    Supported children (``treated == 1``) are taken from the highest logit down, ties by
    identifier; each takes the nearest comparison child not yet taken (ties: the lower logit,
    then the lower identifier) if it is within the caliper, and is left unmatched otherwise.
    Returns the (supported, comparison) row positions in matching order and the positions of
    the unmatched supported children. Source: Rosenbaum and Rubin (1985); the order follows
    MatchIt's default ``m.order = "largest"`` (Ho, Imai, King and Stuart 2011, *Journal of
    Statistical Software* 42(8)).
    """
    order_of_unit = _ranks(units)
    treated_rows = np.flatnonzero(treated == 1)
    control_rows = np.flatnonzero(treated == 0)
    # Supported children: highest logit first, then identifier.
    treated_rows = treated_rows[np.lexsort((order_of_unit[treated_rows], -logit[treated_rows]))]
    # Comparison children in (logit, identifier) order: neighbours on the logit are adjacent.
    control_rows = control_rows[np.lexsort((order_of_unit[control_rows], logit[control_rows]))]
    values = logit[control_rows]
    n = len(control_rows)
    # Disjoint-set "next free" pointers to the right and "previous free" to the left, so that
    # each search skips taken children in near-constant time.
    right = np.arange(n + 1)
    left = np.arange(-1, n)  # left[i + 1] = the free position at or before i (or -1)

    def free_right(i: int) -> int:
        root = i
        while right[root] != root:
            root = int(right[root])
        while right[i] != root:
            right[i], i = root, int(right[i])
        return root

    def free_left(i: int) -> int:
        root = i
        while left[root + 1] != root:
            root = int(left[root + 1])
        while left[i + 1] != root:
            left[i + 1], i = root, int(left[i + 1])
        return root

    pairs: list[tuple[int, int]] = []
    unmatched: list[int] = []
    for row in treated_rows:
        x = float(logit[row])
        position = int(np.searchsorted(values, x, side="left"))
        best: int | None = None
        up = free_right(position) if position < n else n
        down = free_left(position - 1)
        if down >= 0:
            # Among free children with this same logit, the lowest identifier.
            best = free_right(int(np.searchsorted(values, values[down], side="left")))
        if up < n and (best is None or values[up] - x < x - values[down]):
            best = up
        if best is None or abs(values[best] - x) > caliper:
            unmatched.append(int(row))
            continue
        pairs.append((int(row), int(control_rows[best])))
        right[best] = best + 1
        left[best + 1] = best - 1
    return pairs, unmatched


def standardised_mean_difference(
    treated: np.ndarray, comparison: np.ndarray, binary: bool, scale: float | None = None
) -> float:
    """(mean supported - mean comparison) / the pooled standard deviation
    sqrt((s_t^2 + s_c^2) / 2); for a 0/1 variable s^2 = p (1 - p). ``scale`` overrides the
    denominator (the pooled SD before matching, for the after-matching row).

    Source: Austin, P. C. (2009). *Statistics in Medicine* 28, 3083-3107.
    """
    difference = float(np.mean(treated) - np.mean(comparison))
    if scale is None:
        scale = _pooled_sd(treated, comparison, binary)
    if scale == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / scale


def _pooled_sd(a: np.ndarray, b: np.ndarray, binary: bool = False) -> float:
    if binary:
        pa, pb = float(np.mean(a)), float(np.mean(b))
        return math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2)
    return math.sqrt((float(np.var(a, ddof=1)) + float(np.var(b, ddof=1))) / 2)


def _checked(data: pd.DataFrame, spec: MatchingSpec) -> tuple[pd.DataFrame, np.ndarray]:
    if not spec.numeric and not spec.categorical:
        raise MatchingError("no covariates given: name the baseline covariates to match on")
    if not spec.caliper_sd > 0:
        raise MatchingError(f"caliper {spec.caliper_sd}: give a width above 0, e.g. 0.2")
    names = [spec.unit, spec.treated, *spec.numeric, *spec.categorical]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise MatchingError(f"column {duplicated[0]!r} is named twice; name it once")
    missing = [name for name in names if name not in data.columns]
    if missing:
        raise MatchingError(
            f"column {missing[0]!r} is not in the data; the columns are "
            f"{', '.join(map(str, data.columns))}"
        )
    frame = data.loc[:, names]
    empty = frame.isna().sum()
    if empty.any():
        column = str(empty[empty > 0].index[0])
        raise MatchingError(
            f"column {column!r} has {int(empty[column])} missing value(s); fill them or leave "
            "those children out before matching"
        )
    if frame[spec.unit].duplicated().any():
        raise MatchingError(f"column {spec.unit!r}: a child appears twice; give one row each")
    # Children in identifier order, so that every sum in the fit is taken in the same order
    # whatever the order of the rows given: the result depends on the data alone.
    frame = frame.iloc[np.argsort(_ranks(frame[spec.unit].to_numpy()), kind="stable")]
    frame = frame.reset_index(drop=True)
    treated = pd.to_numeric(frame[spec.treated], errors="coerce").to_numpy(float)
    if np.isnan(treated).any() or not np.isin(treated, (0.0, 1.0)).all():
        raise MatchingError(f"column {spec.treated!r} must hold 0 or 1 only")
    for column in spec.numeric:
        series = frame[column]
        if (
            not pd.api.types.is_numeric_dtype(series)
            or not np.isfinite(series.to_numpy(float)).all()
        ):
            raise MatchingError(
                f"column {column!r} is not numeric; give numbers or name it as categorical"
            )
    n_treated = int(treated.sum())
    n_comparison = len(treated) - n_treated
    for count, label in ((n_treated, "supported"), (n_comparison, "comparison")):
        if count < spec.min_group_size:
            raise TooFewChildren(
                f"only {count} {label} children (at least {spec.min_group_size} are needed "
                "for a propensity model); add children or compare descriptively"
            )
    return frame, treated


def _design(frame: pd.DataFrame, spec: MatchingSpec) -> tuple[list[str], np.ndarray]:
    terms = ["(intercept)"]
    columns = [np.ones(len(frame))]
    for column in spec.numeric:
        values = frame[column].to_numpy(float)
        if np.all(values == values[0]):
            raise MatchingError(f"covariate {column!r} has one value for every child; drop it")
        terms.append(column)
        columns.append(values)
    for column in spec.categorical:
        labels = frame[column].astype(str).to_numpy()
        levels = sorted(set(labels))
        if len(levels) < 2:
            raise MatchingError(f"covariate {column!r} has one value for every child; drop it")
        for level in levels[1:]:
            terms.append(f"{column}={level}")
            columns.append((labels == level).astype(float))
    design = np.column_stack(columns)
    # A covariate that adds nothing to those before it (collinear) has no estimate either.
    for j in range(2, design.shape[1] + 1):
        if np.linalg.matrix_rank(design[:, :j]) < j:
            raise MatchingError(
                f"covariate {terms[j - 1]!r} is determined by the covariates before it "
                "(collinear); drop one of them"
            )
    return terms, design


def _check_separation(
    terms: list[str],
    design: np.ndarray,
    treated: np.ndarray,
    frame: pd.DataFrame,
    spec: MatchingSpec,
) -> None:
    """Raise :class:`PerfectSeparation` if the logistic model has no estimate: first for a
    level or a single covariate (a message naming it), then for any combination (Konis
    2007's linear programme)."""
    for column in spec.categorical:
        labels = frame[column].astype(str).to_numpy()
        for level in sorted(set(labels)):
            chosen = labels == level
            supported = int(treated[chosen].sum())
            if supported == chosen.sum():
                raise PerfectSeparation(
                    f"perfect separation in the propensity model on {column}={level}: all "
                    f"{supported} children with it are supported, none is in the comparison "
                    "pool; match exactly within that level or leave it out"
                )
            if supported == 0:
                raise PerfectSeparation(
                    f"perfect separation in the propensity model on {column}={level}: none of "
                    f"the {int(chosen.sum())} children with it is supported; leave them out of "
                    "the comparison pool or merge that level with another"
                )
    for column in spec.numeric:
        values = frame[column].to_numpy(float)
        t, c = values[treated == 1], values[treated == 0]
        if t.max() <= c.min() or c.max() <= t.min():
            below = "below" if t.max() <= c.min() else "above"
            edge = t.max() if below == "below" else t.min()
            raise PerfectSeparation(
                f"perfect separation in the propensity model on {column}: every supported "
                f"child is at or {below} {edge:g} and every comparison child on the other "
                "side; there are no comparable children"
            )
    direction = _separating_direction(design, treated)
    if direction is not None:
        size = float(np.abs(direction[1:]).max())
        named = [
            terms[j] for j in range(1, len(terms)) if abs(direction[j]) > 1e-6 * size
        ] or terms[1:]
        raise PerfectSeparation(
            "perfect or quasi-perfect separation in the propensity model: a combination of "
            f"{', '.join(named)} predicts support exactly for some children; coarsen or drop "
            "one of these covariates"
        )


def _separating_direction(design: np.ndarray, treated: np.ndarray) -> np.ndarray | None:
    """A coefficient direction (on the standardised covariates) that separates the supported
    from the comparison children, completely or quasi-completely, or None when the maximum
    likelihood estimate exists.

    Solves max sum_i s_i x_i'b subject to s_i x_i'b >= 0 for every child and -1 <= b <= 1,
    with s_i = +1 for supported and -1 for comparison children: the maximum is above zero
    exactly when the data are separated (Konis 2007).
    """
    # Standardise the columns so that the bounds on b mean the same for every covariate.
    scale = design.std(axis=0)
    scale[scale == 0] = 1.0
    centre = design.mean(axis=0)
    centre[0] = 0.0
    standard = (design - centre) / scale
    signed = standard * np.where(treated == 1, 1.0, -1.0)[:, None]
    found = linprog(
        c=-signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(len(signed)),
        bounds=[(-1.0, 1.0)] * signed.shape[1],
        method="highs",
    )
    if found.status != 0:  # pragma: no cover - the programme is always feasible (b = 0)
        return None
    if -found.fun <= 1e-7 * len(signed):
        return None
    # Many directions separate; the one with the least sum of |b_j| (an L1 programme, with
    # sum_i s_i x_i'b = 1 to fix the scale) uses the fewest covariates, so the message names
    # those that cause the separation rather than every covariate the first solution touched.
    k = signed.shape[1] - 1
    both = np.hstack([signed[:, :1], signed[:, 1:], -signed[:, 1:]])
    sparse = linprog(
        c=np.r_[0.0, np.ones(2 * k)],
        A_ub=-both,
        b_ub=np.zeros(len(both)),
        A_eq=both.sum(axis=0)[None, :],
        b_eq=[1.0],
        bounds=[(None, None)] + [(0.0, None)] * (2 * k),
        method="highs",
    )
    if sparse.status != 0:  # pragma: no cover - feasible whenever the first one found a direction
        return np.asarray(found.x)
    x = np.asarray(sparse.x)
    return np.r_[x[0], x[1 : k + 1] - x[k + 1 :]]


def _fit_logit(terms: Sequence[str], design: np.ndarray, treated: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = sm.Logit(treated, design).fit(method="newton", maxiter=100, disp=0)
    caught = [w for w in seen if issubclass(w.category, _FIT_FAILURES)]
    if not fit.mle_retvals.get("converged", False) or caught:
        said = f" ({caught[0].message})" if caught else ""
        raise PerfectSeparation(
            "the propensity model did not converge"
            f"{said}; a combination of {', '.join(terms[1:])} may predict support almost "
            "exactly: coarsen or drop covariates"
        )
    return np.asarray(fit.params, dtype=float)


def _balance(
    frame: pd.DataFrame,
    spec: MatchingSpec,
    logit: np.ndarray,
    treated: np.ndarray,
    matched_t: np.ndarray,
    matched_c: np.ndarray,
) -> tuple[BalanceRow, ...]:
    variables: list[tuple[str, np.ndarray, bool]] = [("propensity score (logit)", logit, False)]
    for column in spec.numeric:
        values = frame[column].to_numpy(float)
        variables.append((column, values, bool(np.isin(values, (0.0, 1.0)).all())))
    for column in spec.categorical:
        labels = frame[column].astype(str).to_numpy()
        for level in sorted(set(labels)):
            variables.append((f"{column}={level}", (labels == level).astype(float), True))
    rows = []
    for name, values, binary in variables:
        before_t, before_c = values[treated == 1], values[treated == 0]
        scale = _pooled_sd(before_t, before_c, binary)
        after_t, after_c = values[matched_t], values[matched_c]
        rows.append(
            BalanceRow(
                covariate=name,
                treated_before=float(before_t.mean()),
                comparison_before=float(before_c.mean()),
                smd_before=standardised_mean_difference(before_t, before_c, binary, scale),
                treated_after=float(after_t.mean()),
                comparison_after=float(after_c.mean()),
                smd_after=standardised_mean_difference(after_t, after_c, binary, scale),
            )
        )
    return tuple(rows)


def _ranks(units: np.ndarray) -> np.ndarray:
    """Each identifier's position in sorted order (numbers numerically, text as text)."""
    try:
        _, inverse = np.unique(units, return_inverse=True)
    except TypeError:  # mixed types: compare as text
        _, inverse = np.unique(units.astype(str), return_inverse=True)
    return np.asarray(inverse).reshape(-1)


def _plain(value: object) -> Hashable:
    """A numpy scalar as the Python value it holds (ids print and compare plainly)."""
    if isinstance(value, np.generic):
        plain: Hashable = value.item()
        return plain
    return value
