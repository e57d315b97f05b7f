"""Rating children by a rule set: red, amber or green, with the rule that fired and why.

**The facts table** (a pandas DataFrame, one row per child for the rating date): the child's
identifier (``la_child_id`` by default) and one column per fact the rules read, named by
:func:`cwsw.targeting.rules.column`:

- a fact about the child now: the measure's name (``social_care_status``, ``on_roll``,
  ``compulsory_school_age``);
- a measure in a term: the measure's name and the term (``attendance_pct[spring 2025]``,
  ``suspensions[autumn 2024]``). A rule says how many terms back it looks from "this term",
  which the caller names (``this_term``); :meth:`RuleSet.columns` lists what a rule set
  needs, so a facts builder can fetch just that.

Percentages are 0 to 100, counts whole numbers, yes/no facts booleans, the status one of
:data:`cwsw.cohort.status.STATUS_PRIORITY`. A missing value (null, NaN) is *not known*:
it is never read as 0, no or false. Every column is checked before anything is rated: a
column missing, or holding values of the wrong kind, is refused (:class:`FactsError`).

**Three-valued logic.** Each comparison is true, false or not known (its value is missing).
``all`` is false if any part is false, true if every part is true, else not known; ``any``
is true if any part is true, false if every part is false, else not known; ``not`` swaps
true and false and leaves not known. A count over several terms with some missing is still
decided when the known terms settle it (2 suspensions in the known terms are ">= 1" whatever
the missing term held). A rule that is not known does not fire unless its rating says
``unknown = "fires"``; either way it is listed with the child's rating.

**Precedence.** Red's rules, then amber's, each in file order: the child takes the rating of
the first rule that is true (if none is true, and a rating counts not known as firing, of its
first not-known rule); otherwise green. Every rule that fired is recorded; so is every rule
not known that came before the deciding one (it could have changed the rating).

The result (:class:`Ratings`) is sorted by child and depends on nothing but its inputs, so
the same facts and rules give byte-identical output in any process. Work is done on whole
columns (numpy), so 300,000 children take seconds.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cwsw.cohort.status import STATUS_PRIORITY
from cwsw.errors import UserError
from cwsw.targeting.rules import (
    COUNT,
    FLAG,
    GREEN,
    MEASURES,
    PERCENT,
    STATUS,
    STATUS_WORDS,
    UNKNOWN_FIRES,
    AllOf,
    AnyOf,
    ChangeIs,
    Condition,
    CountIs,
    Leaf,
    Not,
    Rule,
    RuleSet,
    Term,
    Threshold,
    ValueIs,
    leaf_columns,
)

CHILD = "la_child_id"

# A condition's answer for each child, as int8: min is "and", max is "or", 2 - x is "not".
FALSE = 0
NOT_KNOWN = 1
TRUE = 2

# What a rating rests on: a rule that fired, a rule not known counted as firing, or neither.
FIRED = "fired"
NOT_KNOWN_WORDS = "not known"
OTHERWISE = "otherwise"

GREEN_WORDS = "no red or amber rule fired"
# Changes are compared after rounding away floating-point noise: 87.3 - 92.3 is -5.
CHANGE_DECIMALS = 9

Outcome = npt.NDArray[np.int8]
Floats = npt.NDArray[np.float64]
Objects = npt.NDArray[np.object_]
Mask = npt.NDArray[np.bool_]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

CHILD_COLUMNS = ("rating", "rule", "basis", "explanation", "fired", "not_known")
EVIDENCE_COLUMNS = (
    "rule",
    "rule_rating",
    "outcome",
    "decided",
    "condition",
    "measure",
    "term",
    "value",
    "words",
)


class FactsError(UserError):
    """A facts table the rules cannot read: a column missing or holding the wrong values."""


@dataclass(frozen=True)
class Ratings:
    """One rating per child, and the evidence behind it.

    ``children``: the child's identifier, ``rating`` (red / amber / green), ``rule`` (the
    rule that gave it; empty for green), ``basis`` (``fired``; ``not known`` when a rule
    that could not be decided counted as firing; ``otherwise`` for green), ``explanation``
    (in words, e.g. "Suspended this term: 1 suspension in spring 2025 (>= 1)"), ``fired``
    (every rule that fired, in precedence order, joined by "; ") and ``not_known`` (the
    rules not known before the deciding one, likewise).

    ``evidence``: for each child and each rule that fired or was not known, the comparisons
    that made it so: ``condition`` (its place in the rule, from 1), ``measure``, ``term``,
    ``value`` (the number compared, NaN if none), ``words``; ``decided`` marks the rule that
    gave the rating.
    """

    children: pd.DataFrame
    evidence: pd.DataFrame
    rules: RuleSet
    this_term: Term


# --- the facts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """A facts column as the engine reads it: numbers (NaN missing) or statuses (None)."""

    numbers: Floats
    statuses: Objects | None = None

    @property
    def known(self) -> Mask:
        if self.statuses is not None:
            return np.asarray(~pd.isna(self.statuses), dtype=bool)
        return ~np.isnan(self.numbers)


def _facts_error(name: str, rules: Sequence[Rule], reason: str) -> FactsError:
    readers = ", ".join(f"'{r.name}' (line {r.line})" for r in rules[:3])
    return FactsError(f"facts column {name}, read by rule {readers}: {reason}")


def _read_column(frame: pd.DataFrame, name: str, kind: str, rules: Sequence[Rule]) -> _Column:
    """A column checked against its measure's kind (the first fault is refused)."""
    series = frame[name]
    missing = series.isna().to_numpy()
    present = series[~missing]

    def refuse(reason: str) -> FactsError:
        return _facts_error(name, rules, reason)

    if kind == STATUS:
        odd = sorted({str(v) for v in present if v not in STATUS_PRIORITY})
        if odd:
            allowed = ", ".join(STATUS_PRIORITY)
            raise refuse(f"holds {odd[0]!r}, not a social care status ({allowed})")
        statuses = series.to_numpy(dtype=object).copy()
        statuses[missing] = None
        return _Column(np.zeros(len(series)), statuses)
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if kind == FLAG:
        if not pd.api.types.is_bool_dtype(series) and not all(
            isinstance(v, bool | np.bool_) or (isinstance(v, int | float) and v in (0, 1))
            for v in present.unique()
        ):
            raise refuse("must hold true or false (or nothing where not known)")
    elif not numeric and not all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in present.unique()
    ):
        raise refuse("must hold numbers (or nothing where not known)")
    numbers = np.full(len(series), np.nan)
    numbers[~missing] = present.to_numpy(dtype=np.float64)
    known = numbers[~missing]
    if kind == PERCENT and ((known < 0) | (known > 100)).any():
        raise refuse(f"holds {int(((known < 0) | (known > 100)).sum())} value(s) outside 0 to 100")
    if kind == COUNT and ((known < 0) | (known != np.floor(known)) | np.isinf(known)).any():
        raise refuse("must hold whole numbers, 0 or more")
    return _Column(numbers)


