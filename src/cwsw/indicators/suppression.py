"""Disclosure control: the one gate every aggregate passes through before it leaves.

DfE symbols (DfE statistics "Symbols and conventions"): ``c`` confidential (suppressed),
``x`` not available, ``z`` not applicable, ``k`` a non-zero figure that rounds to zero.

:func:`suppress` applies the rules to a whole output at once:

- **primary**: a count of pupils (or enrolments, or events) from 1 up to the threshold (5 by
  default, a setting) is suppressed, and so is every figure built on it (a rate whose
  numerator or denominator it is), since the count could be recovered from it, and every
  rate resting on it (``built_on_key``: a rate of sessions over the enrolments' sessions),
  since DfE suppresses a rate on few pupils;
- **secondary**: where figures add up (the parts of a breakdown to its total, breakdowns that
  cross or nest such as FSM x SEN against FSM and SEN or schools within their phase, the
  cohorts that partition all pupils, authorised plus unauthorised sessions to all sessions
  missed, terms to their year), more cells are suppressed until no suppressed figure can be
  worked out from the others: not by subtraction, nor by any combination of the relations
  (checked exactly, by linear algebra, on each connected set of suppressed figures), nor as a
  small sum (the suppressed cells of a margin may not add up to a count from 1 to the
  threshold), nor to within an interval narrower than the threshold once a reader adds what
  else is known: counts are whole and never negative, a ``c`` rate's denominator is not zero
  (it would be ``z``), a percentage's numerator is within its denominator (:func:`_bounds`).
  Rates are published beside their numerators and denominators, so the rounding of a rate
  tells a reader nothing its numerator does not.

Each figure in an output is a *quantity* (e.g. the number of CINO enrolments at school X): a
quantity shown in several rows (the denominator of persistent and of severe absence) is one
unknown, hidden only if every row showing it is. A row resting on a count goes whenever the
count does, by primary or secondary suppression (hiding more never makes a hidden figure
recoverable). :func:`disclose` is the rule for one cell.

Every choice secondary suppression makes follows a total order defined by the data (never a
set's or dict's iteration order, which for string keys changes with Python's hash seed): the
relations are taken largest first, then in the order of their keys, and between equally good
cells to hide the one with the smallest key goes (:func:`order_key`). The same cells are
hidden in every run, so no two outputs of the same data can be set side by side to undo the
pattern (GSS "Statistical disclosure control for tables produced from administrative
sources": a protected table must not be recoverable from other releases of the same data).
:data:`METHOD_VERSION` names the method; every output records it with the threshold used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from cwsw import __version__
from cwsw.settings import SUPPRESSION_THRESHOLD_FLOOR, unsafe_threshold_warning

# The suppression method's version, recorded in every output with the threshold used. Bump it
# whenever the cells hidden for the same mart and threshold may change.
# suppression-2: choices in a total order of keys (suppression-1 followed hash order).
# suppression-3: breakdowns that cross or nest (FSM x SEN, schools within phases), small sums
# of a margin's hidden cells, and bounds (non-negative whole counts, a c rate's denominator
# not zero, a percentage's numerator within its denominator) narrower than the threshold.
METHOD_VERSION = "suppression-3"
__all__ = [
    "BUILT_ON",
    "CELL_COLUMNS",
    "METHOD_VERSION",
    "SUPPRESSION_THRESHOLD_FLOOR",
    "WITHIN_DENOMINATOR",
    "AtMost",
    "Disclosed",
    "Relation",
    "Symbol",
    "disclose",
    "disclosure_record",
    "order_key",
    "suppress",
]


class Symbol(StrEnum):
    SUPPRESSED = "c"
    NOT_AVAILABLE = "x"
    NOT_APPLICABLE = "z"
    ROUNDS_TO_ZERO = "k"


def disclosure_record(threshold: int) -> dict[str, object]:
    """How an output was disclosed, as every output records it (export sidecar, Parquet
    metadata, the report's notes): the threshold used, the method's version and, for a
    threshold below the floor, the warning."""
    return {
        "suppression_method": METHOD_VERSION,
        "suppression_threshold": threshold,
        "threshold_floor": SUPPRESSION_THRESHOLD_FLOOR,
        "unsafe_threshold": threshold < SUPPRESSION_THRESHOLD_FLOOR,
        "warning": unsafe_threshold_warning(threshold),
        "symbols": {
            str(Symbol.SUPPRESSED): "confidential (suppressed)",
            str(Symbol.NOT_AVAILABLE): "not available",
            str(Symbol.NOT_APPLICABLE): "not applicable",
        },
        "cwsw_version": __version__,
    }


@dataclass(frozen=True)
class Disclosed:
    """A figure as it may be shown: either a value or a symbol, never both."""

    value: float | None
    symbol: Symbol | None

    @property
    def suppressed(self) -> bool:
        return self.symbol is Symbol.SUPPRESSED


def _small(count: float | None, threshold: int) -> bool:
    return count is not None and 0 < count <= threshold


def disclose(
    *,
    numerator: float | None,
    denominator: float | None = None,
    value: float | None,
    threshold: int,
    unrestricted: bool = False,
) -> Disclosed:
    """The rule for one cell: a measure's value, or the DfE symbol that must stand in for it.

    ``unrestricted`` is for child-level roles only (docs/domain.md §4): they may see unsuppressed
    figures; nothing else may. A count is passed as ``numerator=value=count``. Tables go
    through :func:`suppress`, which adds secondary suppression.
    """
    if denominator is not None and denominator == 0:
        return Disclosed(None, Symbol.NOT_APPLICABLE)
    if value is None:
        return Disclosed(None, Symbol.NOT_AVAILABLE)
    if not unrestricted and (_small(numerator, threshold) or _small(denominator, threshold)):
        return Disclosed(None, Symbol.SUPPRESSED)
    return Disclosed(value, None)


@dataclass(frozen=True)
class Relation:
    """``total`` (plus any ``more_totals``) = sum of ``parts``: quantities (by key) that add
    up within one output. ``more_totals`` is for two breakdowns that cross (pupils with SEN
    support plus those with an EHC plan are the FSM-and-SEN plus the SEN-not-FSM pupils)."""

    total: Hashable
    parts: tuple[Hashable, ...]
    more_totals: tuple[Hashable, ...] = ()

    def signed(self) -> tuple[tuple[Hashable, int], ...]:
        """The members with their sign in ``totals - parts = 0``."""
        return (
            *((key, 1) for key in (self.total, *self.more_totals)),
            *((part, -1) for part in self.parts),
        )

    def members(self) -> tuple[Hashable, ...]:
        return (self.total, *self.more_totals, *self.parts)


@dataclass(frozen=True)
class AtMost:
    """``sum(smaller) <= sum(larger)`` by definition: pupils reaching the expected standard
    in all three subjects are at most those reaching it in reading; a term's enrolments are at
    most the year's. A reader bounds hidden figures with these as with :class:`Relation`."""

    smaller: tuple[Hashable, ...]
    larger: tuple[Hashable, ...]


# The columns :func:`suppress` reads (besides any others, which it passes through).
CELL_COLUMNS = (
    "numerator",
    "denominator",
    "value",
    "numerator_key",
    "denominator_key",
    "numerator_is_count",
    "denominator_is_count",
)
# Optional: the pupil count a row rests on without showing it (None where it rests on none).
BUILT_ON = "built_on_key"
# Optional: True where the numerator is part of the denominator (a percentage of pupils or
# sessions), which bounds a hidden numerator by its denominator and the other way round.
WITHIN_DENOMINATOR = "within_denominator"


def order_key(key: Hashable) -> tuple[str, ...]:
    """A quantity's key as a tuple of strings: the total order every choice follows.

    The mart's keys are tuples of strings (period, quantity, cohort, breakdown, value); any
    other key is ordered by its type's name and its text."""
    if isinstance(key, tuple):
        return ("tuple", *(str(part) for part in key))
    return (type(key).__name__, str(key))


def _relation_order(relation: Relation) -> tuple[int, tuple[tuple[str, ...], ...]]:
    """Relations with more parts first, then by their keys. A breakdown's relation lets the
    second cell be the smallest of many, where a two-part one (a cohort and its complement)
    leaves no choice: so taken first, fewer cells are hidden (3,162 of 7,133 rows on the
    8,000-pupil synthetic LA, against 3,231 in key order alone)."""
    keys = tuple(order_key(member) for member in relation.members())
    return (-len(relation.parts), keys)


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if np.isnan(number) else number


class _Quantities:
    """The quantities of an output, the rows that show them, and which are hidden."""

    def __init__(self, cells: pd.DataFrame, threshold: int) -> None:
        self.threshold = threshold
        self.values: dict[Hashable, float] = {}
        self.is_count: dict[Hashable, bool] = defaultdict(bool)
        self.rows_of: dict[Hashable, list[int]] = defaultdict(list)
        self.resting_on: dict[Hashable, list[int]] = defaultdict(list)
        self.keys_of: list[tuple[Hashable, ...]] = []
        self.symbol: list[Symbol | None] = []
        columns = [cells[c].tolist() for c in CELL_COLUMNS]
        for i, (num, den, val, num_key, den_key, num_count, den_count) in enumerate(
            zip(*columns, strict=True)
        ):
            numerator, denominator, value = _number(num), _number(den), _number(val)
            keys: tuple[Hashable, ...] = (num_key,) if den_key == num_key else (num_key, den_key)
            self.keys_of.append(keys)
            if denominator == 0 and den_key != num_key:
                self.symbol.append(Symbol.NOT_APPLICABLE)
            elif value is None or numerator is None:
                self.symbol.append(Symbol.NOT_AVAILABLE)
            else:
                self.symbol.append(None)
            for key, amount, counted in (
                (num_key, numerator, num_count),
                (den_key, denominator, den_count),
            ):
                if amount is not None:
                    self.values.setdefault(key, amount)
                self.is_count[key] |= bool(counted)
            for key in keys:
                self.rows_of[key].append(i)
        # What a reader knows of a hidden figure beyond the relations: a ``c`` rate's
        # denominator is not zero (that would be ``z``); a percentage's parts nest.
        self.nonzero_when_hidden: set[Hashable] = set()
        self.within_denominator: list[tuple[Hashable, Hashable]] = []
        within = cells[WITHIN_DENOMINATOR].tolist() if WITHIN_DENOMINATOR in cells else []
        pairs: set[tuple[Hashable, Hashable]] = set()
        for i, keys in enumerate(self.keys_of):
            if len(keys) == 2:
                if (self.values.get(keys[1]) or 0.0) > 0:
                    self.nonzero_when_hidden.add(keys[1])
                if within and within[i]:
                    pairs.add((keys[0], keys[1]))
        self.within_denominator = sorted(pairs, key=lambda p: (order_key(p[0]), order_key(p[1])))
        # Figures a reader knows without being shown them (zero by definition: pupils with
        # an EHC plan among those on SEN support): never counted as recoverable.
        self.public: set[Hashable] = set()
        bases = cells[BUILT_ON].tolist() if BUILT_ON in cells else []
        for i, base in enumerate(bases):
            if base is not None and not (isinstance(base, float) and np.isnan(base)):
                self.resting_on[base].append(i)
                self.is_count[base] = True
        # A quantity is shown by the rows that carry a value (not x or z).
        self.shown_in = {
            key: [i for i in rows if self.symbol[i] is None] for key, rows in self.rows_of.items()
        }
        self.hidden: set[Hashable] = set()

    def hide(self, key: Hashable) -> list[Hashable]:
        """Suppress every row showing ``key`` or resting on it; then any quantity no longer
        shown is hidden. Returns the quantities newly hidden."""
        pending = [key]
        newly: list[Hashable] = []
        while pending:
            current = pending.pop()
            if current in self.hidden:
                continue
            self.hidden.add(current)
            newly.append(current)
            for i in (*self.shown_in.get(current, []), *self.resting_on.get(current, [])):
                if self.symbol[i] is None:
                    self.symbol[i] = Symbol.SUPPRESSED
                    for other in self.keys_of[i]:
                        if other not in self.hidden and all(
                            self.symbol[j] is not None for j in self.shown_in[other]
                        ):
                            pending.append(other)
        return newly

    def is_unknown(self, key: Hashable) -> bool:
        return key in self.hidden and bool(self.shown_in.get(key)) and key not in self.public

    def candidate(self, keys: Iterable[Hashable]) -> Hashable | None:
        """The shown quantity to suppress next: the smallest non-zero count, then any; a tie
        goes to the smallest key (:func:`order_key`), not to the order ``keys`` came in."""
        shown = [k for k in keys if k not in self.hidden and self.shown_in.get(k)]
        if not shown:
            return None

        def cost(key: Hashable) -> tuple[int, int, float, tuple[str, ...]]:
            value = self.values.get(key, 0.0)
            return (value == 0, not self.is_count[key], value, order_key(key))

        return min(shown, key=cost)


def _determined(unknowns: list[Hashable], relations: list[Relation]) -> list[Hashable]:
    """The unknowns the relations pin down exactly (their null space is zero there)."""
    index = {key: j for j, key in enumerate(unknowns)}
    matrix = np.zeros((len(relations), len(unknowns)))
    for r, relation in enumerate(relations):
        for key, sign in relation.signed():
            if key in index:
                matrix[r, index[key]] += sign
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:].T  # columns span the null space
    if null.shape[1] == 0:
        return list(unknowns)
    return [key for key, j in index.items() if np.abs(null[j]).max() < 1e-9]


