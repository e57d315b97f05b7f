"""The SSDA903 code lists per collection year, read from ``ssda903_codes.toml``.

The lists are data (one base list per column and the changes of later years), so a new
year's codes are an edit of the data file, not of the reader; this module only builds each
year's lists from it and says, for a value, whether it is valid that year, valid in another
year, or in no list at all.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from cwsw.formats.code_lists import YearlyCodes

DATA_FILE = "ssda903_codes.toml"


@dataclass(frozen=True)
class CodeList(YearlyCodes):
    """One column's codes: the first list and each later year's additions and removals."""

    column: str
    meaning: str


@cache
def code_lists() -> dict[str, CodeList]:
    """Every coded column's list, by the column's CSV name."""
    text = files("cwsw.formats").joinpath(DATA_FILE).read_text(encoding="utf-8")
    lists = {}
    for column, entry in tomllib.loads(text).items():
        changes = sorted(
            (
                int(change["year"]),
                tuple(change.get("add", ())),
                tuple(change.get("remove", ())),
            )
            for change in entry.get("change", ())
        )
        lists[column] = CodeList(
            first=tuple(entry["codes"]),
            changes=tuple(changes),
            column=column,
            meaning=entry["meaning"],
        )
    return lists


@dataclass(frozen=True)
class YearCodes:
    """The lists of one collection year, with every year's codes to tell a code of another
    year from one that never existed."""

    year: int
    valid: dict[str, frozenset[str]]
    ever: dict[str, frozenset[str]]


@cache
def codes_for_year(year: int) -> YearCodes:
    lists = code_lists()
    return YearCodes(
        year,
        {column: entry.in_year(year) for column, entry in lists.items()},
        {column: entry.ever for column, entry in lists.items()},
    )