def _read_facts(
    rules: RuleSet, facts: pd.DataFrame, this_term: Term, child: str
) -> tuple[pd.Series, dict[str, _Column]]:
    """The children, sorted, and every column the rules read; refuses before any rating."""
    if child not in facts.columns:
        raise FactsError(f"the facts have no {child} column: one row per child, identified by it")
    ids = facts[child]
    if ids.isna().any():
        raise FactsError(f"the facts' {child} column has {int(ids.isna().sum())} empty value(s)")
    ids = ids.astype(str)
    if ids.duplicated().any():
        raise FactsError(
            f"the facts' {child} column lists {int(ids.duplicated().sum())} child(ren) twice: "
            "give one row per child"
        )
    needed = rules.columns(this_term)
    absent = [name for name in needed if name not in facts.columns]
    if absent:
        raise _facts_error(
            absent[0],
            needed[absent[0]],
            f"the facts have no such column ({len(absent)} missing in all); build the facts "
            f"for {this_term}",
        )
    order = np.argsort(ids.to_numpy(dtype=str), kind="stable")
    ordered = facts.iloc[order].reset_index(drop=True)
    columns = {
        name: _read_column(ordered, name, MEASURES[name.split("[")[0]].kind, readers)
        for name, readers in needed.items()
    }
    return ids.iloc[order].reset_index(drop=True), columns