def _components(
    unknown: set[Hashable], relations: Sequence[Relation]
) -> list[tuple[list[Hashable], list[Relation]]]:
    """Sets of unknowns linked through relations, each with the relations touching it: each
    set's unknowns in key order, the sets in the order of their smallest key."""
    ordered = sorted(unknown, key=order_key)
    parent: dict[Hashable, Hashable] = {k: k for k in ordered}

    def find(k: Hashable) -> Hashable:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    touching = []
    for relation in relations:
        members = [k for k in relation.members() if k in unknown]
        if members:
            touching.append((relation, members))
            for other in members[1:]:
                parent[find(other)] = find(members[0])
    groups: dict[Hashable, tuple[list[Hashable], list[Relation]]] = {}
    for k in ordered:
        groups.setdefault(find(k), ([], []))[0].append(k)
    for relation, members in touching:
        groups[find(members[0])][1].append(relation)
    return [g for g in groups.values() if g[1]]


def _holds(relation: Relation, values: dict[Hashable, float]) -> bool:
    """Whether the relation holds on the output's own figures (a member without a figure
    cannot be checked, so the relation is kept). Breakdowns that cross are only as good as the
    data: a school whose pupils are not all of one phase breaks its phase's relation, and a
    relation that does not hold is no help to anyone trying to recover a cell."""
    total = 0.0
    for key, sign in relation.signed():
        value = values.get(key)
        if value is None:
            return True
        total += sign * value
    return abs(total) < 1e-6


