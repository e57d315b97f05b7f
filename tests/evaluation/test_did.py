"""Difference-in-differences: R did's published mpdta results, hand-computed 2x2s, planted
effects, and interrupted time series against a hand-computed Newey-West variance."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cwsw.errors import UserError
from cwsw.evaluation.did import (
    DidInputError,
    ItsSpec,
    PanelSpec,
    StaggeredResult,
    StaggeredSpec,
    TwoByTwoSpec,
    callaway_santanna,
    interrupted_time_series,
    newey_west_lags,
    panel_did,
    two_by_two_did,
)

# --------------------------------------------------------------------------------------------
# Staggered starts on mpdta: R did's published output
# --------------------------------------------------------------------------------------------
#
# R did's reference output for mpdta, from the package's own help pages (bcallaway11/did @
# 71ba8a564eada94d710d65ec0d4f64041351de96, did 2.5.1; the same pages are published at
# https://bcallaway11.github.io/did/reference/att_gt.html and .../aggte.html):
#
# man/att_gt.Rd, "Basic att_gt() call": att_gt(yname="lemp", tname="year",
# idname="countyreal", gname="first.treat", xformla=NULL, data=mpdta) -- xformla=NULL is
# xformla=~1; est_method "dr", never-treated comparison, the defaults -- printed with
# summary(). Its standard errors are R's default multiplier bootstrap (bstrap=TRUE, 1000 draws,
# set.seed(09152024)), not the analytic ones.
R_ATT_GT = {  # (group, time): (ATT(g,t), bootstrap standard error)
    (2004, 2004): (-0.0105, 0.0258),
    (2004, 2005): (-0.0704, 0.0341),
    (2004, 2006): (-0.1373, 0.0384),
    (2004, 2007): (-0.1008, 0.0354),
    (2006, 2004): (0.0065, 0.0235),
    (2006, 2005): (-0.0028, 0.0192),
    (2006, 2006): (-0.0046, 0.0184),
    (2006, 2007): (-0.0412, 0.0207),
    (2007, 2004): (0.0305, 0.0161),
    (2007, 2005): (-0.0027, 0.0157),
    (2007, 2006): (-0.0311, 0.0184),
    (2007, 2007): (-0.0261, 0.0176),
}
# "P-value for pre-test of parallel trends assumption: 0.16812" in the same printout: a Wald
# test on the analytic variance of the pre-treatment ATT(g,t) (R/att_gt.R), so it checks the
# analytic covariance matrix to five decimals even though the printed SEs are bootstrap ones.
R_PRETEST_P = 0.16812
# man/aggte.Rd, the same att_gt() call then aggte(out, type=...), bootstrap SEs as above.
R_SIMPLE = (-0.04, 0.0119)  # "-0.04  0.0119": R prints -0.0400 without its trailing zeros
R_DYNAMIC_OVERALL = (-0.0772, 0.0208)
R_DYNAMIC = {
    -3: (0.0305, 0.0154),
    -2: (-0.0006, 0.0129),
    -1: (-0.0245, 0.0145),
    0: (-0.0199, 0.0119),
    1: (-0.0510, 0.0160),
    2: (-0.1373, 0.0393),
    3: (-0.1008, 0.0356),
}
R_GROUP_OVERALL = (-0.031, 0.0126)
R_GROUP = {2004: (-0.0797, 0.0300), 2006: (-0.0229, 0.0163), 2007: (-0.0261, 0.0167)}
# man/att_gt.Rd, "Using covariates" (xformla=~lpop) and "Specify comparison units" (the same
# with control_group="notyettreated"): point estimates and Wald pre-test p-values.
R_ATT_GT_LPOP = [-0.0145, -0.0764, -0.1404, -0.1069, -0.0005, -0.0062]
R_ATT_GT_LPOP += [0.0010, -0.0413, 0.0267, -0.0046, -0.0284, -0.0288]
R_PRETEST_P_LPOP = 0.23267
R_ATT_GT_LPOP_NYT = [-0.0212, -0.0816, -0.1382, -0.1069, -0.0075, -0.0046]
R_ATT_GT_LPOP_NYT += [0.0087, -0.0413, 0.0269, -0.0042, -0.0284, -0.0288]
R_PRETEST_P_LPOP_NYT = 0.23326

# A bootstrap SE printed by R is (q75 - q25) / (z75 - z25) of 1000 multiplier draws: its Monte
# Carlo relative error is about 1.17 / sqrt(1000) = 3.7% for a normal bootstrap distribution,
# and more for the 20-county 2004 cohort, whose two-point (Mammen) draws are far from normal.
# R's own reruns differ by as much (README.md, est_method="reg", identical influence functions
# here: 0.0246 for ATT(2004,2004) against 0.0258). So analytic SEs are compared with the
# printed bootstrap ones within 15% (four Monte Carlo SDs) -- a sanity check -- and exactly
# with the analytic figures below.
BOOTSTRAP_TOLERANCE = 0.15

# Stata's csdid2 (F. Rios-Avila, with Callaway and Sant'Anna's estimators) prints analytic
# ("asymptotic") SEs for the same example, `csdid2 lemp, ivar(countyreal) tvar(year)
# gvar(first)` then `estat event`: friosavila/csdid2 @ 79ff7c269f5d92118bf49e1b28d1684653b230d4,
# README.md. Event time: (estimate, analytic SE); Post_avg is R's dynamic overall ATT.
STATA_EVENT = {
    -3: (0.0305067, 0.0150336),
    -2: (-0.0005631, 0.0132916),
    -1: (-0.0244587, 0.0142364),
    0: (-0.0199318, 0.0118264),
    1: (-0.0509574, 0.0168935),
    2: (-0.1372587, 0.0364357),
    3: (-0.1008114, 0.0343592),
}
STATA_POST_AVG = (-0.0772398, 0.019965)


@pytest.fixture(scope="module")
def mpdta(fixtures_dir) -> pd.DataFrame:
    return pd.read_csv(fixtures_dir / "did" / "mpdta.csv")


MPDTA = StaggeredSpec(outcome="lemp", unit="countyreal", period="year", first_treated="first.treat")


@pytest.fixture(scope="module")
def fitted(mpdta) -> StaggeredResult:
    return callaway_santanna(mpdta, MPDTA)


def printed(value: float, decimals: int) -> float:
    return round(value, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def test_group_time_atts_are_r_dids_published_figures(fitted):
    assert [(c.group, c.period) for c in fitted.group_time] == list(R_ATT_GT)
    for cell in fitted.group_time:
        r_att, r_se = R_ATT_GT[(cell.group, cell.period)]
        assert printed(cell.att, 4) == r_att, (cell.group, cell.period)
        assert cell.std_error == pytest.approx(r_se, rel=BOOTSTRAP_TOLERANCE)
    assert fitted.n_units == 500
    assert fitted.package.startswith("moderndid ")


def test_group_time_standard_errors_are_the_analytic_influence_function_ones(mpdta, fitted):
    """Without covariates each ATT(g,t) is a difference of two mean changes, and its influence
    function gives the closed form Var = sum (dY - mean)^2 / n_g^2 + the same for the
    comparison group (the influence function of a difference of two means): computed here
    from the CSV."""
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    cohort = mpdta.groupby("countyreal")["first.treat"].first()
    for cell in fitted.group_time:
        base = cell.group - 1 if cell.period >= cell.group else cell.period - 1
        change = wide[cell.period] - wide[base]
        treated, never = change[cohort == cell.group], change[cohort == 0]
        assert cell.att == pytest.approx(treated.mean() - never.mean(), abs=1e-12)
        variance = ((treated - treated.mean()) ** 2).sum() / len(treated) ** 2
        variance += ((never - never.mean()) ** 2).sum() / len(never) ** 2
        assert cell.std_error == pytest.approx(math.sqrt(variance), rel=1e-9)
        z = stats.norm.ppf(0.975)
        assert cell.ci_lower == pytest.approx(cell.att - z * cell.std_error)


def test_parallel_trends_pretest_is_r_dids_and_an_independent_wald_test(mpdta, fitted):
    assert fitted.pretest_p_value == R_PRETEST_P
    # The same Wald test from the closed-form influence functions of the five pre-treatment
    # cells: psi_i = n (dY_i - mean_g) / n_g for the group, -n (dY_i - mean_C) / n_C for the
    # never treated; V = psi'psi / n; W = n att' V^-1 att ~ chi2(5).
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    cohort = mpdta.groupby("countyreal")["first.treat"].first().to_numpy()
    n = len(wide)
    pre = [c for c in fitted.group_time if c.period < c.group]
    psi = np.zeros((n, len(pre)))
    att = np.zeros(len(pre))
    for j, cell in enumerate(pre):
        change = (wide[cell.period] - wide[cell.period - 1]).to_numpy()
        for members, sign in ((cohort == cell.group, 1.0), (cohort == 0, -1.0)):
            psi[members, j] = sign * n * (change[members] - change[members].mean()) / members.sum()
        att[j] = change[cohort == cell.group].mean() - change[cohort == 0].mean()
    wald = n * att @ np.linalg.solve(psi.T @ psi / n, att)
    assert round(float(stats.chi2.sf(wald, len(pre))), 5) == R_PRETEST_P


def test_aggregations_are_r_dids_published_figures(fitted):
    assert fitted.simple.kind == "simple" and fitted.simple.effects == ()
    assert printed(fitted.simple.overall.estimate, 4) == R_SIMPLE[0]
    assert fitted.simple.overall.std_error == pytest.approx(R_SIMPLE[1], rel=BOOTSTRAP_TOLERANCE)

    assert printed(fitted.dynamic.overall.estimate, 4) == R_DYNAMIC_OVERALL[0]
    assert fitted.dynamic.overall.std_error == pytest.approx(
        R_DYNAMIC_OVERALL[1], rel=BOOTSTRAP_TOLERANCE
    )
    assert [e.label for e in fitted.dynamic.effects] == list(R_DYNAMIC)
    for effect in fitted.dynamic.effects:
        assert effect.label is not None
        r_estimate, r_se = R_DYNAMIC[effect.label]
        assert printed(effect.estimate, 4) == r_estimate, effect.label
        assert effect.std_error == pytest.approx(r_se, rel=BOOTSTRAP_TOLERANCE)

    assert printed(fitted.group.overall.estimate, 4) == R_GROUP_OVERALL[0]
    assert fitted.group.overall.std_error == pytest.approx(
        R_GROUP_OVERALL[1], rel=BOOTSTRAP_TOLERANCE
    )
    assert [e.label for e in fitted.group.effects] == list(R_GROUP)
    for effect in fitted.group.effects:
        assert effect.label is not None
        r_estimate, r_se = R_GROUP[effect.label]
        assert printed(effect.estimate, 4) == r_estimate, effect.label
        assert effect.std_error == pytest.approx(r_se, rel=BOOTSTRAP_TOLERANCE)


def test_event_study_analytic_standard_errors_are_statas_csdid(fitted):
    """The analytic SEs of the event study and its post-period average agree with Stata
    csdid2's published ones to every digit it prints (7 decimals; 6 for Post_avg's SE)."""
    for effect in fitted.dynamic.effects:
        assert effect.label is not None
        estimate, se = STATA_EVENT[effect.label]
        assert printed(effect.estimate, 7) == estimate
        assert printed(effect.std_error, 7) == se
    assert printed(fitted.dynamic.overall.estimate, 7) == STATA_POST_AVG[0]
    assert printed(fitted.dynamic.overall.std_error, 6) == STATA_POST_AVG[1]


def test_simple_aggregation_is_the_group_size_weighted_mean_of_post_treatment_cells(mpdta, fitted):
    """R did's "simple" ATT weights each post-treatment ATT(g,t) by the size of group g."""
    size = mpdta.groupby("first.treat")["countyreal"].nunique()
    post = [c for c in fitted.group_time if c.period >= c.group]
    weights = np.array([size[c.group] for c in post], dtype=float)
    expected = float(np.dot(weights, [c.att for c in post]) / weights.sum())
    assert fitted.simple.overall.estimate == pytest.approx(expected, abs=1e-12)


