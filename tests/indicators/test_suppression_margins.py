"""Secondary suppression across margins (issue 14, method suppression-3): small sums of a
margin's hidden cells, breakdowns that cross (FSM x SEN against FSM and against SEN), and
bounds from whole, non-negative counts.

Each check here is made by a small linear program written in the test (not the gate's own
interval propagation): the least and the most each hidden count can be, given every figure
shown, the relations, and counts being non-negative; a hidden count from 1 to the threshold
must not be pinned to an interval narrower than the threshold, and the hidden cells of a
margin must not add up to a count from 1 to the threshold.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from cwsw.indicators.suppression import CELL_COLUMNS, Relation, suppress

THRESHOLD = 5


def _counts(values: dict[str, int]) -> pd.DataFrame:
    rows = [(v, v, float(v), k, k, True, True) for k, v in values.items()]
    return pd.DataFrame(rows, columns=list(CELL_COLUMNS))


def _hidden_and_shown(out: pd.DataFrame) -> tuple[list[str], dict[str, float]]:
    hidden = sorted(out.numerator_key[out.symbol == "c"])
    shown = {k: float(v) for k, v in zip(out.numerator_key, out.numerator, strict=True) if k}
    return hidden, {k: v for k, v in shown.items() if k not in hidden}


def _equations(
    relations: Sequence[Relation], hidden: list[str], shown: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    index = {k: j for j, k in enumerate(hidden)}
    rows, rhs = [], []
    for relation in relations:
        row = np.zeros(len(hidden))
        constant = 0.0
        signed: list[tuple[Hashable, int]] = [(relation.total, 1)]
        signed += [(k, 1) for k in relation.more_totals]
        signed += [(k, -1) for k in relation.parts]
        for key, sign in signed:
            if key in index:
                row[index[key]] += sign
            else:
                constant += sign * shown[str(key)]
        if row.any():
            rows.append(row)
            rhs.append(-constant)
    return np.array(rows), np.array(rhs)


def interval(
    target: str, relations: Sequence[Relation], hidden: list[str], shown: dict[str, float]
) -> tuple[float, float]:
    """The least and the most ``target`` can be, by linear programming."""
    a_eq, b_eq = _equations(relations, hidden, shown)
    objective = np.zeros(len(hidden))
    objective[hidden.index(target)] = 1.0
    ends = []
    for direction in (1.0, -1.0):
        result = linprog(direction * objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None))
        assert result.status in (0, 3), result.message
        ends.append(direction * result.fun if result.status == 0 else np.inf)
    return ends[0], ends[1]


def assert_protected(out: pd.DataFrame, relations: Sequence[Relation]) -> None:
    hidden, shown = _hidden_and_shown(out)
    for key in hidden:
        low, high = interval(key, relations, hidden, shown)
        assert not (high - low < THRESHOLD and low <= THRESHOLD and high >= 1), (key, low, high)
    for relation in relations:
        members = [relation.total, *relation.more_totals, *relation.parts]
        hidden_parts = [k for k in relation.parts if k in hidden]
        if len(hidden_parts) >= 2 and all(
            k not in hidden for k in members if k not in relation.parts
        ):
            gap = sum(shown[str(k)] for k in (relation.total, *relation.more_totals))
            gap -= sum(shown[str(k)] for k in relation.parts if k not in hidden)
            assert not 0 < gap <= THRESHOLD, (relation, gap)


def test_the_hidden_cells_of_a_margin_may_not_add_up_to_a_small_count() -> None:
    """The issue's attack: 32 pupils, Primary 28 and two c cells that hold 4 between them."""
    values = {"all": 32, "primary": 28, "special": 2, "ap": 2}
    relations = [Relation("all", ("primary", "special", "ap"))]
    out = suppress(_counts(values), relations, threshold=THRESHOLD)
    hidden, _ = _hidden_and_shown(out)
    assert {"special", "ap"} <= set(hidden)
    assert len(hidden) >= 3  # a third cell goes, so the two are not known to hold 4
    assert_protected(out, relations)


def test_a_small_sum_is_recognised_without_rounding_help() -> None:
    """Three parts hidden that add up to the threshold exactly: still a small count."""
    values = {"all": 60, "a": 55, "b": 2, "c": 2, "d": 1}
    relations = [Relation("all", ("a", "b", "c", "d"))]
    out = suppress(_counts(values), relations, threshold=THRESHOLD)
    assert set(_hidden_and_shown(out)[0]) == {"a", "b", "c", "d"}
    assert_protected(out, relations)


def _fsm_sen() -> tuple[dict[str, int], list[Relation]]:
    values = {
        "all": 40,
        "fsm": 10,
        "not_fsm": 30,
        "sen_support": 9,
        "ehcp": 6,
        "no_sen": 25,
        "fsm_and_sen": 3,
        "fsm_no_sen": 7,
        "sen_not_fsm": 12,
        "neither": 18,
    }
    relations = [
        Relation("all", ("fsm", "not_fsm")),
        Relation("all", ("sen_support", "ehcp", "no_sen")),
        Relation("all", ("fsm_and_sen", "fsm_no_sen", "sen_not_fsm", "neither")),
        Relation("fsm", ("fsm_and_sen", "fsm_no_sen")),
        Relation("not_fsm", ("sen_not_fsm", "neither")),
        Relation("sen_support", ("fsm_and_sen", "sen_not_fsm"), ("ehcp",)),
    ]
    return values, relations


def test_a_cell_of_crossed_breakdowns_is_protected_against_both_margins() -> None:
    values, relations = _fsm_sen()
    out = suppress(_counts(values), relations, threshold=THRESHOLD)
    hidden, _ = _hidden_and_shown(out)
    assert "fsm_and_sen" in hidden
    assert_protected(out, relations)


def test_without_the_crossing_relations_the_same_output_is_open_to_attack() -> None:
    """The control: protected only within each breakdown, FSM and SEN = FSM - FSM, no SEN."""
    values, relations = _fsm_sen()
    within_each = [r for r in relations if r.total == "all"]
    out = suppress(_counts(values), within_each, threshold=THRESHOLD)
    with pytest.raises(AssertionError):
        assert_protected(out, relations)


def test_two_totals_relation_is_dropped_where_it_does_not_hold() -> None:
    """A school with pupils of two phases breaks its phase's sum: the gate drops the false
    relation (it would otherwise hide cells for nothing) and still protects the true ones."""
    values = {"all": 40, "a": 3, "b": 37}
    false = Relation("all", ("a",))  # 40 != 3
    out = suppress(_counts(values), [Relation("all", ("a", "b")), false], threshold=THRESHOLD)
    assert list(out.symbol) == [None, "c", "c"]