def _ordered(inequality: AtMost, values: dict[Hashable, float]) -> bool:
    """Whether the inequality holds on the output's own figures (kept where unknown)."""
    sides = [[values.get(k) for k in side] for side in (inequality.smaller, inequality.larger)]
    if any(v is None for side in sides for v in side):
        return True
    return sum(sides[0]) <= sum(sides[1]) + 1e-6  # type: ignore[arg-type]


def suppress(
    cells: pd.DataFrame,
    relations: Sequence[Relation] = (),
    *,
    threshold: int,
    unrestricted: bool = False,
    at_most: Sequence[AtMost] = (),
    nonzero: Iterable[Hashable] = (),
    public_zeros: Iterable[Hashable] = (),
) -> pd.DataFrame:
    """The one gate: ``cells`` as they may leave the system.

    ``cells`` has the :data:`CELL_COLUMNS` (a count is a row whose numerator and denominator
    are the same quantity) and may have :data:`BUILT_ON` and :data:`WITHIN_DENOMINATOR`.
    Returns a copy with ``symbol`` (``c``, ``x``, ``z`` or None) and ``suppressed`` columns,
    and ``numerator``, ``denominator`` and ``value`` emptied wherever a symbol stands.
    ``unrestricted`` (child-level roles only) skips suppression, not ``x``/``z``.

    What else a reader knows, for the bounds (:func:`_bounds`): ``at_most`` (inequalities by
    definition), ``nonzero`` (quantities a reader knows are not zero where they are not: a
    breakdown value has a row only where it has pupils) and ``public_zeros`` (zero by
    definition). Inequalities that the figures break are dropped, as relations are.
    """
    quantities = _Quantities(cells, threshold)
    quantities.public = {k for k in public_zeros if quantities.values.get(k) == 0}
    quantities.nonzero_when_hidden |= {k for k in nonzero if (quantities.values.get(k) or 0) > 0}
    inequalities = [
        *(AtMost((n,), (d,)) for n, d in quantities.within_denominator),
        *(a for a in at_most if _ordered(a, quantities.values)),
    ]
    if not unrestricted:
        for key, value in quantities.values.items():
            if quantities.is_count[key] and 0 < value <= threshold:
                quantities.hide(key)
        # A row resting on a count the output does not show cannot be judged: withheld.
        for key in list(quantities.resting_on):
            if not quantities.shown_in.get(key):
                quantities.hide(key)
        _secondary(quantities, [r for r in relations if _holds(r, quantities.values)], inequalities)
    out = cells.copy()
    symbols = [None if s is None else str(s) for s in quantities.symbol]
    out["symbol"] = pd.Series(symbols, index=out.index, dtype="object")
    out["suppressed"] = out["symbol"] == str(Symbol.SUPPRESSED)
    blank = out["symbol"].notna()
    for column in ("numerator", "denominator", "value"):
        out[column] = out[column].astype("float64").where(~blank)
    return out


