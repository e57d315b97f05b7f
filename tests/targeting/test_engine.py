"""The rating engine on small fact tables whose answers are worked out by hand in each test.

Every expected answer below is written out literally (a truth table, a rating, a sentence),
from the rule's words and the facts beside it, never computed by the code under test.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cwsw.cohort.status import CHILD_IN_NEED, CP_PLAN, LOOKED_AFTER, PREVIOUSLY
from cwsw.targeting.engine import FactsError, Ratings, rate
from cwsw.targeting.rules import RuleSet, Term, parse_rules, read_rules

SPRING = Term.parse("spring 2025")
NaN = float("nan")
T, F, U = "true", "false", "not known"
Columns = Mapping[str, Sequence[object]]

# An amber rating is required; this one reads a column every table here has, all zeros.
NEVER_AMBER = """
[[amber.rule]]
name = "Permanently excluded"
measure = "permanent_exclusions"
op = ">="
value = 1
"""
QUIET = "permanent_exclusions[spring 2025]"


def rules_with(red: str, *, unknown: str = "does not fire", amber: str = NEVER_AMBER) -> RuleSet:
    return parse_rules(f'[red]\nunknown = "{unknown}"\n' + textwrap.dedent(red) + amber)


def red_rule(name: str, condition: str) -> str:
    return f'\n[[red.rule]]\nname = "{name}"\n{textwrap.dedent(condition).strip()}\n'


def facts(columns: Columns) -> pd.DataFrame:
    """A facts table: children c00, c01, ... in the order of the lists, plus the quiet column."""
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({"la_child_id": [f"c{i:02d}" for i in range(n)], **columns})
    if QUIET not in frame:
        frame[QUIET] = 0
    return frame


def answers(condition: str, columns: Columns) -> list[str]:
    """Each child's answer to one condition: red when true, listed as not known when not
    known (red does not count not known as firing), else false."""
    rated = rate(rules_with(red_rule("R", condition)), facts(columns), SPRING).children
    return [
        T if rating == "red" else U if not_known == "R" else F
        for rating, not_known in zip(rated.rating, rated.not_known, strict=True)
    ]


# --- each operator ----------------------------------------------------------------------------

ATTENDANCE = {"attendance_pct[spring 2025]": [49.9, 50.0, 50.1, NaN]}


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("<", [T, F, F, U]),
        ("<=", [T, T, F, U]),
        (">", [F, F, T, U]),
        (">=", [F, T, T, U]),
        ("==", [F, T, F, U]),
        ("!=", [T, F, T, U]),
    ],
)
def test_each_comparison_on_a_percentage(op: str, expected: list[str]) -> None:
    """49.9, 50.0, 50.1 and a missing value against 50: the missing one is never false."""
    condition = f'measure = "attendance_pct"\nop = "{op}"\nvalue = 50'
    assert answers(condition, ATTENDANCE) == expected


def test_in_on_a_count() -> None:
    condition = 'measure = "suspensions"\nop = "in"\nvalue = [1, 3]'
    columns = {"suspensions[spring 2025]": [0, 1, 2, 3, None]}
    assert answers(condition, columns) == [F, T, F, T, U]


def test_each_comparison_on_a_count() -> None:
    columns = {"suspensions[spring 2025]": [0, 1, 2, None]}
    expected = {
        "<": [T, F, F, U],
        "<=": [T, T, F, U],
        ">": [F, F, T, U],
        ">=": [F, T, T, U],
        "==": [F, T, F, U],
        "!=": [T, F, T, U],
    }
    for op, wanted in expected.items():
        condition = f'measure = "suspensions"\nop = "{op}"\nvalue = 1'
        assert answers(condition, columns) == wanted, op


def test_status_equal_not_equal_and_in() -> None:
    columns = {"social_care_status": [LOOKED_AFTER, CP_PLAN, CHILD_IN_NEED, PREVIOUSLY, None]}
    equal = 'measure = "social_care_status"\nop = "=="\nvalue = "Child protection plan"'
    assert answers(equal, columns) == [F, T, F, F, U]
    unequal = 'measure = "social_care_status"\nop = "!="\nvalue = "Child in need"'
    assert answers(unequal, columns) == [T, T, F, T, U]
    within = 'measure = "social_care_status"\nop = "in"\nvalue = ["Looked after", "Child in need"]'
    assert answers(within, columns) == [T, F, T, F, U]


def test_yes_no_facts_equal_and_not_equal() -> None:
    columns = {"on_roll": [True, False, None]}
    assert answers('measure = "on_roll"\nop = "=="\nvalue = true', columns) == [T, F, U]
    assert answers('measure = "on_roll"\nop = "=="\nvalue = false', columns) == [F, T, U]
    assert answers('measure = "on_roll"\nop = "!="\nvalue = true', columns) == [F, T, U]


def test_terms_ago_reads_the_earlier_term() -> None:
    """terms_ago = 1 on spring 2025 is autumn 2024: the spring column is not read."""
    columns = {
        "attendance_pct[autumn 2024]": [40.0, 95.0],
        "attendance_pct[spring 2025]": [95.0, 40.0],
    }
    condition = 'measure = "attendance_pct"\nterms_ago = 1\nop = "<"\nvalue = 50'
    assert answers(condition, columns) == [T, F]


def test_change_between_terms() -> None:
    """Later less earlier, summer 2024 to spring 2025: 92.3 -> 87.3 is a fall of exactly 5
    (in floating point 87.3 - 92.3 is -4.999999999999986, which must not decide it)."""
    columns = {
        "attendance_pct[summer 2024]": [92.3, 90.0, 80.0, NaN, 80.0],
        "attendance_pct[spring 2025]": [87.3, 85.1, 90.0, 80.0, NaN],
    }
    condition = 'change = "attendance_pct"\nfrom_terms_ago = 2\nop = "<="\nvalue = -5'
    assert answers(condition, columns) == [T, F, F, U, U]


def test_change_to_an_earlier_term() -> None:
    """from 3 terms ago to 1 term ago: spring 2024 to autumn 2024; spring 2025 is not read."""
    columns = {
        "suspensions[spring 2024]": [0, 0],
        "suspensions[autumn 2024]": [2, 1],
        "suspensions[spring 2025]": [0, 5],
    }
    condition = 'change = "suspensions"\nfrom_terms_ago = 3\nto_terms_ago = 1\nop = ">="\nvalue = 2'
    assert answers(condition, columns) == [T, F]


WINDOW = ["suspensions[summer 2024]", "suspensions[autumn 2024]", "suspensions[spring 2025]"]


def window(rows: Sequence[tuple[float, float, float]]) -> Columns:
    """Columns of suspensions in summer 2024, autumn 2024 and spring 2025, one tuple a child."""
    return {name: [row[i] for row in rows] for i, name in enumerate(WINDOW)}


def test_count_over_a_window_decided_by_the_known_terms() -> None:
    """A total over three terms lies between the known terms' sum and no upper bound (a
    missing term may hold any number of suspensions)."""
    rows = [(0, 0, 1), (NaN, NaN, 1), (0, NaN, 0), (0, 0, 0), (1, 1, NaN), (NaN, NaN, NaN)]
    at_least_one = 'count = "suspensions"\nin_last_terms = 3\nop = ">="\nvalue = 1'
    assert answers(at_least_one, window(rows)) == [T, T, U, F, T, U]
    at_most_one = 'count = "suspensions"\nin_last_terms = 3\nop = "<="\nvalue = 1'
    assert answers(at_most_one, window(rows)) == [T, U, U, T, F, U]
    exactly_one = 'count = "suspensions"\nin_last_terms = 3\nop = "=="\nvalue = 1'
    assert answers(exactly_one, window(rows)) == [T, U, U, F, F, U]
    not_one = 'count = "suspensions"\nin_last_terms = 3\nop = "!="\nvalue = 1'
    assert answers(not_one, window(rows)) == [F, U, U, T, T, U]
    one_or_two = 'count = "suspensions"\nin_last_terms = 3\nop = "in"\nvalue = [1, 2]'
    assert answers(one_or_two, window(rows)) == [T, U, U, F, U, U]
    fewer_than_two = 'count = "suspensions"\nin_last_terms = 3\nop = "<"\nvalue = 2'
    assert answers(fewer_than_two, window(rows)) == [T, U, U, T, F, U]


def test_count_window_of_one_term_is_this_term() -> None:
    rows = [(5, 5, 0), (0, 0, 1)]
    condition = 'count = "suspensions"\nin_last_terms = 1\nop = ">="\nvalue = 1'
    assert answers(condition, window(rows)) == [F, T]


def test_count_of_terms_a_flag_was_yes() -> None:
    """Persistently absent in 2 of the last 3 terms: with a term missing the count lies
    between the known yeses and those plus one."""
    names = [f"persistently_absent[{t}]" for t in ("summer 2024", "autumn 2024", "spring 2025")]
    rows: list[tuple[object, object, object]] = [
        (True, True, False),
        (True, False, False),
        (True, True, None),
        (False, False, None),
        (True, False, None),
    ]
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    condition = 'count = "persistently_absent"\nin_last_terms = 3\nop = ">="\nvalue = 2'
    assert answers(condition, columns) == [T, F, T, F, U]


# --- three-valued logic -----------------------------------------------------------------------

# Two yes/no facts, each true, false or not known: nine children.
PAIRS = [(a, b) for a in (True, False, None) for b in (True, False, None)]
TWO_FLAGS = {
    "on_roll": [a for a, _ in PAIRS],
    "compulsory_school_age": [b for _, b in PAIRS],
}
A = '{ measure = "on_roll", op = "==", value = true }'
B = '{ measure = "compulsory_school_age", op = "==", value = true }'


def test_all_is_false_if_any_part_is_false_true_if_all_are_true() -> None:
    # (a, b):  TT  TF  TU  FT  FF  FU  UT  UF  UU
    assert answers(f"all = [ {A}, {B} ]", TWO_FLAGS) == [T, F, U, F, F, F, U, F, U]


def test_any_is_true_if_any_part_is_true_false_if_all_are_false() -> None:
    # (a, b):  TT  TF  TU  FT  FF  FU  UT  UF  UU
    assert answers(f"any = [ {A}, {B} ]", TWO_FLAGS) == [T, T, T, T, F, U, T, U, U]


def test_not_swaps_true_and_false_and_keeps_not_known() -> None:
    # a:  T  T  T  F  F  F  U  U  U
    assert answers(f"not = {A}", TWO_FLAGS) == [F, F, F, T, T, T, U, U, U]


def test_nested_conditions() -> None:
    """not (a and b) or ... : not all = [a, b] is true where either is false."""
    # (a, b):  TT  TF  TU  FT  FF  FU  UT  UF  UU
    assert answers(f"not = {{ all = [ {A}, {B} ] }}", TWO_FLAGS) == [F, T, U, T, T, T, U, T, U]


# --- precedence and not known ----------------------------------------------------------------

PRECEDENCE = """
[red]
unknown = "{unknown}"

