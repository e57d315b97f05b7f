"""The figures every consumer shows (report, web page, exports), read from the marts.

The report and the web page call the same function, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupFigures:
    """One social care group's absence figures, already through disclosure control.

    Display strings are what a person sees: ``"17.4"`` (a percentage to one decimal place),
    ``"1,234"`` (a count), or a DfE symbol (``c`` suppressed, ``x`` not available, ``z`` not
    applicable).
    """

    group: str  # e.g. "CINO", "CPPO", "CLA 12 months", "All pupils"
    label: str  # e.g. "Child in need (not on a plan or looked after)"
    pupils: str
    overall_absence: str
    persistent_absence: str
    severe_absence: str
    # "x times as likely as all pupils" to be persistently absent, or a symbol
    persistent_absence_ratio: str


@dataclass(frozen=True)
class AbsenceSummary:
    """The slice's headline: absence by social care group for one academic year."""

    academic_year: str  # "2024/25"
    reference_date: str  # ISO date of the 31 March the groups are taken at
    groups: tuple[GroupFigures, ...]
    sources: tuple[str, ...]  # the files (name and SHA-256 prefix) the figures came from
