import pytest

from cwsw.indicators.suppression import Symbol, disclose


@pytest.mark.parametrize("count", [1, 2, 5])
def test_small_counts_are_suppressed(count: int) -> None:
    shown = disclose(numerator=count, value=count, threshold=5)
    assert shown.symbol is Symbol.SUPPRESSED and shown.value is None


@pytest.mark.parametrize("count", [0, 6, 120])
def test_zero_and_counts_above_the_threshold_are_shown(count: int) -> None:
    assert disclose(numerator=count, value=count, threshold=5).value == count


def test_a_rate_on_a_small_numerator_or_denominator_is_suppressed() -> None:
    assert disclose(numerator=3, denominator=40, value=7.5, threshold=5).suppressed
    assert disclose(numerator=4, denominator=4, value=100.0, threshold=5).suppressed
    assert disclose(numerator=10, denominator=40, value=25.0, threshold=5).value == 25.0


def test_threshold_is_a_setting() -> None:
    assert disclose(numerator=8, value=8, threshold=10).suppressed
    assert not disclose(numerator=8, value=8, threshold=5).suppressed


def test_no_denominator_is_not_applicable_and_no_value_not_available() -> None:
    assert (
        disclose(numerator=0, denominator=0, value=None, threshold=5).symbol
        is Symbol.NOT_APPLICABLE
    )
    assert disclose(numerator=None, value=None, threshold=5).symbol is Symbol.NOT_AVAILABLE


def test_child_level_roles_see_unsuppressed_figures() -> None:
    assert disclose(numerator=3, value=3, threshold=5, unrestricted=True).value == 3


# -- Tables: primary and secondary suppression (issue 5) -------------------------------------

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cwsw.indicators.suppression import (  # noqa: E402
    BUILT_ON,
    CELL_COLUMNS,
    Relation,
    suppress,
)

SMALLISH = st.one_of(st.integers(0, 7), st.integers(0, 60))
Key = tuple[str, int, int]  # (table, row, column), -1 for a margin


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, list[Relation], int]:
    """A two-way table of counts with its margins; a rate on each cell whose numerator is a
    second table of counts (with its own margins), as a mart's breakdowns give; and a rate of
    sessions on each cell (sessions missed over possible, not counts, with their own margins)
    resting on the cell's count, as absence rates rest on their enrolments."""
    n_rows, n_cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    threshold = draw(st.integers(1, 8))
    base = [[draw(SMALLISH) for _ in range(n_cols)] for _ in range(n_rows)]
    part = [[draw(st.integers(0, v)) for v in row] for row in base]
    possible = [[300 * v for v in row] for row in base]
    missed = [[draw(st.integers(0, v)) for v in row] for row in possible]
    cells: list[tuple[int, int, float | None, Key, Key, bool, bool, Key | None]] = []
    relations: list[Relation] = []
    counts: dict[tuple[str, int, int], int] = {}
    sessions: dict[tuple[str, int, int], int] = {}
    for name, grid in (("d", base), ("n", part), ("p", possible), ("m", missed)):
        values: dict[tuple[str, int, int], int] = {}
        for i in range(n_rows):
            for j in range(n_cols):
                values[(name, i, j)] = grid[i][j]
            values[(name, i, -1)] = sum(grid[i])
            relations.append(Relation((name, i, -1), tuple((name, i, j) for j in range(n_cols))))
        for j in range(n_cols):
            values[(name, -1, j)] = sum(grid[i][j] for i in range(n_rows))
            relations.append(Relation((name, -1, j), tuple((name, i, j) for i in range(n_rows))))
        values[(name, -1, -1)] = sum(map(sum, grid))
        relations.append(Relation((name, -1, -1), tuple((name, i, -1) for i in range(n_rows))))
        relations.append(Relation((name, -1, -1), tuple((name, -1, j) for j in range(n_cols))))
        if name == "d":
            for key, v in values.items():  # the counts themselves
                cells.append((v, v, float(v), key, key, True, True, None))
            counts = values
        elif name == "n":
            for key, v in values.items():  # the rate on each cell: n / d
                d_key = ("d", key[1], key[2])
                d = counts[d_key]
                cells.append((v, d, 100 * v / d if d else None, key, d_key, True, True, None))
        elif name == "p":
            sessions = values
        else:
            for key, v in values.items():  # the rate of sessions: m / p, resting on d
                p_key, d_key = ("p", key[1], key[2]), ("d", key[1], key[2])
                p = sessions[p_key]
                cells.append((v, p, 100 * v / p if p else None, key, p_key, False, False, d_key))
    frame = pd.DataFrame(cells, columns=[*CELL_COLUMNS, BUILT_ON])
    return frame, relations, threshold