def test_covariates_and_not_yet_treated_comparisons_are_r_dids_published_figures(mpdta):
    with_lpop = callaway_santanna(mpdta, replace(MPDTA, covariates=("lpop",)))
    assert [printed(c.att, 4) for c in with_lpop.group_time] == R_ATT_GT_LPOP
    assert with_lpop.pretest_p_value == R_PRETEST_P_LPOP
    not_yet = callaway_santanna(
        mpdta,
        replace(MPDTA, covariates=("lpop",), control_group="not_yet_treated"),
    )
    assert [printed(c.att, 4) for c in not_yet.group_time] == R_ATT_GT_LPOP_NYT
    assert not_yet.pretest_p_value == R_PRETEST_P_LPOP_NYT


def test_staggered_result_does_not_depend_on_row_order(mpdta, fitted):
    shuffled = mpdta.sample(frac=1.0, random_state=7)
    again = callaway_santanna(shuffled, MPDTA)
    assert again.group_time == fitted.group_time
    assert (again.simple, again.dynamic, again.group) == (
        fitted.simple,
        fitted.dynamic,
        fitted.group,
    )


def test_staggered_accepts_any_column_names_and_text_identifiers(mpdta, fitted):
    frame = mpdta.rename(
        columns={"lemp": "log employment", "countyreal": "county", "lpop": "log pop (2000)"}
    ).assign(county=lambda d: "C" + d["county"].astype(str))
    spec = StaggeredSpec(
        outcome="log employment", unit="county", period="year", first_treated="first.treat"
    )
    renamed = callaway_santanna(frame, spec)
    # Text identifiers sort in another order than numbers: sums differ in the last bit only.
    for ours, reference in zip(renamed.group_time, fitted.group_time, strict=True):
        assert (ours.group, ours.period) == (reference.group, reference.period)
        assert ours.att == pytest.approx(reference.att, abs=1e-15)
        assert ours.std_error == pytest.approx(reference.std_error, rel=1e-12)
    with_pop = callaway_santanna(frame, replace(spec, covariates=("log pop (2000)",)))
    assert [printed(c.att, 4) for c in with_pop.group_time] == R_ATT_GT_LPOP


