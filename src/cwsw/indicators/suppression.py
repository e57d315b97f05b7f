"""Disclosure control: the one function every aggregate passes through before it leaves.

DfE symbols (DfE statistics "Symbols and conventions"): ``c`` confidential (suppressed),
``x`` not available, ``z`` not applicable. Counts from 1 up to the threshold (5 by default, a
setting) are suppressed, and so is any rate whose numerator or denominator is such a count,
since the count could be recovered from it. Secondary suppression across totals comes with
the full marts (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Symbol(StrEnum):
    SUPPRESSED = "c"
    NOT_AVAILABLE = "x"
    NOT_APPLICABLE = "z"


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
    """The one gate: a measure's value, or the DfE symbol that must stand in for it.

    ``unrestricted`` is for child-level roles only (DOMAIN.md §4): they may see unsuppressed
    figures; nothing else may. A count is passed as ``numerator=value=count``.
    """
    if denominator is not None and denominator == 0:
        return Disclosed(None, Symbol.NOT_APPLICABLE)
    if value is None:
        return Disclosed(None, Symbol.NOT_AVAILABLE)
    if not unrestricted and (_small(numerator, threshold) or _small(denominator, threshold)):
        return Disclosed(None, Symbol.SUPPRESSED)
    return Disclosed(value, None)
