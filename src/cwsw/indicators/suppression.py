"""Disclosure control: the one gate every aggregate passes through before it leaves.

DfE symbols (DfE statistics "Symbols and conventions"): ``c`` confidential (suppressed),
``x`` not available, ``z`` not applicable, ``k`` a non-zero figure that rounds to zero.

:func:`suppress` applies the rules to a whole output at once:

- **primary**: a count of pupils (or enrolments, or events) from 1 up to the threshold (5 by
  default, a setting) is suppressed, and so is every figure built on it (a rate whose
  numerator or denominator it is), since the count could be recovered from it, and every
  rate resting on it (``built_on_key``: a rate of sessions over the enrolments' sessions),
  since DfE suppresses a rate on few pupils;
- **secondary**: where figures add up (the parts of a breakdown to its total, the cohorts that
  partition all pupils, authorised plus unauthorised sessions to all sessions missed), more
  cells are suppressed until no suppressed figure can be worked out from the others by
  subtraction, nor by any combination of the totals in the same output (checked exactly, by
  linear algebra, on each connected set of suppressed figures).

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
METHOD_VERSION = "suppression-2"
__all__ = [
    "BUILT_ON",
    "CELL_COLUMNS",
    "METHOD_VERSION",
    "SUPPRESSION_THRESHOLD_FLOOR",
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
    """``total`` = sum of ``parts``: quantities (by key) that add up within one output."""

    total: Hashable
    parts: tuple[Hashable, ...]


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
    keys = (order_key(relation.total), *(order_key(part) for part in relation.parts))
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

    def hide(self, key: Hashable) -> None:
        """Suppress every row showing ``key`` or resting on it; then any quantity no longer
        shown is hidden."""
        pending = [key]
        while pending:
            current = pending.pop()
            if current in self.hidden:
                continue
            self.hidden.add(current)
            for i in (*self.shown_in.get(current, []), *self.resting_on.get(current, [])):
                if self.symbol[i] is None:
                    self.symbol[i] = Symbol.SUPPRESSED
                    for other in self.keys_of[i]:
                        if other not in self.hidden and all(
                            self.symbol[j] is not None for j in self.shown_in[other]
                        ):
                            pending.append(other)

    def is_unknown(self, key: Hashable) -> bool:
        return key in self.hidden and bool(self.shown_in.get(key))

    def candidate(self, keys: Iterable[Hashable]) -> Hashable | None:
        """The shown quantity to suppress next: the smallest non-zero count, then any; a tie
        goes to the smallest key (:func:`order_key`), not to the order ``keys`` came in."""
        shown = [k for k in keys if not self.is_unknown(k) and self.shown_in.get(k)]
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
        if relation.total in index:
            matrix[r, index[relation.total]] += 1.0
        for part in relation.parts:
            if part in index:
                matrix[r, index[part]] -= 1.0
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
        members = [k for k in (relation.total, *relation.parts) if k in unknown]
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


def suppress(
    cells: pd.DataFrame,
    relations: Sequence[Relation] = (),
    *,
    threshold: int,
    unrestricted: bool = False,
) -> pd.DataFrame:
    """The one gate: ``cells`` as they may leave the system.

    ``cells`` has the :data:`CELL_COLUMNS` (a count is a row whose numerator and denominator
    are the same quantity) and may have :data:`BUILT_ON`. Returns a copy with ``symbol``
    (``c``, ``x``, ``z`` or None) and ``suppressed`` columns, and ``numerator``,
    ``denominator`` and ``value`` emptied wherever a symbol stands. ``unrestricted``
    (child-level roles only) skips suppression, not ``x``/``z``.
    """
    quantities = _Quantities(cells, threshold)
    if not unrestricted:
        for key, value in quantities.values.items():
            if quantities.is_count[key] and 0 < value <= threshold:
                quantities.hide(key)
        # A row resting on a count the output does not show cannot be judged: withheld.
        for key in list(quantities.resting_on):
            if not quantities.shown_in.get(key):
                quantities.hide(key)
        _secondary(quantities, list(relations))
    out = cells.copy()
    symbols = [None if s is None else str(s) for s in quantities.symbol]
    out["symbol"] = pd.Series(symbols, index=out.index, dtype="object")
    out["suppressed"] = out["symbol"] == str(Symbol.SUPPRESSED)
    blank = out["symbol"].notna()
    for column in ("numerator", "denominator", "value"):
        out[column] = out[column].astype("float64").where(~blank)
    return out


def _secondary(quantities: _Quantities, relations: list[Relation]) -> None:
    # The order relations are visited in decides which cell goes first: a total order.
    relations = sorted(relations, key=_relation_order)
    by_key: dict[Hashable, list[Relation]] = defaultdict(list)
    for relation in relations:
        for key in (relation.total, *relation.parts):
            by_key[key].append(relation)
    while True:
        # Subtraction: no relation may have exactly one unknown.
        changed = True
        while changed:
            changed = False
            for relation in relations:
                members = (relation.total, *relation.parts)
                unknown = [k for k in members if quantities.is_unknown(k)]
                if len(unknown) == 1:
                    pick = quantities.candidate(relation.parts) or quantities.candidate(
                        (relation.total,)
                    )
                    if pick is not None:
                        quantities.hide(pick)
                        changed = True
        # Combinations of relations: each connected set of unknowns, exactly.
        unknown_keys = {k for k in quantities.hidden if quantities.is_unknown(k)}
        fixed = False
        for component, touching in _components(unknown_keys, relations):
            determined = _determined(component, touching)
            if not determined:
                continue
            target = determined[0]
            pool = [k for r in by_key[target] for k in (*r.parts, r.total)]
            pick = quantities.candidate(pool) or quantities.candidate(
                k for r in touching for k in (*r.parts, r.total)
            )
            if pick is not None:
                quantities.hide(pick)
                fixed = True
                break
        if not fixed:
            return