# --- words ------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """A threshold as the rule wrote it: 50, 50.5, -5."""
    return f"{value:g}"


def _shown_numbers(
    values: Floats, test: Callable[[Floats], Mask] | None = None, decimals: int = 1
) -> Objects:
    """Values to ``decimals`` places; where rounding would make the comparison ``test`` read
    wrong (49.96 shown as "50.0%" beside "< 50%"), with the places that show the difference."""
    shown = np.array([f"{v:.{decimals}f}" for v in values], dtype=object)
    if test is not None and len(values):
        rounded = np.round(values, decimals)
        with np.errstate(invalid="ignore"):
            misleading = np.nonzero((test(rounded) != test(values)) & ~np.isnan(values))[0]
        for i in misleading:
            shown[i] = f"{values[i]:.6g}"
    return shown


def _op_words(op: str, value: Threshold, unit: str = "") -> str:
    if op == "in":
        values = value if isinstance(value, tuple) else (value,)
        return "one of " + ", ".join(
            _number(v) + unit if isinstance(v, int | float) else str(v) for v in values
        )
    if isinstance(value, bool):
        return f"{op} {'yes' if value else 'no'}"
    if isinstance(value, int | float):
        return f"{op} {_number(value)}{unit}"
    return f"{op} {value}"


def _terms_text(terms: Sequence[Term]) -> str:
    labels = [t.label for t in terms]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _span_text(terms: Sequence[Term]) -> str:
    """Earliest to latest: "summer 2024 to spring 2025"."""
    return terms[0].label if len(terms) == 1 else f"{terms[0].label} to {terms[-1].label}"


def _count_noun(leaf_measure: str, counts: Floats) -> Objects:
    measure = MEASURES[leaf_measure]
    return np.where(counts == 1, measure.words, measure.plural or measure.words).astype(object)


def _join(parts: Sequence[Objects | str]) -> Objects:
    """Elementwise concatenation of string arrays and constants."""
    result: Objects | str = ""
    for part in parts:
        result = result + part
    assert not isinstance(result, str)
    return result


# --- comparisons ------------------------------------------------------------------------------


@dataclass
class _Node:
    """A condition evaluated for every child: its answer, its parts, and for a comparison
    how to say it."""

    condition: Condition
    outcome: Outcome
    parts: tuple[_Node, ...] = ()
    position: int = 0  # a comparison's place in its rule, from 1
    words: Callable[[npt.NDArray[np.intp], Outcome], Objects] | None = None
    value: Floats | None = None
    term: str = ""


def _three_valued(holds: Mask, known: Mask) -> Outcome:
    return np.where(known, np.where(holds, TRUE, FALSE), NOT_KNOWN).astype(np.int8)


def _compare(values: Floats | Objects, op: str, threshold: Threshold) -> Mask:
    if op == "in":
        allowed = threshold if isinstance(threshold, tuple) else (threshold,)
        return np.isin(values, np.array(allowed, dtype=values.dtype))
    with np.errstate(invalid="ignore"):
        return np.asarray(_COMPARE[op](values, threshold), dtype=bool)


