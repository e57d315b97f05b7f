"""Propensity score matching: balance on simulated selection on need, the matching rule
against a brute-force reference, and the errors for separation, no overlap and too few."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cwsw.errors import UserError
from cwsw.evaluation.matching import (
    MatchingError,
    MatchingSpec,
    NoOverlap,
    PerfectSeparation,
    TooFewChildren,
    nearest_neighbour_pairs,
    propensity_score_matching,
    standardised_mean_difference,
)

SPEC = MatchingSpec(
    unit="child",
    treated="supported",
    numeric=("baseline_attendance", "fsm"),
    categorical=("social_care_group", "sen", "phase", "sex"),
)


def children(seed: int = 1, n: int = 3000) -> pd.DataFrame:
    """Children with a social worker, supported more often the greater their need: lower
    baseline attendance, a child protection plan or looked after, SEN, FSM."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "child": [f"C{i:05d}" for i in rng.permutation(n)],
            "baseline_attendance": np.clip(rng.normal(91, 6, n), 40, 100),
            "social_care_group": rng.choice(["CINO", "CPPO", "CLA"], n, p=[0.6, 0.25, 0.15]),
            "sen": rng.choice(["none", "SEN support", "EHC plan"], n, p=[0.7, 0.22, 0.08]),
            "fsm": rng.binomial(1, 0.45, n),
            "phase": rng.choice(["primary", "secondary"], n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    need = (
        -2.2
        - 0.12 * (frame["baseline_attendance"] - 91)
        + 0.6 * (frame["social_care_group"] == "CPPO")
        + 0.9 * (frame["social_care_group"] == "CLA")
        + 0.5 * (frame["sen"] != "none")
        + 0.4 * frame["fsm"]
    )
    frame["supported"] = rng.binomial(1, 1 / (1 + np.exp(-need)))
    return frame


@pytest.fixture(scope="module")
def pilot() -> pd.DataFrame:
    return children()


@pytest.fixture(scope="module")
def matched(pilot):
    return propensity_score_matching(pilot, SPEC)


def test_matching_balances_covariates_that_selection_on_need_unbalanced(matched):
    table = matched.balance_table().set_index("covariate")
    # Selection on need leaves the groups unbalanced before matching...
    assert table.loc["baseline_attendance", "smd_before"] < -0.4
    assert table.loc["social_care_group=CLA", "smd_before"] > 0.15
    assert table["smd_before"].abs().max() > 0.5
    # ...and matching brings every covariate and level within 0.1 (Austin 2009's threshold).
    assert table["smd_after"].abs().max() < 0.1
    assert (table["smd_after"].abs() <= table["smd_before"].abs() + 0.05).all()
    assert matched.n_treated > 400 and len(matched.pairs) > 0.95 * matched.n_treated


def test_balance_table_figures_are_means_and_smds_computed_directly(pilot, matched):
    units = pilot.set_index("child")
    t_ids = [p.treated_unit for p in matched.pairs]
    c_ids = [p.comparison_unit for p in matched.pairs]
    row = next(r for r in matched.balance if r.covariate == "baseline_attendance")
    before_t = units.loc[units["supported"] == 1, "baseline_attendance"]
    before_c = units.loc[units["supported"] == 0, "baseline_attendance"]
    pooled = math.sqrt((before_t.var() + before_c.var()) / 2)
    assert row.smd_before == pytest.approx((before_t.mean() - before_c.mean()) / pooled)
    after_t = units.loc[t_ids, "baseline_attendance"]
    after_c = units.loc[c_ids, "baseline_attendance"]
    assert row.treated_after == pytest.approx(after_t.mean())
    assert row.smd_after == pytest.approx((after_t.mean() - after_c.mean()) / pooled)
    # A level: proportions, and the binary pooled SD sqrt((p_t q_t + p_c q_c) / 2).
    cla = (units["social_care_group"] == "CLA").astype(float)
    p_t, p_c = cla[units["supported"] == 1].mean(), cla[units["supported"] == 0].mean()
    level = next(r for r in matched.balance if r.covariate == "social_care_group=CLA")
    expected = (p_t - p_c) / math.sqrt((p_t * (1 - p_t) + p_c * (1 - p_c)) / 2)
    assert level.smd_before == pytest.approx(expected)
    assert standardised_mean_difference(np.array([1.0, 0]), np.array([0.0, 0]), True) == (
        pytest.approx(0.5 / math.sqrt(0.125))
    )


def test_propensity_model_and_caliper_are_the_logistic_fit_and_austins_width(pilot, matched):
    """The model is the maximum likelihood logistic regression (statsmodels, fitted here on
    dummies coded independently); the caliper is 0.2 x the pooled SD of its logit."""
    ordered = pilot.sort_values("child").reset_index(drop=True)
    x = pd.get_dummies(
        ordered[["social_care_group", "sen", "phase", "sex"]], drop_first=True, dtype=float
    )
    x.insert(0, "fsm", ordered["fsm"].astype(float))
    x.insert(0, "baseline_attendance", ordered["baseline_attendance"])
    x = sm.add_constant(x)
    fit = sm.Logit(ordered["supported"], x).fit(disp=0)
    assert matched.model.terms[:3] == ("(intercept)", "baseline_attendance", "fsm")
    assert "social_care_group=CLA" in matched.model.terms
    ours = dict(zip(matched.model.terms, matched.model.coefficients, strict=True))

    def our_name(name: str) -> str:
        if name == "const":
            return "(intercept)"
        for column in SPEC.categorical:
            if name.startswith(column + "_"):
                return f"{column}={name[len(column) + 1 :]}"
        return name

    theirs = {our_name(str(name)): value for name, value in fit.params.items()}
    assert ours.keys() == theirs.keys()
    for term, value in ours.items():
        assert value == pytest.approx(theirs[term], abs=1e-6), term
    logit = x.to_numpy() @ fit.params.to_numpy()
    treated = ordered["supported"].to_numpy() == 1
    pooled = math.sqrt((logit[treated].var(ddof=1) + logit[~treated].var(ddof=1)) / 2)
    assert matched.logit_sd == pytest.approx(pooled, rel=1e-6)
    assert matched.caliper == pytest.approx(0.2 * pooled, rel=1e-6)
    assert all(pair.distance <= matched.caliper for pair in matched.pairs)


def test_pairs_are_one_to_one_and_unmatched_children_had_no_comparison_in_the_caliper(
    pilot, matched
):
    t_ids = [p.treated_unit for p in matched.pairs]
    c_ids = [p.comparison_unit for p in matched.pairs]
    assert len(set(t_ids)) == len(t_ids) and len(set(c_ids)) == len(c_ids)
    supported = set(pilot.loc[pilot["supported"] == 1, "child"])
    assert set(t_ids) <= supported and not set(c_ids) & supported
    assert set(t_ids) | set(matched.unmatched_treated) == supported
    units = matched.matched_units()
    assert list(units.columns) == ["unit", "pair", "treated"]
    assert len(units) == 2 * len(matched.pairs) and units["pair"].max() == len(matched.pairs)


def brute_force_greedy(logit, treated, units, caliper):
    """The matching rule written out plainly, in O(n^2): supported children from the highest
    logit down (ties by identifier), each taking the free comparison child that is nearest,
    then lower in logit, then lower in identifier, if within the caliper."""
    rank = {u: i for i, u in enumerate(sorted(units))}
    t_rows = sorted(np.flatnonzero(treated == 1), key=lambda r: (-logit[r], rank[units[r]]))
    free = set(np.flatnonzero(treated == 0).tolist())
    pairs, unmatched = [], []
    for row in t_rows:
        if not free:
            unmatched.append(row)
            continue
        best = min(free, key=lambda c: (abs(logit[c] - logit[row]), logit[c], rank[units[c]]))
        if abs(logit[best] - logit[row]) > caliper:
            unmatched.append(row)
            continue
        pairs.append((row, best))
        free.remove(best)
    return pairs, unmatched


@pytest.mark.parametrize("seed", range(6))
def test_matching_rule_agrees_with_a_brute_force_greedy_match_including_ties(seed):
    rng = np.random.default_rng(seed)
    n = 300
    # Few distinct logits (ties everywhere) in half the cases, continuous in the others.
    logit = rng.integers(-6, 6, n) / 4.0 if seed % 2 == 0 else rng.normal(0, 1, n)
    treated = (rng.random(n) < 0.3).astype(int)
    units = rng.permutation(n) * 3 + 1
    caliper = 0.1 if seed < 4 else 10.0
    assert nearest_neighbour_pairs(logit, treated, units, caliper) == brute_force_greedy(
        logit, treated, units, caliper
    )


def test_matching_is_deterministic_and_ignores_row_order(pilot, matched):
    assert propensity_score_matching(pilot, SPEC) == matched
    shuffled = pilot.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert propensity_score_matching(shuffled, SPEC) == matched


def test_perfect_separation_on_a_level_names_it(pilot):
    frame = pilot.copy()
    frame.loc[frame["social_care_group"] == "CLA", "supported"] = 1
    with pytest.raises(PerfectSeparation, match=r"social_care_group=CLA: all \d+ children"):
        propensity_score_matching(frame, SPEC)
    frame = pilot.copy()
    frame.loc[frame["sen"] == "EHC plan", "supported"] = 0
    with pytest.raises(PerfectSeparation, match=r"sen=EHC plan: none of the \d+ children"):
        propensity_score_matching(frame, SPEC)


def test_perfect_separation_on_a_numeric_covariate_names_it(pilot):
    frame = pilot.assign(supported=(pilot["baseline_attendance"] < 88).astype(int))
    with pytest.raises(PerfectSeparation, match=r"on baseline_attendance: every supported") as e:
        propensity_score_matching(frame, SPEC)
    assert isinstance(e.value, UserError) and "\n" not in str(e.value)


def test_separation_by_a_combination_of_covariates_names_them(pilot):
    """Support given exactly to children below 92% attendance, or below 82% if eligible for
    FSM: neither covariate separates the groups alone, their combination does, and the message
    names those two and no other."""
    score = pilot["baseline_attendance"] + 10 * pilot["fsm"]
    frame = pilot.assign(supported=(score < 92).astype(int))
    with pytest.raises(PerfectSeparation, match="combination of baseline_attendance, fsm pre"):
        propensity_score_matching(frame, SPEC)
    # Quasi-complete: whole-number attendance, and the children exactly on the line (score 92)
    # supported or not at random; the estimate still does not exist.
    frame = pilot.assign(baseline_attendance=pilot["baseline_attendance"].round())
    score = frame["baseline_attendance"] + 10 * frame["fsm"]
    coin = np.random.default_rng(0).integers(0, 2, len(frame))
    frame["supported"] = np.where(score < 92, 1, np.where(score > 92, 0, coin))
    with pytest.raises(PerfectSeparation, match="combination of baseline_attendance, fsm pre"):
        propensity_score_matching(frame, SPEC)
    # A few children on the wrong side of the line restore overlap: no error.
    flip = np.random.default_rng(1).random(len(frame)) < 0.03
    frame["supported"] = np.where(flip, score >= 92, score < 92).astype(int)
    assert propensity_score_matching(frame, SPEC).pairs


def test_no_overlap_within_the_caliper_gives_the_count(pilot):
    # Attendance made distinct for every child (the simulation clips some at 100%), so that
    # no two logits are equal, and a caliper far too narrow for any pair.
    frame = pilot.assign(baseline_attendance=pilot["baseline_attendance"] - pilot.index * 1e-5)
    with pytest.raises(NoOverlap, match=r"none of the \d+ supported children") as e:
        propensity_score_matching(frame, replace(SPEC, caliper_sd=1e-12))
    assert "caliper" in str(e.value)


def test_too_few_supported_or_comparison_children_gives_the_count(pilot):
    few = pilot.drop(pilot.index[pilot["supported"] == 1][4:])
    with pytest.raises(TooFewChildren, match="only 4 supported children"):
        propensity_score_matching(few, SPEC)
    few = pilot.drop(pilot.index[pilot["supported"] == 0][3:])
    with pytest.raises(TooFewChildren, match="only 3 comparison children"):
        propensity_score_matching(few, SPEC)


@pytest.mark.parametrize(
    ("change", "spec", "message"),
    [
        (lambda d: d.drop(columns="sen"), SPEC, "column 'sen' is not in the data"),
        (
            lambda d: d.assign(baseline_attendance=d["baseline_attendance"].mask(d.index < 2)),
            SPEC,
            r"'baseline_attendance' has 2 missing value",
        ),
        (lambda d: pd.concat([d, d.iloc[:1]]), SPEC, "a child appears twice"),
        (lambda d: d.assign(supported=d["supported"] * 2), SPEC, "0 or 1 only"),
        (lambda d: d.assign(phase="primary"), SPEC, "'phase' has one value"),
        (lambda d: d.assign(fsm2=d["fsm"]), replace(SPEC, numeric=("fsm", "fsm2")), "collinear"),
        (lambda d: d, replace(SPEC, numeric=(), categorical=()), "no covariates"),
        (lambda d: d, replace(SPEC, caliper_sd=0), "caliper 0"),
    ],
)
def test_bad_input_is_a_one_line_user_error(pilot, change, spec, message):
    with pytest.raises(MatchingError, match=message) as raised:
        propensity_score_matching(change(pilot), spec)
    assert "\n" not in str(raised.value)