def test_staggered_clustered_by_school_uses_a_seeded_bootstrap(mpdta):
    frame = mpdta.assign(state=mpdta["countyreal"] // 1000)
    spec = replace(MPDTA, cluster="state", seed=20261123)
    first = callaway_santanna(frame, spec)
    assert first == callaway_santanna(frame, spec)  # reproducible from the seed
    assert first.pretest_p_value is None
    assert "state" in first.standard_errors and "seed 20261123" in first.standard_errors
    # Point estimates do not depend on the clustering.
    assert printed(first.simple.overall.estimate, 4) == R_SIMPLE[0]
    with pytest.raises(DidInputError, match="give a seed"):
        callaway_santanna(frame, replace(MPDTA, cluster="state"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="lemp"), r"column 'lemp' is not in the data"),
        (lambda d: d.assign(**{"first.treat": d["first.treat"].replace(0, 2007)}), "never-"),
        (lambda d: d.iloc[1:], r"not observed in all 5 periods"),
        (lambda d: d.assign(lemp=d["lemp"].where(d.index != 3)), r"1 missing value"),
        (
            lambda d: d.assign(**{"first.treat": d["first.treat"].where(d.index != 0, 2006)}),
            r"changes within a unit",
        ),
        (lambda d: pd.concat([d, d.iloc[:1]]), "two rows for one period"),
        (lambda d: d.assign(year=d["year"] + 0.5), "not a whole number"),
        (lambda d: d.assign(**{"first.treat": 0}), "no unit starts support"),
        (lambda d: d.assign(lemp=1.0), "one value for every row"),
    ],
)
def test_staggered_bad_input_is_a_one_line_user_error(mpdta, change, message):
    with pytest.raises(DidInputError, match=message) as raised:
        callaway_santanna(change(mpdta), MPDTA)
    assert isinstance(raised.value, UserError)
    assert "\n" not in str(raised.value)