def _value_node(leaf: ValueIs, columns: dict[str, _Column], this_term: Term) -> _Node:
    measure = MEASURES[leaf.measure]
    column = columns[leaf_columns(leaf, this_term)[0]]
    term = this_term.before(leaf.terms_ago) if leaf.terms_ago is not None else None
    in_term = f" in {term.label}" if term else ""
    known = column.known
    if measure.kind == STATUS:
        assert column.statuses is not None
        statuses = column.statuses
        holds = _compare(np.where(known, statuses, ""), leaf.op, leaf.value)
        outcome = _three_valued(holds, known)

        def status_words(rows: npt.NDArray[np.intp], said: Outcome) -> Objects:
            actual = np.array([STATUS_WORDS.get(s, "") for s in statuses[rows]], dtype=object)
            # The child's status says it all, but for the status it was tested against.
            if leaf.op == "in":
                listed = _op_words("in", leaf.value)
                tail = np.where(said == TRUE, "", f" (not {listed})")
            else:
                differs = (said == TRUE) == (leaf.op == "!=")
                tail = np.where(differs, f" (not {leaf.value})", "")
            return np.where(said == NOT_KNOWN, "social care status not known", actual + tail)

        return _Node(leaf, outcome, words=status_words)
    numbers = column.numbers
    holds = _compare(numbers, leaf.op, leaf.value)
    outcome = _three_valued(holds, known)
    if measure.kind == FLAG:

        def flag_words(rows: npt.NDArray[np.intp], said: Outcome) -> Objects:
            values = numbers[rows]
            fact = np.where(values == 1, measure.words, measure.words_no) + in_term
            return np.where(np.isnan(values), f"whether {measure.words}{in_term} not known", fact)

        return _Node(
            leaf, outcome, words=flag_words, value=numbers, term=term.label if term else ""
        )

    def number_words(rows: npt.NDArray[np.intp], said: Outcome) -> Objects:
        values = numbers[rows]
        test = _op_words(leaf.op, leaf.value, "%" if measure.kind == PERCENT else "")
        if measure.kind == PERCENT:
            shown = _shown_numbers(values, lambda v: _compare(v, leaf.op, leaf.value))
            fact = _join([f"{measure.words} ", shown, f"%{in_term}"])
            tail = np.where(said == TRUE, f" {test}", f", not {test}")
            unknown = f"{measure.words}{in_term} not known"
        else:
            shown = np.array([f"{v:.0f}" for v in values], dtype=object)
            fact = _join([shown, " ", _count_noun(leaf.measure, values), in_term])
            tail = np.where(said == TRUE, f" ({test})", f" (not {test})")
            unknown = f"{measure.plural}{in_term} not known"
        return np.where(said == NOT_KNOWN, unknown, fact + tail)

    return _Node(leaf, outcome, words=number_words, value=numbers, term=term.label if term else "")


def _change_node(leaf: ChangeIs, columns: dict[str, _Column], this_term: Term) -> _Node:
    measure = MEASURES[leaf.measure]
    earlier_name, later_name = leaf_columns(leaf, this_term)
    earlier, later = columns[earlier_name].numbers, columns[later_name].numbers
    earlier_term, later_term = (
        this_term.before(leaf.from_terms_ago),
        this_term.before(leaf.to_terms_ago),
    )
    change = np.round(later - earlier, CHANGE_DECIMALS)
    known = ~np.isnan(change)
    holds = _compare(change, leaf.op, leaf.value)
    outcome = _three_valued(holds, known)
    percent = measure.kind == PERCENT
    noun = measure.words if percent else (measure.plural or measure.words)

    def change_words(rows: npt.NDArray[np.intp], said: Outcome) -> Objects:
        moved = change[rows]
        size = np.abs(moved)
        if percent:
            sign = np.where(moved < 0, -1.0, 1.0)
            shown = _shown_numbers(size, lambda v: _compare(sign * v, leaf.op, leaf.value))
            amount = _join([shown, " points"])
            before = _join([_shown_numbers(earlier[rows]), "%"])
            after = _join([_shown_numbers(later[rows]), "%"])
        else:
            amount = np.array([f"{v:.0f}" for v in size], dtype=object)
            before = np.array([f"{v:.0f}" for v in earlier[rows]], dtype=object)
            after = np.array([f"{v:.0f}" for v in later[rows]], dtype=object)
        direction = np.where(moved < 0, " down ", np.where(moved > 0, " up ", " unchanged"))
        amount = np.where(moved == 0, "", amount)
        test = _op_words(leaf.op, leaf.value, " points" if percent else "")
        tail = np.where(said == TRUE, f" (change {test})", f" (change not {test})")
        fact = _join(
            [
                noun,
                direction,
                amount,
                " from ",
                before,
                f" in {earlier_term.label} to ",
                after,
                f" in {later_term.label}",
                tail,
            ]
        )
        missing_earlier = np.isnan(earlier[rows])
        missing_later = np.isnan(later[rows])
        unknown = np.where(
            missing_earlier & missing_later,
            f"{noun} in {_terms_text([earlier_term, later_term])} not known",
            np.where(
                missing_earlier,
                f"{noun} in {earlier_term.label} not known",
                f"{noun} in {later_term.label} not known",
            ),
        )
        return np.where(said == NOT_KNOWN, unknown, fact)

    return _Node(
        leaf,
        outcome,
        words=change_words,
        value=change,
        term=f"{earlier_term.label} to {later_term.label}",
    )


