"""The CIN census code lists and year-dependent elements, per collection year, as data.

``codes.toml`` beside this module holds what DfE's XML schema of each collection year
(``CIN_schema_<year>.xsd``) says: each enumerated element's codes in its first year and what
later years added or removed (``ReasonForClosure`` RC9 from 2023, ``ReferralSource`` 5D from
2023, ``AssessmentFactors`` 18B–19C from 2021 and 24A from 2022), and the years of the
elements that not every year declares (``GenderCurrent`` to 2024, ``Sex`` from 2025,
``CINPlanDates`` from 2022). ``tools/cin_census_codes.py`` writes it from the schemas and
``tests/formats/test_cin_census_codes.py`` checks it still says what they say, so a new year
is a new schema and a rerun of the tool, not an edit of the reader.

A year before the first schema takes the first one's lists; a year after the last, the last
one's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from cwsw.formats.code_lists import YearlyCodes

DATA_FILE = "codes.toml"


@dataclass(frozen=True)
class CodeList(YearlyCodes):
    """One enumerated element's codes: its first year's list and each later year's changes."""

    element: str
    type: str  # the schema's type name ("" for a type declared inline)


@dataclass(frozen=True)
class SchemaFacts:
    """Everything ``codes.toml`` holds."""

    first_year: int
    last_year: int
    codes: dict[str, CodeList]  # element → its list
    element_years: dict[str, tuple[int, ...]]  # element → the years that declare it

    def schema_year(self, year: int) -> int:
        """The year whose schema a file of collection year ``year`` is read against."""
        return min(max(year, self.first_year), self.last_year)


@cache
def schema_facts() -> SchemaFacts:
    """``codes.toml``, read once."""
    text = files("cwsw.formats.cin_census").joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    codes = {}
    for element, entry in data["codes"].items():
        changes = tuple(
            sorted(
                (int(c["year"]), tuple(c.get("add", ())), tuple(c.get("remove", ())))
                for c in entry.get("change", ())
            )
        )
        codes[element] = CodeList(
            first=tuple(entry["codes"]), changes=changes, element=element, type=entry["type"]
        )
    years = {name: tuple(int(y) for y in found) for name, found in data["elements"].items()}
    return SchemaFacts(int(data["first_year"]), int(data["last_year"]), codes, years)


@cache
def codes_in_year(element: str, year: int) -> frozenset[str]:
    """The codes ``element`` takes in collection year ``year`` (empty if it is not coded)."""
    facts = schema_facts()
    entry = facts.codes.get(element)
    schema_year = facts.schema_year(year)
    if entry is None or schema_year not in facts.element_years.get(element, (schema_year,)):
        return frozenset()  # not coded, or not in that year's schema (Sex before 2025)
    return entry.in_year(schema_year)


@cache
def codes_ever(element: str) -> frozenset[str]:
    """The codes ``element`` takes in some year."""
    entry = schema_facts().codes.get(element)
    return frozenset() if entry is None else entry.ever


@cache
def elements_not_in_year(year: int) -> frozenset[str]:
    """The elements some year's schema declares but collection year ``year``'s does not."""
    facts = schema_facts()
    schema_year = facts.schema_year(year)
    return frozenset(
        element for element, years in facts.element_years.items() if schema_year not in years
    )