def test_staggered_covariates_that_are_collinear_or_separate_a_group_are_named(mpdta):
    collinear = mpdta.assign(lpop2=2 * mpdta["lpop"])
    with pytest.raises(DidInputError, match="covariate 'lpop2' is constant or determined"):
        callaway_santanna(collinear, replace(MPDTA, covariates=("lpop", "lpop2")))
    # A covariate that is 1 exactly for the 2004 group: its propensity model has no estimate.
    separating = mpdta.assign(x=(mpdta["first.treat"] == 2004).astype(float))
    with pytest.raises(DidInputError, match=r"covariates \(x\) may separate a group") as e:
        callaway_santanna(separating, replace(MPDTA, covariates=("x",)))
    assert "\n" not in str(e.value)


def test_units_supported_from_the_first_period_are_left_out_with_a_note(mpdta):
    first_county = mpdta["countyreal"].iloc[0]
    frame = mpdta.assign(
        **{"first.treat": mpdta["first.treat"].mask(mpdta["countyreal"] == first_county, 2003)}
    )
    result = callaway_santanna(frame, MPDTA)
    assert result.n_units == 499
    assert any("1 unit(s) supported from the first period 2003" in n for n in result.notes)


# --------------------------------------------------------------------------------------------
# Classic difference-in-differences
# --------------------------------------------------------------------------------------------