def _count_node(leaf: CountIs, columns: dict[str, _Column], this_term: Term) -> _Node:
    """A count over the window, decided where the known terms settle it: the total lies
    between the known terms' sum and (a flag: that plus the missing terms; a count: no
    bound) whatever the missing terms held."""
    measure = MEASURES[leaf.measure]
    names = leaf_columns(leaf, this_term)  # this term first, then back
    terms = [this_term.before(n) for n in range(leaf.in_last_terms)]
    stacked = np.column_stack([columns[name].numbers for name in names])
    missing = np.isnan(stacked)
    low = np.where(missing, 0.0, stacked).sum(axis=1)
    gaps = missing.sum(axis=1)
    high = np.where(gaps == 0, low, low + gaps if measure.kind == FLAG else np.inf)
    target = leaf.value
    if leaf.op in ("<", "<=", ">", ">="):
        assert isinstance(target, int)
        compare = _COMPARE[leaf.op]
        surely_on, surely_off = (low, high) if leaf.op in (">", ">=") else (high, low)
        is_true = np.asarray(compare(surely_on, target), dtype=bool)
        is_false = ~np.asarray(compare(surely_off, target), dtype=bool)
    else:
        allowed = np.array(target if isinstance(target, tuple) else (target,), dtype=float)
        exact = gaps == 0
        member = np.isin(low, allowed)
        reachable = ((allowed[None, :] >= low[:, None]) & (allowed[None, :] <= high[:, None])).any(
            axis=1
        )
        is_true = exact & member
        is_false = ~reachable
        if leaf.op == "!=":
            is_true, is_false = is_false, is_true
    outcome = np.where(is_true, TRUE, np.where(is_false, FALSE, NOT_KNOWN)).astype(np.int8)
    span = _span_text(list(reversed(terms)))
    # Which terms are missing, as words, for each pattern of gaps.
    pattern = (missing * (1 << np.arange(len(terms)))).sum(axis=1)

    def missing_text(rows: npt.NDArray[np.intp]) -> Objects:
        texts = {
            int(p): _terms_text([t for k, t in reversed(list(enumerate(terms))) if p >> k & 1])
            for p in np.unique(pattern[rows])
            if p
        }
        return np.array([texts.get(int(p), "") for p in pattern[rows]], dtype=object)

    def count_words(rows: npt.NDArray[np.intp], said: Outcome) -> Objects:
        counted = low[rows]
        some_missing = gaps[rows] > 0
        absent = missing_text(rows)
        shown = np.array([f"{v:.0f}" for v in counted], dtype=object)
        at_least = np.where(some_missing, "at least ", "")
        if measure.kind == FLAG:
            of = f" of the {len(terms)} terms {span}" if len(terms) > 1 else f" in {span}"
            fact = _join([measure.words, " in ", at_least, shown, of])
            if len(terms) == 1:
                fact = np.where(
                    counted == 1, f"{measure.words} in {span}", f"{measure.words_no} in {span}"
                )
        else:
            fact = _join([at_least, shown, " ", _count_noun(leaf.measure, counted), f" in {span}"])
        fact = np.where(some_missing, _join([fact, " (", absent, " not known)"]), fact)
        test = _op_words(leaf.op, leaf.value)
        tail = np.where(said == TRUE, f" ({test})", f" (not {test})")
        noun = measure.plural or f"whether {measure.words}"
        unknown = _join([f"{noun} in ", absent, " not known (", shown, " in the other terms)"])
        unknown = np.where(gaps[rows] == len(terms), f"{noun} in {span} not known", unknown)
        return np.where(said == NOT_KNOWN, unknown, fact + tail)

    value = np.where(gaps == 0, low, np.nan)
    return _Node(leaf, outcome, words=count_words, value=value, term=span)


