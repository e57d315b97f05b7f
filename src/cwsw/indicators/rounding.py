"""DfE's rounding: exact decimal arithmetic, halves away from zero.

DfE's published percentages and averages are the exact ratio rounded half away from zero
(e.g. -10.86 / 12 = -0.905 is published as -0.91). Binary floating point can land just
below a half (-0.90499...), so ratios are taken in :class:`decimal.Decimal`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

Number = int | float | Decimal | str


def to_decimal(value: Number) -> Decimal:
    """A number as the decimal it was written as (``0.1`` is 0.1, not 0.1000000000000000055)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value).strip())


def round_half_up(value: Number, places: int = 1) -> Decimal:
    """Round as DfE publishes (half away from zero), not Python's round-half-to-even."""
    return to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def exact_ratio(numerator: Number, denominator: Number, scale: int = 1) -> Decimal | None:
    """``scale * numerator / denominator`` to 40 significant figures; None on a zero base."""
    den = to_decimal(denominator)
    if den == 0:
        return None
    with localcontext() as context:
        context.prec = 40
        return to_decimal(scale) * to_decimal(numerator) / den


def dfe_rounded_ratio(
    numerator: Number, denominator: Number, *, scale: int, places: int
) -> Decimal | None:
    """The ratio as DfE would publish it: exact, then rounded half away from zero."""
    ratio = exact_ratio(numerator, denominator, scale)
    return None if ratio is None else round_half_up(ratio, places)


def format_rounded(value: Number, places: int = 1) -> str:
    """The display string of a rounded figure, e.g. ``17.4`` or ``1,234`` (``places`` 0)."""
    rounded = round_half_up(value, places)
    return f"{rounded:,.{places}f}"