# Two supported children (A, B) and three comparison children (C, D, E), attendance %:
#   supported before 90, 80 (mean 85), after 94, 86 (mean 90): change +5
#   comparison before 92, 88, 90 (mean 90), after 88, 86, 90 (mean 88): change -2
#   difference-in-differences = 5 - (-2) = 7; the naive before/after = 5.
HAND = pd.DataFrame(
    {
        "child": list("ABCDE") * 2,
        "school": ["s1", "s2", "s1", "s3", "s2"] * 2,
        "supported": [1, 1, 0, 0, 0] * 2,
        "after": [0] * 5 + [1] * 5,
        "attendance": [90.0, 80, 92, 88, 90, 94, 86, 88, 86, 90],
    }
)
HAND_SPEC = TwoByTwoSpec(outcome="attendance", unit="child", treated="supported", after="after")


def cr1_standard_error(y, design, clusters, term):
    """The CR1 cluster-robust SE of one coefficient, written out: (X'X)^-1 (sum_g X_g'u_g
    u_g'X_g) (X'X)^-1 x G/(G-1) x (N-1)/(N-K) (Cameron and Miller 2015)."""
    y, design = np.asarray(y, float), np.asarray(design, float)
    bread = np.linalg.inv(design.T @ design)
    beta = bread @ design.T @ y
    u = y - design @ beta
    meat = np.zeros_like(bread)
    labels = np.asarray(clusters)
    groups = sorted(set(labels))
    for g in groups:
        score = design[labels == g].T @ u[labels == g]
        meat += np.outer(score, score)
    n, k, g = len(y), design.shape[1], len(groups)
    v = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    return beta[term], math.sqrt(v[term, term])