def _evaluate(
    condition: Condition, columns: dict[str, _Column], this_term: Term, positions: list[int]
) -> _Node:
    """The condition's answer for every child; comparisons numbered in file order."""
    if isinstance(condition, AllOf | AnyOf):
        parts = tuple(_evaluate(c, columns, this_term, positions) for c in condition.conditions)
        stacked = np.vstack([p.outcome for p in parts])
        combined = stacked.min(axis=0) if isinstance(condition, AllOf) else stacked.max(axis=0)
        return _Node(condition, combined.astype(np.int8), parts)
    if isinstance(condition, Not):
        inner = _evaluate(condition.condition, columns, this_term, positions)
        return _Node(condition, (TRUE - inner.outcome).astype(np.int8), (inner,))
    positions.append(len(positions) + 1)
    if isinstance(condition, ValueIs):
        node = _value_node(condition, columns, this_term)
    elif isinstance(condition, ChangeIs):
        node = _change_node(condition, columns, this_term)
    else:
        node = _count_node(condition, columns, this_term)
    node.position = positions[-1]
    return node


def _support(node: _Node, want: Outcome, found: list[tuple[_Node, Outcome]]) -> None:
    """The comparisons that give ``node`` the answer ``want`` (-1: not asked) for each child,
    in file order: for "all" true, every part; for "any" true, the parts that are true; for
    false the reverse; for not known, the parts not known (and, under "all", the true ones
    beside them, which say what else held)."""
    if node.words is not None:
        found.append((node, want))
        return
    if isinstance(node.condition, Not):
        _support(node.parts[0], np.where(want >= 0, TRUE - want, -1).astype(np.int8), found)
        return
    every = TRUE if isinstance(node.condition, AllOf) else FALSE
    for part in node.parts:
        if isinstance(node.condition, AllOf):
            # Not known under "all": the parts true and the parts not known, each as it is.
            asked = np.where(want == NOT_KNOWN, part.outcome, want)
            keep = (want == every) | ((want >= 0) & (part.outcome == asked))
        else:
            asked = want
            keep = (want == every) | ((want >= 0) & (part.outcome == want))
        _support(part, np.where(keep, asked, -1).astype(np.int8), found)


# --- rating -----------------------------------------------------------------------------------


