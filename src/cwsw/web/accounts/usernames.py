"""Usernames: one spelling per account, so that no two can look alike (ADR 0015).

A username is normalised (NFKC, case-folded, trimmed) when an account is made and when somebody
signs in, and a new one must then be in a small safe set: lower-case ASCII letters, digits, full
stops, hyphens and underscores, starting with a letter or digit. Every look-alike character
(a Cyrillic "а", a Greek "α", a dotless "ı", a capital "İ", a zero-width space) is outside that
set, so no new username can be confusable with another; fullwidth letters become ASCII by NFKC
and capitals become small letters by case-folding, so "ADMIN" and "ａｄｍｉｎ" are "admin".
"""

from __future__ import annotations

import re
import unicodedata

SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
RULE = (
    "Enter a valid username: use only lower-case letters a to z, digits, full stops, hyphens "
    "and underscores, starting with a letter or digit"
)
# A failed sign-in's audit row keeps at most this much of what was typed as the username.
AUDIT_LENGTH = 64


def normalise(typed: str) -> str:
    """NFKC, case-folded (then NFKC again: folding can undo it, as "İ" does), trimmed."""
    folded = unicodedata.normalize("NFKC", typed.strip()).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def is_safe(username: str) -> bool:
    """Is the (normalised) username in the safe set a new account must use?"""
    return bool(SAFE.match(username))


def for_audit(typed: str) -> str:
    """What a failed sign-in's audit row keeps of the username typed: normalised, truncated."""
    return normalise(typed)[:AUDIT_LENGTH]