def test_two_by_two_is_the_difference_of_the_four_means():
    est = two_by_two_did(HAND, HAND_SPEC)
    assert est.effect == pytest.approx(7.0, abs=1e-12)
    assert est.means is not None
    assert (est.means.treated_before, est.means.treated_after) == (85.0, 90.0)
    assert (est.means.comparison_before, est.means.comparison_after) == (90.0, 88.0)
    assert est.means.naive_before_after == 5.0
    assert est.means.difference_in_differences == 7.0
    assert (est.n_units, est.n_observations, est.n_clusters) == (5, 10, 5)
    treated = HAND["supported"].to_numpy(float)
    after = HAND["after"].to_numpy(float)
    design = np.column_stack([np.ones(10), treated, after, treated * after])
    _, se = cr1_standard_error(HAND["attendance"], design, HAND["child"], 3)
    assert est.std_error == pytest.approx(se, rel=1e-10)
    t = stats.t.ppf(0.975, 4)
    assert (est.ci_lower, est.ci_upper) == pytest.approx((7 - t * se, 7 + t * se))
    assert est.p_value == pytest.approx(2 * stats.t.sf(7 / se, 4))


def test_two_by_two_on_a_binary_outcome_is_the_difference_in_proportions():
    # Persistent absence (0/1): supported 2/2 before, 1/2 after (-0.5); comparison 1/3 before,
    # 1/3 after (0): the difference-in-differences is -0.5, in proportion points.
    frame = HAND.assign(persistent=[1, 1, 1, 0, 0, 1, 0, 0, 1, 0])
    est = two_by_two_did(frame, replace(HAND_SPEC, outcome="persistent"))
    assert est.effect == pytest.approx(-0.5, abs=1e-12)
    assert est.outcome == "persistent"


def test_two_by_two_clustered_by_school():
    # Schools s1..s3 each hold supported or comparison children: 2 per arm at least.
    frame = HAND.assign(school=["s1", "s2", "s3", "s4", "s3"] * 2)
    est = two_by_two_did(frame, replace(HAND_SPEC, cluster="school"))
    treated = frame["supported"].to_numpy(float)
    after = frame["after"].to_numpy(float)
    design = np.column_stack([np.ones(10), treated, after, treated * after])
    _, se = cr1_standard_error(frame["attendance"], design, frame["school"], 3)
    assert est.cluster == "school" and est.n_clusters == 4
    assert est.std_error == pytest.approx(se, rel=1e-10)


def test_panel_with_two_periods_is_the_two_by_two():
    spec = PanelSpec(
        outcome="attendance", unit="child", period="after", treated="supported", start=1
    )
    est = panel_did(HAND, spec)
    assert est.effect == pytest.approx(7.0, abs=1e-12)
    assert est.means is not None and est.means.naive_before_after == 5.0


def test_panel_is_least_squares_with_child_and_period_dummies():
    rng = np.random.default_rng(5)
    rows = []
    for child in range(40):
        supported = int(child < 15)
        for year in (2021, 2022, 2023, 2024):
            if child % 7 == 0 and year == 2021:
                continue  # an unbalanced panel
            y = 90 + child % 5 + (year - 2021) * 0.5 + 3 * supported * (year >= 2023)
            rows.append((child, year, supported, y + rng.normal(0, 2)))
    frame = pd.DataFrame(rows, columns=["child", "year", "supported", "attendance"])
    est = panel_did(
        frame,
        PanelSpec(
            outcome="attendance", unit="child", period="year", treated="supported", start=2023
        ),
    )
    # The same coefficient from explicit dummies for every child and year (numpy least squares).
    children = pd.get_dummies(frame["child"]).to_numpy(float)
    years = pd.get_dummies(frame["year"]).to_numpy(float)[:, 1:]
    d = (frame["supported"] * (frame["year"] >= 2023)).to_numpy(float)
    full = np.column_stack([children, years, d])
    beta = np.linalg.lstsq(full, frame["attendance"].to_numpy(), rcond=None)[0]
    assert est.effect == pytest.approx(beta[-1], abs=1e-10)
    # The SE: CR1 on the within-transformed regression (child effects absorbed, not counted).
    within = pd.DataFrame(np.column_stack([frame["attendance"], years, d]))
    within = within - within.groupby(frame["child"].to_numpy()).transform("mean")
    _, se = cr1_standard_error(within[0], within.iloc[:, 1:], frame["child"], 3)
    assert est.std_error == pytest.approx(se, rel=1e-10)
    assert est.means is None and est.n_units == 40


