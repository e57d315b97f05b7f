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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd


class Symbol(StrEnum):
    SUPPRESSED = "c"
    NOT_AVAILABLE = "x"
    NOT_APPLICABLE = "z"
    ROUNDS_TO_ZERO = "k"


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
        """The shown quantity to suppress next: the smallest non-zero count, then any."""
        shown = [k for k in keys if not self.is_unknown(k) and self.shown_in.get(k)]
        if not shown:
            return None

        def cost(key: Hashable) -> tuple[int, int, float]:
            value = self.values.get(key, 0.0)
            return (value == 0, not self.is_count[key], value)

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
    """Sets of unknowns linked through relations, each with the relations touching it."""
    parent: dict[Hashable, Hashable] = {k: k for k in unknown}

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
    for k in unknown:
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
