"""The report's notes: what each measure and cohort means, and the files the figures came from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cwsw.domain.calendar import academic_year_label, census_term_label, census_term_sort_key
from cwsw.domain.labels import (
    ALL_PUPILS,
    CIN_IN_YEAR,
    CINO,
    CLA_12_MONTHS,
    CPPO,
    EVER_CIN_6_YEARS,
    NEVER_CIN_6_YEARS,
    cohort_label,
)
from cwsw.indicators.figures import DisclosedFigures
from cwsw.indicators.measures import BY_NAME
from cwsw.reports.vsh.model import Section, plain

COHORT_DEFINITIONS = {
    CINO: "In need at 31 March, not on a child protection plan or looked after (DfE's "
    "hierarchy: looked after, then on a plan, then in need).",
    CPPO: "On a child protection plan at 31 March, not looked after.",
    CLA_12_MONTHS: "Looked after at 31 March, the current period of care having begun on or "
    "before 31 March a year earlier.",
    CIN_IN_YEAR: "Any child in need episode, child protection plan or period of care open at "
    "any time from 1 April to 31 March.",
    EVER_CIN_6_YEARS: "A child in need episode open at any time in the six collection years to "
    "31 March.",
    NEVER_CIN_6_YEARS: "Pupils not in the cohort above: no social worker in the last 6 years.",
    ALL_PUPILS: "Every pupil of the population.",
}
CONFIGURED = (
    "Defined by the local authority in the cohorts configuration the marts were built with."
)
# The returns a loaded file can be (the warehouse's loads.format), as a reader names them.
FORMATS = {
    "cin_census": "CIN census",
    "ssda903_episodes": "SSDA903 episodes",
    "ssda903_header": "SSDA903 header",
    "school_census": "School census",
    "ks2": "KS2 results",
    "ks4": "KS4 results",
    "establishments": "Establishments",
    "person_extract": "Person extract",
}
_LINEAGE = re.compile(r"^(?P<name>.*) \((?P<sha>[0-9a-f]+)\)$")


@dataclass(frozen=True)
class LoadedFile:
    """What the warehouse's ``loads`` table says of one file: its return and its period."""

    format: str
    period: str
    loaded: str  # ISO date of the load

    @property
    def described(self) -> str:
        """``CIN census 2024/25``, ``School census spring 2025``, ``Establishments, loaded
        7 December 2026``."""
        kind = FORMATS.get(self.format, self.format.replace("_", " ").capitalize())
        year, _, season = self.period.partition("_")
        if year.isdigit() and len(year) == 4 and not season:
            return f"{kind} {academic_year_label(int(year))}"
        if year.isdigit() and season:
            return f"{kind} {census_term_label(self.period).lower()}"
        if self.loaded:
            day = pd.Timestamp(self.loaded)
            return f"{kind}, loaded {day.day} {day:%B %Y}"
        return kind


def loaded_files(loads: pd.DataFrame) -> dict[str, LoadedFile]:
    """The ``loads`` table by each file's lineage name, ``name (sha256 prefix)``."""
    found = {}
    records: list[dict[Any, Any]] = loads.to_dict("records")
    for row in records:
        name = f"{row['file_name']} ({str(row['sha256'])[:12]})"
        stamp, period = row.get("loaded_at"), row.get("period")
        loaded = "" if pd.isna(stamp) else pd.Timestamp(stamp).date().isoformat()
        found[name] = LoadedFile(
            str(row.get("format") or ""), "" if pd.isna(period) else str(period), loaded
        )
    return found


def definitions(sections: Iterable[Section], cohorts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each measure shown and each cohort, with its definition in plain words."""
    used = {f.source.measure for s in sections for t in s.tables for r in t.rows for f in r.figures}
    measures = tuple((BY_NAME[m].title, plain(BY_NAME[m].definition)) for m in BY_NAME if m in used)
    return measures + tuple(
        (cohort_label(c), plain(COHORT_DEFINITIONS.get(c, CONFIGURED))) for c in cohorts
    )


def sources(
    figures: DisclosedFigures,
    years: Sequence[str],
    loads: Mapping[str, LoadedFile] | None = None,
    published_year: str = "",
) -> tuple[str, ...]:
    """The files the report's figures came from, each with its year: the return's own year
    where the warehouse recorded it, else the years of the figures it fed."""
    lines = []
    for name, fed in figures.sources(years).items():
        match = _LINEAGE.match(name)
        file_name, sha = (match["name"], match["sha"]) if match else (name, "")
        file = (loads or {}).get(name)
        hash_note = f" (SHA-256 {sha})" if sha else ""
        if file is not None:
            key = (file.format, census_term_sort_key(file.period), file_name)
            lines.append((key, f"{file.described}: {file_name}{hash_note}"))
        else:
            used = " and ".join(fed)
            key = ("", census_term_sort_key(""), file_name)
            lines.append((key, f"{file_name}{hash_note}, for the {used} figures"))
    found = tuple(text for _, text in sorted(lines))
    if published_year:
        found += (
            f"Department for Education, figures published for {published_year} (explore "
            "education statistics)",
        )
    return found