class _Round:
    """The cells hidden in one round of a secondary check, so that several far-apart fixes
    can be made in one round: a figure next to a cell hidden this round waits for the next
    round's fresh look (hiding it at once might hide more than needed)."""

    def __init__(self, quantities: _Quantities, by_key: dict[Hashable, list[Relation]]) -> None:
        self.quantities = quantities
        self.by_key = by_key
        self.touched: set[int] = set()
        self.changed = False

    def untouched(self, keys: Iterable[Hashable]) -> bool:
        return not any(id(r) in self.touched for k in keys for r in self.by_key.get(k, ()))

    def hide(self, key: Hashable) -> None:
        for hidden in self.quantities.hide(key):
            self.touched.update(id(r) for r in self.by_key.get(hidden, ()))
        self.changed = True


def _secondary(
    quantities: _Quantities, relations: list[Relation], inequalities: list[AtMost]
) -> None:
    """Hide more cells until no hidden figure can be recovered: by subtraction, by any
    combination of relations (exactly), as a small sum of a margin's hidden cells, or to within
    an interval narrower than the threshold (:func:`_bounds`)."""
    # The order relations are visited in decides which cell goes first: a total order.
    relations = sorted(relations, key=_relation_order)
    by_key: dict[Hashable, list[Relation]] = defaultdict(list)
    for relation in relations:
        for key in relation.members():
            by_key[key].append(relation)
    unfixable: set[Hashable] = set()
    # A component's answer depends only on its unknowns: most survive a round unchanged.
    determined: dict[tuple[Hashable, ...], list[Hashable]] = {}
    while True:
        _subtraction(quantities, relations)
        if _combination(quantities, relations, by_key, determined):
            continue
        if _small_sums(quantities, relations, by_key):
            continue
        if not _narrow_intervals(quantities, relations, inequalities, by_key, unfixable):
            return