[[red.rule]]
name = "Severely absent"
measure = "severely_absent"
op = "=="
value = true

[[red.rule]]
name = "Suspended"
measure = "suspensions"
op = ">="
value = 1

[[amber.rule]]
name = "Persistently absent"
measure = "persistently_absent"
op = "=="
value = true
"""
PRECEDENCE_FACTS: Columns = {
    "severely_absent[spring 2025]": [True, False, False, False, None, False, None],
    "suspensions[spring 2025]": [1, 1, 0, 0, 0, None, 1],
    "persistently_absent[spring 2025]": [True, True, True, False, True, None, True],
}


def precedence_ratings(unknown: str) -> pd.DataFrame:
    rules = parse_rules(PRECEDENCE.format(unknown=unknown))
    return rate(rules, facts(PRECEDENCE_FACTS), SPRING).children


def test_red_before_amber_and_rules_in_file_order() -> None:
    rated = precedence_ratings("does not fire")
    assert list(rated.rating) == ["red", "red", "amber", "green", "amber", "green", "red"]
    assert list(rated.rule) == [
        "Severely absent",  # both red rules fired: the first in the file gives the rating
        "Suspended",
        "Persistently absent",
        None,
        "Persistently absent",  # severe absence not known: does not fire, but is listed
        None,
        "Suspended",
    ]
    assert list(rated.fired) == [
        "Severely absent; Suspended; Persistently absent",
        "Suspended; Persistently absent",
        "Persistently absent",
        "",
        "Persistently absent",
        "",
        "Suspended; Persistently absent",
    ]
    # Only rules before the deciding one are listed as not known: they could have changed it.
    assert list(rated.not_known) == [
        "",
        "",
        "",
        "",
        "Severely absent",
        "Suspended; Persistently absent",
        "Severely absent",
    ]
    assert list(rated.basis) == [
        "fired",
        "fired",
        "fired",
        "otherwise",
        "fired",
        "otherwise",
        "fired",
    ]
    assert rated.explanation[3] == "no red or amber rule fired"
    assert rated.explanation[4] == (
        "Persistently absent: persistently absent in spring 2025; not known whether Severely "
        "absent: whether severely absent in spring 2025 not known"
    )


def test_a_rating_that_counts_not_known_as_firing() -> None:
    """unknown = "fires" on red: a child whose red rule is not known is red, on that basis;
    a true red rule still wins over a not-known one before it."""
    rated = precedence_ratings("fires")
    assert list(rated.rating) == ["red", "red", "amber", "green", "red", "red", "red"]
    assert list(rated.rule)[4:] == ["Severely absent", "Suspended", "Suspended"]
    assert list(rated.basis)[4:] == ["not known", "not known", "fired"]
    assert rated.explanation[4] == (
        "Severely absent: not known: whether severely absent in spring 2025 not known"
    )
    assert rated.not_known[6] == "Severely absent"


# --- explanations -----------------------------------------------------------------------------


def explained(condition: str, columns: Columns) -> list[str]:
    rated = rate(rules_with(red_rule("R", condition)), facts(columns), SPRING)
    return [e.removeprefix("R: ") for e in rated.children.explanation]


def test_explanations_of_current_values() -> None:
    assert explained('measure = "attendance_pct"\nop = "<"\nvalue = 50', ATTENDANCE) == [
        "attendance 49.9% in spring 2025 < 50%",
        "no red or amber rule fired",
        "no red or amber rule fired",
        "no red or amber rule fired; not known whether R: attendance in spring 2025 not known",
    ]
    assert explained(
        'measure = "attendance_pct"\nop = "<"\nvalue = 50',
        {"attendance_pct[spring 2025]": [41.3]},
    ) == ["attendance 41.3% in spring 2025 < 50%"]
    assert explained(
        'measure = "suspensions"\nop = ">="\nvalue = 1', {"suspensions[spring 2025]": [1, 2]}
    ) == ["1 suspension in spring 2025 (>= 1)", "2 suspensions in spring 2025 (>= 1)"]
    assert explained(
        'measure = "social_care_status"\nop = "=="\nvalue = "Child protection plan"',
        {"social_care_status": [CP_PLAN]},
    ) == ["on a child protection plan"]
    assert explained(
        'measure = "social_care_status"\nop = "!="\nvalue = "Child in need"',
        {"social_care_status": [LOOKED_AFTER]},
    ) == ["looked after (not Child in need)"]
    assert explained(
        'measure = "social_care_status"\nop = "in"\nvalue = ["Looked after", "Child in need"]',
        {"social_care_status": [CHILD_IN_NEED]},
    ) == ["a child in need"]
    # Under not, the words say why the status test failed.
    assert explained(
        'not = { measure = "social_care_status", op = "in", value = ["Looked after"] }',
        {"social_care_status": [PREVIOUSLY]},
    ) == ["previously had a social worker (not one of Looked after)"]
    assert explained(
        'not = { measure = "social_care_status", op = "!=", value = "Looked after" }',
        {"social_care_status": [LOOKED_AFTER]},
    ) == ["looked after"]
    assert explained(
        'not = { measure = "social_care_status", op = "==", value = "Looked after" }',
        {"social_care_status": [CP_PLAN]},
    ) == ["on a child protection plan (not Looked after)"]
    assert explained('measure = "on_roll"\nop = "=="\nvalue = false', {"on_roll": [False]}) == [
        "on no school roll"
    ]


def test_rounding_never_makes_a_comparison_read_wrong() -> None:
    """49.96 to one place is 50.0, which does not read as < 50: more places are shown."""
    assert explained(
        'measure = "attendance_pct"\nop = "<"\nvalue = 50',
        {"attendance_pct[spring 2025]": [49.96, 12.34]},
    ) == ["attendance 49.96% in spring 2025 < 50%", "attendance 12.3% in spring 2025 < 50%"]


def test_explanations_of_changes_and_windows() -> None:
    assert explained(
        'change = "attendance_pct"\nfrom_terms_ago = 2\nop = "<="\nvalue = -5',
        {"attendance_pct[summer 2024]": [92.0], "attendance_pct[spring 2025]": [85.8]},
    ) == [
        "attendance down 6.2 points from 92.0% in summer 2024 to 85.8% in spring 2025 "
        "(change <= -5 points)"
    ]
    rows = [(1, 0, 1), (NaN, 0, 1)]
    assert explained(
        'count = "suspensions"\nin_last_terms = 3\nop = ">="\nvalue = 1', window(rows)
    ) == [
        "2 suspensions in summer 2024 to spring 2025 (>= 1)",
        "at least 1 suspension in summer 2024 to spring 2025 (summer 2024 not known) (>= 1)",
    ]
    names = [f"persistently_absent[{t}]" for t in ("summer 2024", "autumn 2024", "spring 2025")]
    columns: Columns = {name: [True] for name in names}
    assert explained(
        'count = "persistently_absent"\nin_last_terms = 3\nop = ">="\nvalue = 2', columns
    ) == ["persistently absent in 3 of the 3 terms summer 2024 to spring 2025 (>= 2)"]


def test_explanation_of_any_names_only_the_parts_that_held() -> None:
    columns: Columns = {"on_roll": [False], "suspensions[spring 2025]": [0]}
    condition = (
        'any = [ { measure = "suspensions", op = ">=", value = 1 }, '
        '{ not = { measure = "on_roll", op = "==", value = true } } ]'
    )
    assert explained(condition, columns) == ["on no school roll"]


def test_evidence_holds_each_comparison_that_made_a_rule_fire() -> None:
    rules = read_rules()
    table = facts(
        {
            "social_care_status": [CP_PLAN],
            "severely_absent[spring 2025]": [True],
            "suspensions[spring 2025]": [0],
            "compulsory_school_age": [True],
            "on_roll": [True],
            "persistently_absent[spring 2025]": [True],
            "attendance_pct[summer 2024]": [90.0],
            "attendance_pct[spring 2025]": [41.3],
        }
    )
    rated = rate(rules, table, SPRING)
    assert rated.children.explanation[0] == (
        "On a CP plan and severely absent: on a child protection plan; severely absent in "
        "spring 2025"
    )
    evidence = rated.evidence
    assert list(evidence.columns[:3]) == ["la_child_id", "rule", "rule_rating"]
    assert evidence[["rule", "decided", "condition", "measure", "term", "value"]].to_dict(
        "records"
    ) == [
        {
            "rule": "On a CP plan and severely absent",
            "decided": True,
            "condition": 1,
            "measure": "social_care_status",
            "term": "",
            "value": pytest.approx(NaN, nan_ok=True),
        },
        {
            "rule": "On a CP plan and severely absent",
            "decided": True,
            "condition": 2,
            "measure": "severely_absent",
            "term": "spring 2025",
            "value": 1.0,
        },
        {
            "rule": "Persistently absent",
            "decided": False,
            "condition": 1,
            "measure": "persistently_absent",
            "term": "spring 2025",
            "value": 1.0,
        },
    ]


# --- the default rules on children worked by hand ----------------------------------------------


def test_default_rules_on_hand_worked_children() -> None:
    """Each child below is rated by reading the default file's rules in order."""
    table = pd.DataFrame(
        {
            "la_child_id": ["A", "B", "C", "D", "E", "F", "G"],
            "social_care_status": [
                CP_PLAN,  # A: CP plan, severely absent -> red, first rule
                CHILD_IN_NEED,  # B: suspended -> red, second rule
                LOOKED_AFTER,  # C: school age, no roll -> red, third rule
                PREVIOUSLY,  # D: no roll but only previously known -> amber (persistent)
                CHILD_IN_NEED,  # E: 96 -> 90, down 6 points -> amber, second rule
                CP_PLAN,  # F: nothing -> green
                CHILD_IN_NEED,  # G: attendance two terms ago missing -> green, not known
            ],
            "severely_absent[spring 2025]": [True, False, False, False, False, False, False],
            "suspensions[spring 2025]": [0, 1, 0, 0, 0, 0, 0],
            "compulsory_school_age": [True, True, True, True, True, True, True],
            "on_roll": [True, True, False, False, True, True, True],
            "persistently_absent[spring 2025]": [True, False, False, True, False, False, False],
            "attendance_pct[summer 2024]": [80.0, 95.0, NaN, NaN, 96.0, 97.0, NaN],
            "attendance_pct[spring 2025]": [45.0, 95.0, NaN, 85.0, 90.0, 96.0, 93.0],
            "permanent_exclusions[spring 2025]": [0] * 7,
        }
    )
    rated = rate(read_rules(), table, SPRING).children
    assert list(rated.rating) == ["red", "red", "red", "amber", "amber", "green", "green"]
    assert list(rated.rule) == [
        "On a CP plan and severely absent",
        "Suspended this term",
        "Missing from school rolls",
        "Persistently absent",
        "Child in need with falling attendance",
        None,
        None,
    ]
    assert rated.explanation[4] == (
        "Child in need with falling attendance: a child in need; attendance down 6.0 points "
        "from 96.0% in summer 2024 to 90.0% in spring 2025 (change <= -5 points)"
    )
    assert rated.not_known[6] == "Child in need with falling attendance"