def simulated_pilot(seed: int, effect: float, n: int = 300, trend: float = -1.5) -> pd.DataFrame:
    """A pilot with selection on need: children with greater persistent need (lower usual
    attendance) are more likely to be supported; attendance falls by ``trend`` for everyone
    and rises by ``effect`` for the supported; parallel trends hold."""
    rng = np.random.default_rng(seed)
    need = rng.normal(0, 1, n)
    usual = 92 - 4 * need + rng.normal(0, 3, n)
    supported = rng.binomial(1, 1 / (1 + np.exp(-(-1.2 + 1.0 * need))))
    before = usual + rng.normal(0, 4, n)
    after = usual + trend + effect * supported + rng.normal(0, 4, n)
    ids = np.arange(n)
    return pd.DataFrame(
        {
            "child": np.r_[ids, ids],
            "supported": np.r_[supported, supported],
            "after": np.r_[np.zeros(n, int), np.ones(n, int)],
            "attendance": np.r_[before, after],
        }
    )


def test_planted_attendance_effect_is_covered_and_the_naive_comparison_is_biased():
    """200 simulated pilots with a planted +3 points: the 95% interval covers it in 93-97% of
    them (the issue's acceptance band); with no effect (other seeds), 3-7% are significant;
    the supported children's naive before/after change is off by the common trend."""
    planted = 3.0
    covered, naive = 0, []
    for seed in range(200):
        est = two_by_two_did(simulated_pilot(seed, planted), HAND_SPEC)
        covered += est.ci_lower <= planted <= est.ci_upper
        assert est.means is not None
        naive.append(est.means.naive_before_after)
    assert 0.93 <= covered / 200 <= 0.97
    assert np.mean(naive) == pytest.approx(planted - 1.5, abs=0.2)  # biased by the trend
    rejected = sum(
        two_by_two_did(simulated_pilot(seed, 0.0), HAND_SPEC).p_value < 0.05
        for seed in range(10_000, 10_200)
    )
    assert 0.03 <= rejected / 200 <= 0.07


@pytest.mark.parametrize(
    ("frame", "spec", "message"),
    [
        (HAND.assign(supported=[1, 1, 0, 0, 0, 1, 0, 0, 0, 0]), HAND_SPEC, "changes within"),
        (HAND.assign(after=[0] * 10), HAND_SPEC, "observed after the start"),
        (HAND.assign(supported=2), HAND_SPEC, "0 or 1 only"),
        (HAND.assign(attendance="high"), HAND_SPEC, "not numeric"),
        (HAND.iloc[:0], HAND_SPEC, "no rows"),
    ],
)
def test_classic_bad_input_is_a_one_line_user_error(frame, spec, message):
    with pytest.raises(DidInputError, match=message) as raised:
        two_by_two_did(frame, spec)
    assert "\n" not in str(raised.value)


def test_too_few_clusters_in_an_arm():
    # Both supported children in one school: one cluster for that arm.
    frame = HAND.assign(school=["s1", "s1", "s2", "s3", "s4"] * 2)
    with pytest.raises(DidInputError, match=r"supported group \(supported\) has 1 cluster"):
        two_by_two_did(frame, replace(HAND_SPEC, cluster="school"))


# --------------------------------------------------------------------------------------------
# Interrupted time series
# --------------------------------------------------------------------------------------------

TERMS = ("autumn", "spring", "summer")