def _subtraction(quantities: _Quantities, relations: list[Relation]) -> None:
    """No relation may have exactly one hidden member."""
    changed = True
    while changed:
        changed = False
        for relation in relations:
            unknown = [k for k in relation.members() if quantities.is_unknown(k)]
            if len(unknown) == 1:
                pick = quantities.candidate(relation.parts) or quantities.candidate(
                    (relation.total, *relation.more_totals)
                )
                if pick is not None and quantities.hide(pick):
                    changed = True


def _combination(
    quantities: _Quantities,
    relations: list[Relation],
    by_key: dict[Hashable, list[Relation]],
    memo: dict[tuple[Hashable, ...], list[Hashable]],
) -> bool:
    """Hide one more cell in each set of linked hidden figures where a combination of
    relations pins one down."""
    unknown_keys = {k for k in quantities.hidden if quantities.is_unknown(k)}
    fixes = _Round(quantities, by_key)
    for component, touching in _components(unknown_keys, relations):
        signature = tuple(component)
        if signature not in memo:
            memo[signature] = _determined(component, touching)
        determined = memo[signature]
        if not determined:
            continue
        target = determined[0]
        pool = [k for r in by_key[target] for k in (*r.parts, r.total, *r.more_totals)]
        pick = quantities.candidate(pool) or quantities.candidate(
            k for r in touching for k in r.members()
        )
        if pick is not None:
            fixes.hide(pick)  # components are disjoint: each gets its fix this round
    return fixes.changed


