"""Unique pupil numbers: the one place where IDs are cleaned and checked.

A UPN has 13 characters: a check letter, the 3-digit LA code, the 4-digit establishment
number, a 2-digit year of allocation and a 3-character serial whose last character may be a
letter in a temporary UPN (DfE, "Unique pupil numbers (UPN): guidance for schools", annex A).
"""

from __future__ import annotations

import re
from operator import mul

# The check letters, indexed by remainder mod 23 (I, O and S are not used).
CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_FLOAT_TAIL = re.compile(r"^(\d+)\.0+$")


def normalise_id(value: str | None) -> str | None:
    """Trim, strip a byte-order mark and a spreadsheet's ``.0``, upper-case; blank becomes None.

    Real files carry IDs such as ``" a123456789012 "`` or ``"123456.0"`` (docs/domain.md §3).
    """
    if value is None:
        return None
    if "\ufeff" in value:
        value = value.replace("\ufeff", "")
    cleaned = value.strip().upper()
    if not cleaned:
        return None
    if "." in cleaned:  # the regex only where it can match: this runs for every ID read
        match = _FLOAT_TAIL.match(cleaned)
        if match:
            cleaned = match.group(1)
    return cleaned


def check_letter(body: str) -> str:
    """The check letter for characters 2–13 of a UPN.

    Multiply each character by its position weight (2–13), a letter in position 13 counting as
    its index in the check-letter alphabet, sum, and read the alphabet at the sum mod 23.
    """
    if len(body) != 12:
        raise ValueError(f"a UPN body has 12 characters, got {len(body)}")
    total = 0
    for weight, char in enumerate(body, start=2):
        if char.isdigit():
            digit = int(char)
        elif weight == 13 and char in CHECK_LETTERS:
            digit = CHECK_LETTERS.index(char)
        else:
            raise ValueError(f"character {weight} of a UPN cannot be {char!r}")
        total += digit * weight
    return CHECK_LETTERS[total % 23]


_WEIGHTS = tuple(range(2, 13))  # of characters 2–12, all digits in a valid UPN


def is_valid_upn(upn: str | None) -> bool:
    """True when ``upn`` (already normalised) has the UPN shape and the right check letter.

    The same sum as ``check_letter``, computed with ``map`` because it runs for every UPN of
    a national file.
    """
    if upn is None or not _UPN_SHAPE.match(upn):
        return False
    last = upn[12]
    if last.isdigit():
        tail = int(last)
    elif last in CHECK_LETTERS:
        tail = CHECK_LETTERS.index(last)
    else:
        return False
    total = sum(map(mul, _WEIGHTS, map(int, upn[1:12]))) + 13 * tail
    return CHECK_LETTERS[total % 23] == upn[0]


def clean_upn(value: str | None) -> str | None:
    """The normalised UPN if it is valid, else None (the raw value is kept by the caller)."""
    upn = normalise_id(value)
    return upn if is_valid_upn(upn) else None