def rate(rules: RuleSet, facts: pd.DataFrame, this_term: Term, *, child: str = CHILD) -> Ratings:
    """Every child's rating by ``rules`` on the facts of ``this_term`` (module docstring).

    Raises :class:`FactsError` before rating anyone if the facts lack a column the rules
    read or hold values of the wrong kind.
    """
    ids, columns = _read_facts(rules, facts, this_term, child)
    n = len(ids)
    rule_list = rules.rules
    nodes = [_evaluate(rule.condition, columns, this_term, []) for rule in rule_list]
    answers = (
        np.column_stack([node.outcome for node in nodes]) if nodes else np.zeros((n, 0), np.int8)
    )

    # Precedence: the first rating with a true rule; its first true rule decides.
    decided = np.full(n, -1)
    basis = np.full(n, OTHERWISE, dtype=object)
    start = 0
    for rating in rules.ratings:
        index = np.arange(start, start + len(rating.rules))
        start += len(rating.rules)
        block = answers[:, index]
        open_ = decided < 0
        fired = open_ & (block == TRUE).any(axis=1)
        decided[fired] = index[(block[fired] == TRUE).argmax(axis=1)]
        basis[fired] = FIRED
        if rating.unknown == UNKNOWN_FIRES:
            guessed = open_ & ~fired & (block == NOT_KNOWN).any(axis=1)
            decided[guessed] = index[(block[guessed] == NOT_KNOWN).argmax(axis=1)]
            basis[guessed] = NOT_KNOWN_WORDS
    ratings = np.array([GREEN, *(r.rating for r in rule_list)], dtype=object)[decided + 1]
    rule_names = np.array([None, *(r.name for r in rule_list)], dtype=object)[decided + 1]

    # The words of each rule that fired or was not known, and its evidence.
    evidence: list[pd.DataFrame] = []
    said_by_rule: list[Objects] = []
    for j, (rule, node) in enumerate(zip(rule_list, nodes, strict=True)):
        answer = node.outcome
        wanted = np.where(answer >= NOT_KNOWN, answer, -1).astype(np.int8)
        found: list[tuple[_Node, Outcome]] = []
        _support(node, wanted, found)
        said = np.full(n, "", dtype=object)
        for leaf_node, want in found:
            rows = np.nonzero(want >= 0)[0]
            if not len(rows):
                continue
            assert leaf_node.words is not None
            words = leaf_node.words(rows, want[rows])
            said[rows] = np.where(said[rows] == "", words, said[rows] + "; " + words)
            evidence.append(
                pd.DataFrame(
                    {
                        "_row": rows,
                        "_rule": j,
                        "rule": rule.name,
                        "rule_rating": rule.rating,
                        "outcome": np.where(answer[rows] == TRUE, FIRED, NOT_KNOWN_WORDS),
                        "decided": decided[rows] == j,
                        "condition": leaf_node.position,
                        "measure": _leaf(leaf_node).measure,
                        "term": leaf_node.term,
                        "value": (
                            leaf_node.value[rows]
                            if leaf_node.value is not None
                            else np.full(len(rows), np.nan)
                        ),
                        "words": words,
                    }
                )
            )
        said_by_rule.append(said)

    explanation = np.full(n, GREEN_WORDS, dtype=object)
    for j, rule in enumerate(rule_list):
        mine = decided == j
        head = np.where(basis == NOT_KNOWN_WORDS, f"{rule.name}: not known: ", f"{rule.name}: ")
        explanation[mine] = head[mine] + said_by_rule[j][mine]
    fired_names = np.full(n, "", dtype=object)
    not_known_names = np.full(n, "", dtype=object)
    for j, rule in enumerate(rule_list):
        answer = answers[:, j]
        fired_here = answer == TRUE
        fired_names[fired_here] = np.where(
            fired_names[fired_here] == "", rule.name, fired_names[fired_here] + "; " + rule.name
        )
        # A rule not known before the deciding one could have changed the rating.
        could_change = (answer == NOT_KNOWN) & ((decided < 0) | (decided > j))
        not_known_names[could_change] = np.where(
            not_known_names[could_change] == "",
            rule.name,
            not_known_names[could_change] + "; " + rule.name,
        )
        explanation[could_change] = (
            explanation[could_change]
            + f"; not known whether {rule.name}: "
            + said_by_rule[j][could_change]
        )

    children = pd.DataFrame(
        {
            child: ids.to_numpy(dtype=object),
            "rating": ratings,
            "rule": rule_names,
            "basis": basis,
            "explanation": explanation,
            "fired": fired_names,
            "not_known": not_known_names,
        }
    )
    if evidence:
        table = pd.concat(evidence, ignore_index=True)
        table = table.sort_values(["_row", "_rule", "condition"], kind="stable")
        table.insert(0, child, ids.to_numpy(dtype=object)[table["_row"].to_numpy()])
        table = table.drop(columns=["_row", "_rule"]).reset_index(drop=True)
    else:
        table = pd.DataFrame({name: pd.Series(dtype=object) for name in (child, *EVIDENCE_COLUMNS)})
    return Ratings(children, table, rules, this_term)


def _leaf(node: _Node) -> Leaf:
    assert isinstance(node.condition, ValueIs | ChangeIs | CountIs)
    return node.condition