def _small_sums(
    quantities: _Quantities, relations: list[Relation], by_key: dict[Hashable, list[Relation]]
) -> bool:
    """Hide one more cell where a relation's hidden members all sit on one side, so their sum
    is known, and it is a small count (two hidden schools of a phase holding 4 pupils between
    them tell a reader as much as one school holding 4)."""
    fixes = _Round(quantities, by_key)
    for relation in relations:
        hidden = [(k, s) for k, s in relation.signed() if quantities.is_unknown(k)]
        if len(hidden) < 2 or len({s for _k, s in hidden}) != 1:
            continue
        if not all(quantities.is_count[k] for k, _s in hidden):
            continue
        if any(k not in quantities.values for k, _s in hidden):
            continue
        total = sum(quantities.values[k] for k, _s in hidden)
        if 0 < total <= quantities.threshold and fixes.untouched(relation.members()):
            side = hidden[0][1]
            same = [k for k, s in relation.signed() if s == side]
            other = [k for k, s in relation.signed() if s != side]
            pick = quantities.candidate(same) or quantities.candidate(other)
            if pick is not None:
                fixes.hide(pick)
    return fixes.changed


def _narrow_intervals(
    quantities: _Quantities,
    relations: list[Relation],
    inequalities: list[AtMost],
    by_key: dict[Hashable, list[Relation]],
    unfixable: set[Hashable],
) -> bool:
    """Hide one more cell where a hidden count's bounds (:func:`_bounds`) are narrower than the
    threshold and reach down to small counts."""
    unknown = sorted(
        (k for k in quantities.hidden if quantities.is_unknown(k) and quantities.is_count[k]),
        key=order_key,
    )
    if not unknown:
        return False
    lower, upper = _bounds(quantities, relations, inequalities, by_key, unknown)
    threshold = quantities.threshold
    fixes = _Round(quantities, by_key)
    for key in unknown:
        if key in unfixable or not fixes.untouched((key,)):
            continue
        low, high = lower[key], upper[key]
        if high - low >= threshold or low > threshold or high < 1:
            continue
        # Widen the relation that bounds it most tightly; failing that, any around it.
        touching = sorted(
            by_key.get(key, []),
            key=lambda r: (_width_from(r, key, quantities, lower, upper), _relation_order(r)),
        )
        for relation in touching:
            pick = quantities.candidate(relation.parts) or quantities.candidate(
                (relation.total, *relation.more_totals)
            )
            if pick is not None:
                fixes.hide(pick)
                break
        else:
            unfixable.add(key)  # every cell around it is hidden already: nothing more to do
    return fixes.changed


_UNBOUNDED = float("inf")
# Bound propagation passes: each tightens bounds one relation further from the shown figures;
# past a few the gains are nil on real marts (and the bounds stay sound at any pass).
_PASSES = 12


def _side_sums(
    relation: Relation,
    quantities: _Quantities,
    lower: dict[Hashable, float],
    upper: dict[Hashable, float],
) -> tuple[float, list[tuple[Hashable, int]]]:
    """The relation's shown members' signed sum and its hidden members with their signs."""
    known = 0.0
    hidden: list[tuple[Hashable, int]] = []
    for key, sign in relation.signed():
        if key in lower:
            hidden.append((key, sign))
        else:
            known += sign * quantities.values.get(key, 0.0)
    return known, hidden


