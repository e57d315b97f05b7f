"""Benchmarks: DfE's published figures (EES CSV files) beside the LA's own.

Reads the layout of explore-education-statistics downloads (``time_period``,
``geographic_level``, ``old_la_code``, ``region_code``..., then ``t_*`` counts and ``pt_*`` /
``avg_*`` figures), with DfE's symbols kept as symbols, never read as numbers: ``c``
suppressed, ``x`` not available, ``z`` not applicable, ``k`` fewer than 0.5, and any other
non-number (``low``, ``u``, ``:``) as it was written. Statistical neighbours come from DfE's
2021 groupings (``New_Statistical_Neighbour_Groupings_April_2021.csv``) or the 2025 model
(``sn_model_2025_wide.csv``); the layout is recognised from the header.

DfE rounds some published counts (national and regional totals) to the nearest 10 but
computes its percentages from the unrounded counts, so a percentage is reproduced from the
published counts either exactly or, where a count may have been rounded, within the range
those counts allow (:func:`check_published`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

import pandas as pd

from cwsw.cohort.groups import CINO, CLA_12_MONTHS, CPPO
from cwsw.domain.calendar import ees_time_period_label
from cwsw.errors import UserError
from cwsw.indicators.measures import MEASURES, Measure
from cwsw.indicators.rounding import round_half_up

NATIONAL = "National"
REGIONAL = "Regional"
LOCAL_AUTHORITY = "Local authority"

SOCIAL_CARE_GROUPS = {
    "CINO at 31 March": CINO,
    "CPPO at 31 March": CPPO,
    "CLA 12 months at 31 March": CLA_12_MONTHS,
}
# EES phase -> the mart's phase breakdown value ("Total" is the mart's total).
PHASES = {
    "Total": "All",
    "State-funded primary": "Primary",
    "State-funded secondary": "Secondary",
    "Special": "Special",
    "State-funded alternative provision school": "Alternative provision",
}
SN_MODELS = ("2021", "2025")


class BenchmarkFileError(UserError, ValueError):
    """A published file that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Figure:
    """One published cell: a number, or the symbol DfE wrote in its place."""

    text: str
    value: Decimal | None
    symbol: str | None


def read_figure(text: str | None) -> Figure:
    """A published cell as a number or a symbol (``c``, ``x``, ``z``, ``k``...)."""
    raw = (text or "").strip()
    if not raw:
        return Figure(raw, None, "x")
    try:
        number = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return Figure(raw, None, raw.lower())
    if not number.is_finite():
        return Figure(raw, None, "x")
    return Figure(raw, number, None)


def read_ees(path: Path) -> list[dict[str, str]]:
    """Rows of an EES CSV as text (the byte-order mark and stray spaces removed)."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError) as error:
        raise BenchmarkFileError(f"{path}: cannot be read ({error})") from None
    if rows and not {"time_period", "geographic_level"} <= set(rows[0]):
        raise BenchmarkFileError(f"{path}: not an EES file (no time_period / geographic_level)")
    return rows


TIDY_COLUMNS = (
    "academic_year",
    "geographic_level",
    "la_code",
    "la_name",
    "region_code",
    "region_name",
    "cohort",
    "breakdown_value",
    "measure",
    "numerator",
    "denominator",
    "value",
    "value_text",
    "symbol",
)


def published_measures(path: Path, measures: Sequence[Measure] = MEASURES) -> pd.DataFrame:
    """The catalogue's measures found in one EES file, one row per area, group and measure.

    ``value`` is the published figure (a Decimal) or None with its ``symbol``; ``numerator``
    and ``denominator`` likewise (None where a symbol stands).
    """
    rows = read_ees(path)
    name = Path(path).name
    chosen = [m for m in measures if m.ees is not None and m.ees.file == name]
    out = []
    for row in rows:
        cohort = SOCIAL_CARE_GROUPS.get(
            row.get("social_care_group", ""), row.get("social_care_group", "")
        )
        phase = PHASES.get(
            row.get("phase_type_grouping", "Total"), row.get("phase_type_grouping", "")
        )
        for measure in chosen:
            assert measure.ees is not None
            if measure.ees.value not in row:
                continue
            figure = read_figure(row[measure.ees.value])
            out.append(
                {
                    "academic_year": ees_time_period_label(row["time_period"]),
                    "geographic_level": row["geographic_level"],
                    "la_code": row.get("old_la_code", ""),
                    "la_name": row.get("la_name", ""),
                    "region_code": row.get("region_code", ""),
                    "region_name": row.get("region_name", ""),
                    "cohort": cohort,
                    "breakdown_value": phase,
                    "measure": measure.name,
                    "numerator": read_figure(row.get(measure.ees.numerator)).value,
                    "denominator": read_figure(row.get(measure.ees.denominator)).value,
                    "value": figure.value,
                    "value_text": figure.text,
                    "symbol": figure.symbol,
                }
            )
    return pd.DataFrame(out, columns=list(TIDY_COLUMNS))


class Reproduction(StrEnum):
    EXACT = "exact"
    WITHIN_COUNT_ROUNDING = "within count rounding"
    MISMATCH = "mismatch"
    NOT_GIVEN = "not given"


def _may_be_rounded(count: Decimal) -> tuple[Decimal, Decimal]:
    """The range a published count stands for: a multiple of 10 may be rounded to it."""
    if count % 10 == 0:
        return max(count - 5, Decimal(0)), count + 5
    return count, count


def check_published(
    measure: Measure, numerator: Decimal | None, denominator: Decimal | None, value: Decimal | None
) -> Reproduction:
    """Whether the measure's own rounding reproduces a published figure from its counts."""
    if numerator is None or denominator is None or value is None or denominator == 0:
        return Reproduction.NOT_GIVEN
    if measure.published(numerator, denominator) == value:
        return Reproduction.EXACT
    # Sessions and pupils may be rounded; a negative sum (of Progress 8 scores) is not.
    low_n, high_n = _may_be_rounded(numerator) if numerator >= 0 else (numerator, numerator)
    low_d, high_d = _may_be_rounded(denominator)
    corners = [measure.published(n, d) for n in (low_n, high_n) for d in (low_d, high_d) if d > 0]
    found = [c for c in corners if c is not None]
    if found and min(found) <= value <= max(found):
        return Reproduction.WITHIN_COUNT_ROUNDING
    return Reproduction.MISMATCH