def determined(unknown: list, relations: list[Relation], known: dict) -> list:
    """Unknowns that the relations fix, by rank: column j is independent of the others."""
    if not unknown:
        return []
    index = {k: j for j, k in enumerate(unknown)}
    rows = []
    for relation in relations:
        row = np.zeros(len(unknown))
        for key, sign in relation.signed():
            if key in index:
                row[index[key]] += sign
            else:
                assert key in known, "a relation names a figure the output never gave"
        if row.any():
            rows.append(row)
    if not rows:
        return []
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    return [
        k for k, j in index.items() if np.linalg.matrix_rank(np.delete(matrix, j, axis=1)) < rank
    ]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_small_count_leaves_and_no_suppressed_cell_can_be_recovered(
    table: tuple[pd.DataFrame, list[Relation], int],
) -> None:
    cells, relations, threshold = table
    out = suppress(cells, relations, threshold=threshold)
    shown = out[out.symbol.isna()]
    # 1. No count of 1..threshold is shown, as a count or as a rate's numerator or base;
    # and no rate is shown whose count it rests on is suppressed (or small).
    counted = shown[shown.numerator_is_count]
    for column in ("numerator", "denominator"):
        assert not ((counted[column] > 0) & (counted[column] <= threshold)).any()
    count_symbol = dict(zip(out.numerator_key, out.symbol, strict=True))
    resting = shown[shown.built_on_key.notna()]
    assert all(count_symbol[key] is None for key in resting.built_on_key)
    assert not any(
        0 < cells.numerator[cells.numerator_key == k].iloc[0] <= threshold
        for k in resting.built_on_key
    )
    # 2. What is shown is what came in.
    original = cells.loc[shown.index]
    assert (shown.numerator == original.numerator).all()
    assert (shown.denominator == original.denominator).all()
    # 3. No suppressed figure can be worked out from the figures shown and the totals.
    # A suppressed figure is one every row showing it gives as c; anything else (shown, or
    # only in a z row over a zero base) counts as known, which makes the check stricter.
    every = set(cells.numerator_key) | set(cells.denominator_key)
    suppressed_rows = out[out.symbol == "c"]
    in_c = set(suppressed_rows.numerator_key) | set(suppressed_rows.denominator_key)
    visible = set(shown.numerator_key) | set(shown.denominator_key)
    unknown = sorted(in_c - visible, key=str)
    known = dict.fromkeys(every - set(unknown), 0.0)
    for relation in relations:
        members = [relation.total, *relation.parts]
        assert sum(m not in known for m in members) != 1, relation
    assert determined(unknown, relations, known) == []


def test_unrestricted_sees_every_figure() -> None:
    frame = pd.DataFrame(
        [(3, 3, 3.0, "a", "a"), (50, 50, 50.0, "b", "b"), (53, 53, 53.0, "t", "t")],
        columns=["numerator", "denominator", "value", "numerator_key", "denominator_key"],
    ).assign(numerator_is_count=True, denominator_is_count=True)
    relations = [Relation("t", ("a", "b"))]
    assert suppress(frame, relations, threshold=5, unrestricted=True).symbol.isna().all()
    restricted = suppress(frame, relations, threshold=5)
    # a is primary; b would give it away (53 - 50), so it goes too; the total stays.
    assert list(restricted.symbol) == ["c", "c", None]


def test_a_rate_on_a_suppressed_base_goes_with_it_and_zero_bases_are_z() -> None:
    frame = pd.DataFrame(
        [
            (4, 4, 4.0, "pupils", "pupils"),
            (2, 4, 50.0, "absent", "pupils"),
            (0, 0, 0.0, "none", "none"),
            (0, 0, None, "absent0", "none"),
        ],
        columns=["numerator", "denominator", "value", "numerator_key", "denominator_key"],
    ).assign(numerator_is_count=True, denominator_is_count=True)
    out = suppress(frame, threshold=5)
    assert list(out.symbol) == ["c", "c", None, "z"]
    assert out.value.iloc[:2].isna().all() and out.value.iloc[2] == 0


def test_a_rate_resting_on_a_small_or_missing_count_is_withheld_but_shown_unrestricted() -> None:
    columns = ["numerator", "denominator", "value", "numerator_key", "denominator_key"]
    frame = pd.DataFrame(
        [
            (3, 3, 3.0, "enrolments", "enrolments"),
            (54, 900, 6.0, "missed", "possible"),  # 3 enrolments' sessions: rests on them
            (60, 1000, 6.0, "missed_b", "possible_b"),  # rests on a count not in the output
            (40, 800, 5.0, "missed_c", "possible_c"),  # rests on nothing
        ],
        columns=columns,
    ).assign(
        numerator_is_count=[True, False, False, False],
        denominator_is_count=[True, False, False, False],
        built_on_key=pd.Series([None, "enrolments", "enrolments_b", None]),
    )
    assert list(suppress(frame, threshold=5).symbol) == ["c", "c", "c", None]
    assert suppress(frame, threshold=5, unrestricted=True).symbol.isna().all()
    assert list(suppress(frame, threshold=2).symbol) == [None, None, "c", None]