def termly_series(noise: np.ndarray | None = None, weeks_per_term: int = 12, years: int = 6):
    """Weekly attendance over ``years`` school years of three terms: baseline 93% at the
    start, falling 0.02 points a week, a term effect (spring -0.5, summer -1.5), and from
    week 150 a step of +1.2 and a slope change of +0.03 a week."""
    n = weeks_per_term * 3 * years
    week = np.arange(n)
    term = np.array([TERMS[(w // weeks_per_term) % 3] for w in week])
    season = np.select([term == "spring", term == "summer"], [-0.5, -1.5], 0.0)
    after = week >= 150
    y = 93 - 0.02 * (week - 150) + season + 1.2 * after + 0.03 * (week - 150) * after
    if noise is not None:
        y = y + noise[:n]
    return pd.DataFrame({"week": week, "term": term, "attendance": y})


ITS_SPEC = ItsSpec(outcome="attendance", time="week", start=150, season="term")


def test_its_recovers_a_noiseless_series_exactly():
    result = interrupted_time_series(termly_series(), ITS_SPEC)
    assert result.level.estimate == pytest.approx(93.0, abs=1e-9)
    assert result.trend.estimate == pytest.approx(-0.02, abs=1e-12)
    assert result.level_change.estimate == pytest.approx(1.2, abs=1e-9)
    assert result.trend_change.estimate == pytest.approx(0.03, abs=1e-12)
    assert result.effect_after(10) == pytest.approx(1.5, abs=1e-9)
    assert result.seasons == TERMS
    assert (result.n_before, result.n_after) == (150, 66)


def test_its_standard_errors_are_newey_west_by_hand():
    """OLS with the Bartlett-kernel HAC variance written out (Newey and West 1987):
    (X'X)^-1 [sum_t x_t u_t^2 x_t' + sum_l w_l sum_t (x_t u_t u_{t-l} x_{t-l}' + its
    transpose)] (X'X)^-1, w_l = 1 - l / (L + 1)."""
    rng = np.random.default_rng(11)
    shocks = rng.normal(0, 0.6, 300)
    noise = np.zeros(300)
    for t in range(1, 300):
        noise[t] = 0.5 * noise[t - 1] + shocks[t]
    frame = termly_series(noise)
    result = interrupted_time_series(frame, ITS_SPEC)
    lags = newey_west_lags(len(frame))
    assert result.lags == lags == 4  # floor(4 (216/100)^(2/9))
    week = frame["week"].to_numpy(float) - 150
    after = (week >= 0).astype(float)
    x = np.column_stack(
        [
            np.ones(len(week)),
            week,
            after,
            week * after,
            (frame["term"] == "spring").to_numpy(float),
            (frame["term"] == "summer").to_numpy(float),
        ]
    )
    y = frame["attendance"].to_numpy()
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    scores = x * (y - x @ beta)[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        meat += (1 - lag / (lags + 1)) * (gamma + gamma.T)
    se = np.sqrt(np.diag(bread @ meat @ bread))
    assert result.level_change.estimate == pytest.approx(beta[2], abs=1e-10)
    assert result.level_change.std_error == pytest.approx(se[2], rel=1e-9)
    assert result.trend_change.std_error == pytest.approx(se[3], rel=1e-9)
    assert result.trend.std_error == pytest.approx(se[1], rel=1e-9)
    assert result.level_change.ci_lower == pytest.approx(beta[2] - 1.959963985 * se[2])


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (termly_series().iloc[: 150 + 2], "at least 3 on each side"),
        (pd.concat([termly_series(), termly_series().iloc[:1]]), "share one period"),
        (termly_series().drop(columns="term"), "'term' is not in the data"),
    ],
)
def test_its_bad_input_is_a_one_line_user_error(frame, message):
    with pytest.raises(DidInputError, match=message):
        interrupted_time_series(frame, ITS_SPEC)


def test_support_after_the_window_counts_as_never_supported(mpdta, fitted):
    never = mpdta.loc[mpdta["first.treat"] == 0, "countyreal"].unique()[:50]
    frame = mpdta.assign(
        **{"first.treat": mpdta["first.treat"].mask(mpdta["countyreal"].isin(never), 2009)}
    )
    result = callaway_santanna(frame, MPDTA)
    assert result.group_time == fitted.group_time
    assert any("50 unit(s) first supported after the last period 2007" in n for n in result.notes)