def statistical_neighbours(path: Path) -> pd.DataFrame:
    """DfE statistical neighbours, one row per LA and neighbour in rank order.

    Columns: ``model`` (``2021`` or ``2025``), ``la_code``, ``la_name``, ``rank`` (1-10),
    ``neighbour_code``, ``closeness``.
    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            header, *rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BenchmarkFileError(f"{path}: cannot be read ({error})") from None
    header = [h.strip() for h in header]
    if header[:2] == ["old_la_code", "la_name"]:
        model, code_at, name_at = "2025", 0, 1
        ranks = [(header.index(f"SN_{i}"), header.index(f"SN_{i}P")) for i in range(1, 11)]
    elif header[:2] == ["LA num", "LA Name"]:
        model, code_at, name_at = "2021", 0, 1
        ranks = [(header.index(f"SN{i}"), header.index(f"SN{i}") + 1) for i in range(1, 11)]
    else:
        raise BenchmarkFileError(f"{path}: not a DfE statistical neighbour file ({header[:3]})")
    out = []
    for row in rows:
        if not row or not row[code_at].strip():
            continue
        for rank, (at, closeness_at) in enumerate(ranks, 1):
            neighbour = row[at].strip() if at < len(row) else ""
            if neighbour:
                out.append(
                    {
                        "model": model,
                        "la_code": row[code_at].strip(),
                        "la_name": row[name_at].strip(),
                        "rank": rank,
                        "neighbour_code": neighbour,
                        "closeness": row[closeness_at].strip() if closeness_at < len(row) else "",
                    }
                )
    return pd.DataFrame(
        out, columns=["model", "la_code", "la_name", "rank", "neighbour_code", "closeness"]
    )


def _mean(values: Iterable[Decimal | None]) -> tuple[Decimal | None, int]:
    found = [v for v in values if v is not None]
    if not found:
        return None, 0
    return sum(found, Decimal(0)) / len(found), len(found)


COMPARATOR_COLUMNS = (
    "academic_year",
    "cohort",
    "breakdown_value",
    "measure",
    "la",
    "england",
    "region",
    "statistical_neighbours",
    "neighbours_with_figure",
    "la_symbol",
)


def comparators(
    published: pd.DataFrame, la_code: str, neighbours: pd.DataFrame, model: str = "2025"
) -> pd.DataFrame:
    """The LA's published figures beside England, its region and its statistical neighbours.

    The neighbours' figure is the simple mean of the neighbours' published values (those not
    suppressed), rounded as the measure is, as DfE's LAIT tool averages them. ``model`` picks
    the 2021 or 2025 grouping.
    """
    if model not in SN_MODELS:
        raise ValueError(f"model must be one of {SN_MODELS}, got {model!r}")
    chosen = neighbours[(neighbours.model == model) & (neighbours.la_code == la_code)]
    neighbour_codes = set(chosen.neighbour_code)
    key = ["academic_year", "cohort", "breakdown_value", "measure"]
    las = published[published.geographic_level == LOCAL_AUTHORITY]
    own = las[las.la_code == la_code]
    national = published[published.geographic_level == NATIONAL].set_index(key)
    regional = published[published.geographic_level == REGIONAL]
    by_code = las[las.la_code.isin(neighbour_codes)].groupby(key)
    rows = []
    for record in own.to_dict("records"):
        index = tuple(record[k] for k in key)
        england = national.value.get(index)
        region = regional[
            (regional.region_code == record["region_code"])
            & (regional.academic_year == record["academic_year"])
            & (regional.cohort == record["cohort"])
            & (regional.breakdown_value == record["breakdown_value"])
            & (regional.measure == record["measure"])
        ]
        mean, count = (
            _mean(by_code.get_group(index).value) if index in by_code.groups else (None, 0)
        )
        places = next(m.places for m in MEASURES if m.name == record["measure"])
        rows.append(
            {
                **{k: record[k] for k in key},
                "la": record["value"],
                "england": england,
                "region": region.value.iloc[0] if not region.empty else None,
                "statistical_neighbours": None if mean is None else round_half_up(mean, places),
                "neighbours_with_figure": count,
                "la_symbol": record["symbol"],
            }
        )
    return pd.DataFrame(rows, columns=list(COMPARATOR_COLUMNS))


# What the VSH report and the dashboard set beside England, the region and the neighbours.
BENCHMARK_FILES = ("absence_la.csv", "ks2_la.csv", "ks4_la.csv")
NEIGHBOUR_FILES = ("sn_model_2025_wide.csv", "New_Statistical_Neighbour_Groupings_April_2021.csv")
BENCHMARK_MEASURES = (
    "overall_absence",
    "persistent_absence",
    "severe_absence",
    "ks2_rwm_expected",
    "ks4_attainment8",
    "ks4_basics_94",
)
BENCHMARK_COHORTS = (CINO, CPPO, CLA_12_MONTHS)


def load_published(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """DfE's EES files found in ``folder`` (as published), and the neighbour groupings."""
    frames = [
        published_measures(folder / name) for name in BENCHMARK_FILES if (folder / name).is_file()
    ]
    if not frames:
        raise FileNotFoundError(
            f"no DfE benchmark files in {folder} (looked for {', '.join(BENCHMARK_FILES)})"
        )
    neighbours = next(
        (statistical_neighbours(folder / n) for n in NEIGHBOUR_FILES if (folder / n).is_file()),
        None,
    )
    return pd.concat(frames, ignore_index=True), neighbours


