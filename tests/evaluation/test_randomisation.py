"""Stratified randomisation of schools (cwsw.evaluation.randomisation): every school once,
strata balanced, the documented method re-done by hand, fair odds over seeds, the same bytes
in another process, the CSV's header, the balance table against pandas, and refusals."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cwsw.errors import UserError
from cwsw.evaluation.randomisation import (
    Allocation,
    RandomisationError,
    allocation_csv,
    balance_table,
    randomise_schools,
    stratum_counts,
    write_allocation_csv,
)


def _schools(seed: int = 7) -> pd.DataFrame:
    """Invented schools in three local authorities: strata of odd and even sizes, one of a
    single school; LAESTAB-like identifiers, phase, pupils and FSM share."""
    rng = np.random.default_rng(seed)
    rows = []
    layout = {
        "800": {"primary": 7, "secondary": 4},
        "801": {"primary": 6, "secondary": 3},
        "802": {"primary": 1, "secondary": 5},
    }
    number = 0
    for la, phases in layout.items():
        for phase, count in phases.items():
            for _ in range(count):
                number += 1
                pupils = int(
                    rng.integers(150, 450) if phase == "primary" else rng.integers(700, 1500)
                )
                rows.append(
                    {
                        "laestab": int(la) * 10_000 + 2000 + number,
                        "la_code": int(la),
                        "phase": phase,
                        "pupils": pupils,
                        "fsm_share": float(rng.uniform(0.05, 0.45)),
                        "academy": bool(rng.random() < 0.5),
                    }
                )
    return pd.DataFrame(rows)


def test_every_school_is_allocated_exactly_once() -> None:
    schools = _schools()
    allocation = randomise_schools(schools, seed=11, strata=["phase"])
    table = allocation.table
    assert sorted(table["laestab"]) == sorted(schools["laestab"].astype(str))
    assert not table["laestab"].duplicated().any()
    assert set(table["arm"]) == {"control", "intervention"}
    assert allocation.seed == 11


@pytest.mark.parametrize("seed", [0, 1, 2, 99, 2**40])
def test_each_stratum_and_the_whole_trial_are_balanced_to_within_one_school(seed: int) -> None:
    schools = _schools()
    allocation = randomise_schools(schools, seed=seed, strata=["phase"])
    counts = stratum_counts(allocation)
    assert (counts["control"] - counts["intervention"]).abs().max() <= 1
    assert counts["schools"].sum() == len(schools)
    # Checked again from the table itself, by LA and phase, not by the stratum label.
    by_cell = allocation.table.groupby(["la_code", "phase", "arm"]).size().unstack(fill_value=0)
    assert (by_cell["control"] - by_cell["intervention"]).abs().max() <= 1
    overall = allocation.table["arm"].value_counts()
    assert abs(int(overall["control"]) - int(overall["intervention"])) <= 1


def test_strata_are_the_la_alone_unless_more_are_named() -> None:
    schools = _schools()
    by_la = randomise_schools(schools, seed=3)
    assert set(by_la.table["stratum"]) == {"800", "801", "802"}
    assert by_la.strata_columns == ("la_code",)
    finer = randomise_schools(schools, seed=3, strata=["phase"])
    assert "801 / secondary" in set(finer.table["stratum"])


def test_different_seeds_give_different_allocations() -> None:
    schools = _schools()
    arms = {
        tuple(randomise_schools(schools, seed=seed, strata=["phase"]).table["arm"])
        for seed in range(10)
    }
    assert len(arms) == 10


def test_the_allocation_does_not_depend_on_row_order_or_identifier_type() -> None:
    schools = _schools()
    shuffled = schools.sample(frac=1.0, random_state=5).reset_index(drop=True)
    shuffled["laestab"] = shuffled["laestab"].astype(str)  # read as text this time
    first = randomise_schools(schools, seed=21, strata=["phase"])
    second = randomise_schools(shuffled, seed=21, strata=["phase"])
    assert allocation_csv(first) == allocation_csv(second)


def _by_the_documented_method(schools: pd.DataFrame, seed: int) -> dict[str, str]:
    """The module docstring's method, done again from its words with a bare PCG64 Generator."""
    rows = sorted(
        ((str(la), str(phase)), str(school))
        for school, la, phase in zip(
            schools["laestab"], schools["la_code"], schools["phase"], strict=True
        )
    )
    strata: dict[tuple[str, str], list[str]] = {}
    for stratum, school in rows:
        strata.setdefault(stratum, []).append(school)
    ordered = sorted(strata)
    rng = np.random.Generator(np.random.PCG64(seed))
    odd = [s for s in ordered if len(strata[s]) % 2 == 1]
    to_intervention = len(odd) // 2
    if len(odd) % 2 == 1 and rng.random() >= 0.5:
        to_intervention += 1
    keys = rng.random(len(odd))
    odd_in_random_order = [odd[i] for i in sorted(range(len(odd)), key=lambda i: (keys[i], i))]
    spare = {
        s: ("intervention" if rank < to_intervention else "control")
        for rank, s in enumerate(odd_in_random_order)
    }
    arm_of = {}
    for s in ordered:
        members = strata[s]
        half = len(members) // 2
        arms = ["control"] * half + ["intervention"] * half + ([spare[s]] if s in spare else [])
        school_keys = rng.random(len(members))
        by_key = sorted(range(len(members)), key=lambda i: (school_keys[i], i))
        for rank, i in enumerate(by_key):
            arm_of[members[i]] = arms[rank]
    return arm_of


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_the_code_does_what_its_documentation_says(seed: int) -> None:
    schools = _schools()
    allocation = randomise_schools(schools, seed=seed, strata=["phase"])
    assert allocation.arm_of() == _by_the_documented_method(schools, seed)


