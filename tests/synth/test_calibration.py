"""A large synthetic LA reproduces docs/domain.md's national figures, measured from its files.

Every figure is computed by ``synth_measures`` from the written files (lxml / csv), never from
the generator. Tolerance: the stated percentage points, widened to three binomial standard
errors where a group is small (CPPO and CLA 12 months have a few hundred pupils, and only a
twelfth of them sit KS2).
"""

from __future__ import annotations

import math

import pytest
from lxml import etree
from synth_measures import Measures, compute, report

from cwsw.synth import SynthSummary

pytestmark = pytest.mark.slow

# docs/domain.md §4 (2024/25): overall absence, persistent, severe, KS2 RWM, Attainment 8.
NATIONAL = {
    "CINO": (0.174, 0.460, 0.113, 0.30, 17.3),
    "CPPO": (0.218, 0.554, 0.154, 0.32, 16.9),
    "CLA 12 months": (0.090, 0.203, 0.064, 0.35, 17.3),
    "all pupils": (0.065, 0.18, 0.02, 0.62, 46.0),
}


@pytest.fixture(scope="module")
def measures(large_la: SynthSummary) -> Measures:
    m = compute(large_la.out)
    print(report(m))
    return m


def _near(value: float, target: float, tol: float, n: float) -> bool:
    se = math.sqrt(max(target * (1 - target), 1e-6) / max(n, 1))
    return abs(value - target) <= max(tol, 3 * se)


def test_status_prevalence_and_ever_six(measures: Measures) -> None:
    m = measures
    share = {g: m.share({u for u, x in m.group.items() if x == g}) for g in NATIONAL}
    assert abs(share["CINO"] - 0.015) <= 0.004, share
    assert abs(share["CPPO"] - 0.005) <= 0.002, share
    assert abs(share["CLA 12 months"] - 0.005) <= 0.002, share
    at_31_march = sum(share[g] for g in ("CINO", "CPPO", "CLA 12 months"))
    assert m.share(m.in_year_cin) > 1.8 * at_31_march
    assert 0.08 <= m.share(m.ever6) <= 0.14


def test_half_of_cin_at_31_march_are_not_pupils(large_la: SynthSummary, measures: Measures) -> None:
    doc = etree.parse(str(large_la.out / "cin_census/cin_census_2025.xml"))
    open_cin = pupils = 0
    for child in doc.iter("Child"):
        if any(
            ep.findtext("ReferralNFA") == "0" and ep.find("CINclosureDate") is None
            for ep in child.iter("CINdetails")
        ):
            open_cin += 1
            pupils += (child.findtext("ChildIdentifiers/UPN") or "") in measures.spring_upns
    assert 0.35 <= pupils / open_cin <= 0.65


@pytest.mark.parametrize("group", list(NATIONAL))
def test_absence_by_group(measures: Measures, group: str) -> None:
    overall, pa, sa, _, _ = NATIONAL[group]
    a = measures.absence[group]
    assert abs(a["overall"] - overall) <= 0.03, a
    assert _near(a["pa"], pa, 0.04, a["n"]), a
    assert _near(a["sa"], sa, 0.04, a["n"]), a


def test_cino_persistent_absence_by_phase(measures: Measures) -> None:
    for phase, target in (("Primary", 0.34), ("Secondary", 0.61), ("Alternative provision", 0.92)):
        a = measures.absence_by_phase[("CINO", phase)]
        assert _near(a["pa"], target, 0.05, a["n"]), (phase, a)


def test_sen_fsm_and_exclusions(measures: Measures) -> None:
    m = measures
    n = {g: m.absence[g]["n"] for g in NATIONAL}
    assert _near(m.ehc["CINO"], 0.27, 0.04, n["CINO"])
    assert _near(m.ehc["all pupils"], 0.04, 0.04, n["all pupils"])
    assert _near(m.any_sen["CINO"], 0.48, 0.05, n["CINO"])
    assert _near(m.any_sen["all pupils"], 0.16, 0.03, n["all pupils"])
    assert abs(m.fsm["all pupils"] - 0.25) <= 0.03
    assert m.fsm["CINO"] >= 2 * m.fsm["all pupils"]
    assert _near(m.suspended["CINO"], 0.087, 0.03, n["CINO"])
    assert abs(m.suspended["all pupils"] - 0.022) <= 0.01
    assert m.permanent["all pupils"] <= 0.0015
    assert m.permanent["CINO"] >= 3 * m.permanent["all pupils"]


@pytest.mark.parametrize("group", list(NATIONAL))
def test_attainment_by_group(measures: Measures, group: str) -> None:
    *_, rwm, att8 = NATIONAL[group]
    n_ks2 = measures.absence[group]["n"] / 12  # one year group in twelve
    assert _near(measures.ks2_rwm[group], rwm, 0.06, n_ks2), measures.ks2_rwm
    tol = 3.0 if group == "all pupils" else 5.0
    assert abs(measures.att8[group] - att8) <= tol, measures.att8