# --- the facts checked before anything is rated -----------------------------------------------


def test_a_column_the_rules_need_is_missing() -> None:
    rules = read_rules()
    table = facts({"social_care_status": [CP_PLAN]})
    with pytest.raises(FactsError) as caught:
        rate(rules, table, SPRING)
    message = str(caught.value)
    assert message.startswith("facts column severely_absent[spring 2025], read by rule ")
    assert "'On a CP plan and severely absent' (line 18)" in message
    assert "7 missing in all" in message


@pytest.mark.parametrize(
    ("column", "values", "reason"),
    [
        ("attendance_pct[spring 2025]", ["high", 50.0], "must hold numbers"),
        ("attendance_pct[spring 2025]", [120.0, 50.0], "1 value(s) outside 0 to 100"),
        ("suspensions[spring 2025]", [1.5, 0], "must hold whole numbers, 0 or more"),
        ("suspensions[spring 2025]", [-1, 0], "must hold whole numbers, 0 or more"),
        ("on_roll", ["yes", True], "must hold true or false"),
        ("social_care_status", ["CP plan", CP_PLAN], "holds 'CP plan', not a social care status"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(
    column: str, values: list[object], reason: str
) -> None:
    condition = {
        "attendance_pct[spring 2025]": 'measure = "attendance_pct"\nop = "<"\nvalue = 50',
        "suspensions[spring 2025]": 'measure = "suspensions"\nop = ">="\nvalue = 1',
        "on_roll": 'measure = "on_roll"\nop = "=="\nvalue = false',
        "social_care_status": 'measure = "social_care_status"\nop = "=="\nvalue = "Looked after"',
    }[column]
    with pytest.raises(FactsError) as caught:
        rate(rules_with(red_rule("R", condition)), facts({column: values}), SPRING)
    assert str(caught.value).startswith(f"facts column {column}, read by rule 'R' (line 4): ")
    assert reason in str(caught.value)


def test_children_must_be_named_once_each() -> None:
    rules = rules_with(red_rule("R", 'measure = "on_roll"\nop = "=="\nvalue = false'))
    twice = pd.DataFrame({"la_child_id": ["x", "x"], "on_roll": [True, False], QUIET: [0, 0]})
    with pytest.raises(FactsError, match="lists 1 child"):
        rate(rules, twice, SPRING)
    unnamed = pd.DataFrame({"la_child_id": ["x", None], "on_roll": [True, False], QUIET: [0, 0]})
    with pytest.raises(FactsError, match="1 empty value"):
        rate(rules, unnamed, SPRING)
    with pytest.raises(FactsError, match="no la_child_id column"):
        rate(rules, unnamed.rename(columns={"la_child_id": "child"}), SPRING)
    renamed = rate(
        rules, twice.iloc[:1].rename(columns={"la_child_id": "child"}), SPRING, child="child"
    )
    assert list(renamed.children.columns[:2]) == ["child", "rating"]


def test_nullable_and_object_columns_read_as_their_values() -> None:
    """A flag as pandas' nullable boolean, a count as nullable integer: missing is not known."""
    columns = {
        "on_roll": pd.array([False, None, True], dtype="boolean"),
        "suspensions[spring 2025]": pd.array([0, 2, None], dtype="Int64"),
    }
    table = pd.DataFrame({"la_child_id": ["a", "b", "c"], **columns, QUIET: [0, 0, 0]})
    rules = rules_with(
        red_rule("Off roll", 'measure = "on_roll"\nop = "=="\nvalue = false')
        + red_rule("Suspended", 'measure = "suspensions"\nop = ">="\nvalue = 1')
    )
    rated = rate(rules, table, SPRING).children
    assert list(rated.rule) == ["Off roll", "Suspended", None]
    assert list(rated.not_known) == ["", "Off roll", "Suspended"]


# --- order and determinism --------------------------------------------------------------------


def test_empty_facts_give_empty_ratings() -> None:
    table = facts({"on_roll": []})
    rated = rate(
        rules_with(red_rule("R", 'measure = "on_roll"\nop = "=="\nvalue = false')), table, SPRING
    )
    assert rated.children.empty and rated.evidence.empty
    assert list(rated.children.columns) == [
        "la_child_id",
        "rating",
        "rule",
        "basis",
        "explanation",
        "fired",
        "not_known",
    ]


def random_facts(seed: int, n: int) -> pd.DataFrame:
    """Facts for the default rules with every kind of value and gaps, for order tests."""
    rng = np.random.default_rng(seed)
    statuses = np.array([LOOKED_AFTER, CP_PLAN, CHILD_IN_NEED, PREVIOUSLY, None], dtype=object)

    def percent() -> np.ndarray:
        values = np.round(rng.uniform(0, 100, n), 1)
        values[rng.random(n) < 0.1] = np.nan
        return values

    def flag() -> pd.arrays.BooleanArray:
        missing, yes = rng.random(n) < 0.1, rng.random(n) < 0.3
        values = [None if m else bool(y) for m, y in zip(missing, yes, strict=True)]
        return pd.array(values, dtype="boolean")

    return pd.DataFrame(
        {
            "la_child_id": [f"LA{i:05d}" for i in rng.permutation(n)],
            "social_care_status": rng.choice(statuses, n),
            "severely_absent[spring 2025]": flag(),
            "persistently_absent[spring 2025]": flag(),
            "suspensions[spring 2025]": rng.poisson(0.2, n),
            "compulsory_school_age": flag(),
            "on_roll": flag(),
            "attendance_pct[summer 2024]": percent(),
            "attendance_pct[spring 2025]": percent(),
        }
    )


def as_bytes(rated: Ratings) -> bytes:
    return (rated.children.to_csv(index=False) + rated.evidence.to_csv(index=False)).encode()


def test_sorted_by_child_whatever_the_input_order() -> None:
    table = random_facts(7, 500)
    rated = rate(read_rules(), table, SPRING)
    assert list(rated.children.la_child_id) == sorted(table.la_child_id)
    shuffled = table.sample(frac=1.0, random_state=3)
    assert as_bytes(rate(read_rules(), shuffled, SPRING)) == as_bytes(rated)


def test_byte_identical_in_another_process(tmp_path: Path) -> None:
    """Another interpreter (its own hash seed) rates the same facts to the same bytes."""
    here = as_bytes(rate(read_rules(), random_facts(11, 2_000), SPRING))
    out = tmp_path / "rated.csv"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from tests.targeting.test_engine import SPRING, as_bytes, random_facts
        from cwsw.targeting.engine import rate
        from cwsw.targeting.rules import read_rules
        rated = rate(read_rules(), random_facts(11, 2_000), SPRING)
        Path({str(out)!r}).write_bytes(as_bytes(rated))
        """
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        cwd=root,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert out.read_bytes() == here