def _implied(
    key: Hashable,
    sign: int,
    known: float,
    hidden: list[tuple[Hashable, int]],
    lower: dict[Hashable, float],
    upper: dict[Hashable, float],
) -> tuple[float, float]:
    """Bounds on ``key`` from ``known + sum(sign * x) = 0`` and the others' bounds."""
    others_low = others_high = -known  # sign*key = -known - sum(others)
    for other, other_sign in hidden:
        if other == key:
            continue
        low, high = lower[other], upper[other]
        # -(other_sign * other) ranges over [-max, -min] of other_sign * other.
        term_max = other_sign * (high if other_sign > 0 else low)
        term_min = other_sign * (low if other_sign > 0 else high)
        others_low -= term_max
        others_high -= term_min
    if sign > 0:
        return others_low, others_high
    return -others_high, -others_low


def _width_from(
    relation: Relation,
    key: Hashable,
    quantities: _Quantities,
    lower: dict[Hashable, float],
    upper: dict[Hashable, float],
) -> float:
    known, hidden = _side_sums(relation, quantities, lower, upper)
    sign = next(s for k, s in hidden if k == key)
    low, high = _implied(key, sign, known, hidden, lower, upper)
    return high - max(low, 0.0)


def _bounds(
    quantities: _Quantities,
    relations: list[Relation],
    inequalities: list[AtMost],
    by_key: dict[Hashable, list[Relation]],
    unknown: list[Hashable],
) -> tuple[dict[Hashable, float], dict[Hashable, float]]:
    """What a reader of the output can bound each hidden figure to: the relations, counts
    never negative and whole, a ``c`` rate's denominator not zero (that would be ``z``), a
    percentage's numerator within its denominator. Interval propagation: sound (never tighter
    than the truth allows) and, on margins like these, as tight as linear programming in all
    but contrived tables."""
    hidden_all = [k for k in quantities.hidden if quantities.is_unknown(k)]
    lower: dict[Hashable, float] = {
        k: 1.0 if k in quantities.nonzero_when_hidden else 0.0 for k in hidden_all
    }
    upper: dict[Hashable, float] = {k: _UNBOUNDED for k in hidden_all}
    touching = sorted(
        {id(r): r for k in hidden_all for r in by_key.get(k, [])}.values(), key=_relation_order
    )
    bounding = [a for a in inequalities if any(k in lower for k in (*a.smaller, *a.larger))]
    for _ in range(_PASSES):
        changed = False
        for relation in touching:
            known, hidden = _side_sums(relation, quantities, lower, upper)
            for key, sign in hidden:
                low, high = _implied(key, sign, known, hidden, lower, upper)
                if quantities.is_count[key]:
                    low, high = np.ceil(low - 1e-9), np.floor(high + 1e-9)
                if low > lower[key]:
                    lower[key] = float(low)
                    changed = True
                if high < upper[key]:
                    upper[key] = float(high)
                    changed = True
        for inequality in bounding:
            changed |= _tighten(inequality, quantities, lower, upper)
        if not changed:
            break
    return {k: lower[k] for k in unknown}, {k: upper[k] for k in unknown}


def _tighten(
    inequality: AtMost,
    quantities: _Quantities,
    lower: dict[Hashable, float],
    upper: dict[Hashable, float],
) -> bool:
    """Bounds from ``sum(smaller) <= sum(larger)``: each smaller figure at most the larger
    side's most less the rest's least; each larger figure at least the reverse."""

    def low(k: Hashable) -> float:
        return lower[k] if k in lower else quantities.values.get(k, 0.0)

    def high(k: Hashable) -> float:
        return upper[k] if k in upper else quantities.values.get(k, _UNBOUNDED)

    changed = False
    for key in inequality.smaller:
        if key in upper:
            rest = sum(low(k) for k in inequality.smaller if k != key)
            bound = sum(high(k) for k in inequality.larger) - rest
            if bound < upper[key]:
                upper[key] = bound
                changed = True
    for key in inequality.larger:
        if key in lower:
            rest = sum(high(k) for k in inequality.larger if k != key)
            bound = sum(low(k) for k in inequality.smaller) - rest
            if bound > lower[key]:
                lower[key] = bound
                changed = True
    return changed