def test_every_school_has_an_even_chance_over_seeds() -> None:
    # Strata of 3, 5, 1 and 2 schools: three odd strata, so one spare is decided by a draw.
    schools = pd.DataFrame(
        {
            "laestab": [f"80{i:05d}" for i in range(11)],
            "la_code": ["800"] * 3 + ["801"] * 5 + ["802"] * 1 + ["803"] * 2,
        }
    )
    seeds = 2000
    treated = pd.Series(0, index=schools["laestab"])
    more_intervention = 0
    for seed in range(seeds):
        table = randomise_schools(schools, seed=seed).table
        arms = table.set_index("laestab")["arm"] == "intervention"
        treated += arms.astype(int)
        n_intervention = int(arms.sum())
        assert n_intervention in (5, 6)  # 11 schools: the whole trial within one
        more_intervention += n_intervention == 6
    share = treated / seeds
    # Each school: binomial(2000, 1/2), so within 4 standard errors (0.045) of one half.
    assert (share - 0.5).abs().max() <= 4 * math.sqrt(0.25 / seeds)
    assert abs(more_intervention / seeds - 0.5) <= 4 * math.sqrt(0.25 / seeds)


def test_the_same_seed_gives_the_same_bytes_in_another_process(tmp_path: Path) -> None:
    schools = _schools()
    source = tmp_path / "schools.csv"
    schools.to_csv(source, index=False)
    here = tmp_path / "here.csv"
    write_allocation_csv(randomise_schools(schools, seed=2027, strata=["phase"]), here)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        import pandas as pd
        from cwsw.evaluation.randomisation import randomise_schools, write_allocation_csv
        schools = pd.read_csv(sys.argv[1])
        allocation = randomise_schools(schools, seed=2027, strata=["phase"])
        write_allocation_csv(allocation, Path(sys.argv[2]))
        """
    )
    for hash_seed in ("0", "4242"):
        there = tmp_path / f"there-{hash_seed}.csv"
        done = subprocess.run(
            [sys.executable, "-c", script, str(source), str(there)],
            capture_output=True,
            text=True,
            env=os.environ | {"PYTHONHASHSEED": hash_seed},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert there.read_bytes() == here.read_bytes()


def test_the_csv_carries_the_seed_and_method_and_reads_back(tmp_path: Path) -> None:
    schools = _schools()
    allocation = randomise_schools(schools, seed=31, strata=["phase"])
    path = write_allocation_csv(allocation, tmp_path / "allocation.csv")
    text = path.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "# seed: 31" in header
    assert any(line.startswith("# method: stratified randomisation") for line in header)
    assert "# strata: la_code, phase" in header
    assert any(line.startswith("# inputs_sha256: ") and len(line) == 17 + 64 for line in header)
    assert "\r" not in text
    read = pd.read_csv(path, comment="#", dtype=str)
    pd.testing.assert_frame_equal(read, allocation.table)
    # The same schools under another seed record another seed and the same inputs.
    other = allocation_csv(randomise_schools(schools, seed=32, strata=["phase"]))
    assert "# seed: 32" in other
    assert allocation.inputs_sha256 in other


def test_balance_table_matches_pandas(tmp_path: Path) -> None:
    schools = _schools()
    schools.loc[3, "fsm_share"] = np.nan  # one school without a value
    allocation = randomise_schools(schools, seed=8, strata=["phase"])
    table = balance_table(allocation, schools, ["pupils", "fsm_share", "academy"])
    arm = schools["laestab"].astype(str).map(allocation.arm_of())
    for covariate in ("pupils", "fsm_share", "academy"):
        values = schools[covariate].astype(float)
        groups = values.groupby(arm)
        control = values[arm == "control"].dropna()
        intervention = values[arm == "intervention"].dropna()
        row = table.set_index("covariate").loc[covariate]
        assert row["n_control"] == len(control) and row["n_intervention"] == len(intervention)
        assert row["mean_control"] == pytest.approx(groups.mean()["control"])
        assert row["mean_intervention"] == pytest.approx(groups.mean()["intervention"])
        assert row["sd_control"] == pytest.approx(groups.std()["control"])
        pooled = math.sqrt((control.var() + intervention.var()) / 2)
        assert row["smd"] == pytest.approx((intervention.mean() - control.mean()) / pooled)
    assert table.set_index("covariate").loc["fsm_share", ["n_control", "n_intervention"]].sum() == (
        len(schools) - 1
    )


def test_a_covariate_without_spread_has_a_zero_or_infinite_smd() -> None:
    schools = _schools()
    schools["constant"] = 1.0
    allocation = randomise_schools(schools, seed=8)
    schools["by_arm"] = (
        schools["laestab"].astype(str).map(allocation.arm_of()) == "intervention"
    ).astype(float)
    table = balance_table(allocation, schools, ["constant", "by_arm"]).set_index("covariate")
    assert table.loc["constant", "smd"] == 0.0
    assert table.loc["by_arm", "smd"] == math.inf


def _refused(call: object, named: str) -> None:
    assert callable(call)
    with pytest.raises(RandomisationError) as raised:
        call()
    assert isinstance(raised.value, UserError)
    message = str(raised.value)
    assert named in message and "\n" not in message


def test_bad_schools_are_refused_with_one_clear_line() -> None:
    schools = _schools()
    twice = pd.concat([schools, schools.iloc[[0]]], ignore_index=True)
    _refused(lambda: randomise_schools(twice, seed=1), "more than once")
    _refused(lambda: randomise_schools(schools, seed=1, strata=["size_band"]), "size_band")
    _refused(lambda: randomise_schools(schools.drop(columns="la_code"), seed=1), "la_code")
    gap = schools.copy()
    gap.loc[2, "phase"] = None
    _refused(lambda: randomise_schools(gap, seed=1, strata=["phase"]), "phase")
    _refused(lambda: randomise_schools(schools.iloc[0:0], seed=1), "at least two schools")
    _refused(lambda: randomise_schools(schools.iloc[0:1], seed=1), "at least two schools")
    _refused(lambda: randomise_schools(schools, seed=1, strata=["la_code"]), "differ")


@pytest.mark.parametrize("seed", [None, -1, 1.5, True, "7"])
def test_a_seed_that_cannot_be_recorded_is_refused(seed: object) -> None:
    _refused(lambda: randomise_schools(_schools(), seed=seed), "seed")  # type: ignore[arg-type]


def test_arms_must_be_two_different_names() -> None:
    _refused(lambda: randomise_schools(_schools(), seed=1, arms=("a", "a")), "arms")
    _refused(lambda: randomise_schools(_schools(), seed=1, arms=("a", "b", "c")), "arms")
    renamed = randomise_schools(_schools(), seed=1, arms=("business as usual", "SWIS"))
    assert set(renamed.table["arm"]) == {"business as usual", "SWIS"}


def test_balance_table_refusals() -> None:
    schools = _schools()
    allocation: Allocation = randomise_schools(schools, seed=1)
    _refused(lambda: balance_table(allocation, schools, ["phase"]), "not numeric")
    _refused(lambda: balance_table(allocation, schools, ["ofsted"]), "ofsted")
    _refused(lambda: balance_table(allocation, schools.iloc[1:], ["pupils"]), "not in the schools")