@dataclass(frozen=True)
class BenchmarkRow:
    """One social care group's published figures: England's (a value or DfE's symbol) and,
    with an LA code, its region's and its statistical neighbours' mean."""

    cohort: str
    england: object
    england_symbol: object
    region: Decimal | None = None
    statistical_neighbours: Decimal | None = None


@dataclass(frozen=True)
class Benchmarks:
    published_year: str
    local: bool  # whether the rows carry region and statistical neighbour figures
    tables: tuple[tuple[str, tuple[BenchmarkRow, ...]], ...]  # (measure, rows) per measure


def benchmark_tables(
    published: pd.DataFrame, year: str, la_code: str | None, neighbours: pd.DataFrame | None
) -> Benchmarks:
    """Per benchmarked measure, each social care group's published England figure (and
    region and neighbours with ``la_code``), for ``year`` or, if DfE has not published it,
    the newest year published. Measures England has no figure for are left out."""
    totals = published[published.breakdown_value == "All"]
    published_year = year if year in set(totals.academic_year) else max(totals.academic_year)
    chosen = totals[totals.academic_year == published_year]
    local = None
    if la_code and neighbours is not None:
        local = comparators(chosen, la_code, neighbours)
        local = local if not local.empty else None
    tables = []
    for measure in BENCHMARK_MEASURES:
        rows = []
        for cohort in BENCHMARK_COHORTS:
            england = chosen[
                (chosen.geographic_level == NATIONAL)
                & (chosen.cohort == cohort)
                & (chosen.measure == measure)
            ]
            if england.empty:
                continue
            row = BenchmarkRow(cohort, england.value.iloc[0], england.symbol.iloc[0])
            if local is not None:
                found = local[(local.cohort == cohort) & (local.measure == measure)]
                if not found.empty:
                    row = BenchmarkRow(
                        cohort,
                        row.england,
                        row.england_symbol,
                        found.region.iloc[0],
                        found.statistical_neighbours.iloc[0],
                    )
            rows.append(row)
        if rows:
            tables.append((measure, tuple(rows)))
    return Benchmarks(published_year, local is not None, tuple(tables))


def times_as_likely(
    rate: Decimal | float | None, comparator: Decimal | float | None
) -> Decimal | None:
    """ "x times as likely": a group's rate over its comparator's, to one decimal place."""
    if rate is None or comparator is None or Decimal(str(comparator)) == 0:
        return None
    return round_half_up(Decimal(str(rate)) / Decimal(str(comparator)), 1)
