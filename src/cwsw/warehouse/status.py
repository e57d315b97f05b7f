"""What the warehouse holds: which file is in use, what is loaded by dataset and period, the
gaps in each series, and whether the links and marts are older than the newest load.

One function (:func:`warehouse_status`) for the command line (``cwsw status``) and the web
app; the CLI only prints it. Only counts, file names and times are read, never a value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cwsw.domain.calendar import CENSUS_SEASONS, census_term_sort_key
from cwsw.warehouse.connection import Warehouse

# The tables whose distinct children (LA child ID) or pupils (UPN) say what a load holds, in
# the order looked at: a load is counted in the first it has rows in.
PEOPLE_TABLES = (
    ("cin_child", "la_child_id", "children"),
    ("cla_child", "la_child_id", "children"),
    ("cla_episode", "la_child_id", "children"),
    ("person", "la_child_id", "children"),
    ("pupil_enrolment", "upn", "pupils"),
    ("ks2_result", "upn", "pupils"),
    ("ks4_result", "upn", "pupils"),
)
# What the links and the marts are stored in, with the time each was made (UTC).
LINK_RUN = ("linkage_run", "run_at")
MARTS = ("mart_measure", "built_at")

_YEAR = re.compile(r"^\d{4}$")
_TERM = re.compile(r"^(\d{4})_(spring|summer|autumn)$")


@dataclass(frozen=True)
class LoadedPeriod:
    """The current (not superseded) loads of one dataset and period."""

    dataset: str
    period: str | None
    files: tuple[str, ...]
    rows: int
    people: int | None  # distinct children or pupils, where the dataset holds either
    unit: str  # "children", "pupils" or ""
    loaded_at: dt.datetime | None  # the latest of its loads (UTC)


@dataclass(frozen=True)
class Gap:
    """Periods missing between the first and last loaded of a series."""

    series: str  # a dataset, or ``school_census`` for the censuses as a whole
    missing: tuple[str, ...]
    first: str
    last: str

    def describe(self) -> str:
        """``cin_census: 2022 missing (loaded 2020 to 2025)``."""
        missing = ", ".join(self.missing)
        return f"{self.series}: {missing} missing (loaded {self.first} to {self.last})"


@dataclass(frozen=True)
class Stage:
    """A stage after loading (linkage, marts): when it last ran and whether a load since
    has made it out of date."""

    name: str
    command: str
    ran_at: dt.datetime | None  # UTC
    stale: bool

    def describe(self) -> str:
        if self.ran_at is None:
            return f"{self.name}: not run yet (run `{self.command}`)"
        when = f"{self.ran_at:%Y-%m-%d %H:%M:%S} UTC"
        if self.stale:
            return f"{self.name}: {when}, older than the newest load (run `{self.command}`)"
        return f"{self.name}: {when}, up to date"


@dataclass(frozen=True)
class WarehouseStatus:
    path: str
    exists: bool
    loaded: tuple[LoadedPeriod, ...]
    gaps: tuple[Gap, ...]
    superseded: int  # loads replaced by a later file of their dataset and period
    newest_load: dt.datetime | None  # UTC
    links: Stage
    marts: Stage

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the web app: times as ISO text."""
        found: dict[str, Any] = asdict(self)
        found["gaps"] = [
            g | {"text": gap.describe()} for g, gap in zip(found["gaps"], self.gaps, strict=True)
        ]
        for key, stage in (("links", self.links), ("marts", self.marts)):
            found[key]["text"] = stage.describe()
        return _iso(found)


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(v) for v in value]
    return value


def _utc(local: dt.datetime | None) -> dt.datetime | None:
    """``loads.loaded_at`` (the loading machine's local time, naive) as naive UTC, to the
    second, as the linkage and marts record their times."""
    if local is None:
        return None
    return local.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _tables(warehouse: Warehouse) -> set[str]:
    return {str(row[0]) for row in warehouse.execute("SELECT table_name FROM duckdb_tables()")}


def _people(warehouse: Warehouse, present: set[str]) -> dict[int, tuple[int, str]]:
    """Each load's distinct children or pupils, from the first table of
    :data:`PEOPLE_TABLES` it has rows in."""
    found: dict[int, tuple[int, str]] = {}
    for table, column, unit in PEOPLE_TABLES:
        if table not in present:
            continue
        rows = warehouse.execute(
            f'SELECT load_id, count(DISTINCT "{column}") FROM "{table}" GROUP BY load_id'
        )
        for load_id, count in rows:
            found.setdefault(int(load_id), (int(count), unit))
    return found


def _ran_at(warehouse: Warehouse, present: set[str], where: tuple[str, str]) -> dt.datetime | None:
    table, column = where
    if table not in present:
        return None
    value = warehouse.execute(f'SELECT max("{column}") FROM "{table}"')[0][0]
    return value.replace(microsecond=0) if isinstance(value, dt.datetime) else None


def _missing_years(years: Iterable[int]) -> list[int]:
    chosen = sorted(set(years))
    return [y for y in range(chosen[0], chosen[-1] + 1) if y not in chosen] if chosen else []


def _term_gaps(series: str, terms: set[str]) -> Gap | None:
    """Census terms missing between the first and last loaded (spring, summer, autumn)."""
    order = [(int(t[:4]), CENSUS_SEASONS.index(t[5:])) for t in terms]
    first, last = min(order), max(order)
    missing = []
    year, season = first
    while (year, season) < last:
        if f"{year}_{CENSUS_SEASONS[season]}" not in terms:
            missing.append(f"{year}_{CENSUS_SEASONS[season]}")
        year, season = (year + 1, 0) if season == 2 else (year, season + 1)
    ordered = sorted(terms, key=census_term_sort_key)
    return Gap(series, tuple(missing), ordered[0], ordered[-1]) if missing else None


def series_gaps(periods: dict[str, set[str]]) -> list[Gap]:
    """Gaps in each dataset's periods (``dataset -> periods loaded``).

    A yearly series (CIN census, SSDA903, KS2...) misses the years between its first and
    last; a school census table the years between its first and last of each season it is
    loaded in (some tables come in one season only); and the school censuses as a whole the
    terms between the first and the last. An SSDA903 XML return holds every SSDA903 table, so
    its years count for each. Attendance (dates) has no series.
    """
    xml_years = periods.get("ssda903_xml", set())
    gaps: list[Gap] = []
    census_terms: set[str] = set()
    for dataset in sorted(periods):
        found = periods[dataset]
        if dataset.startswith("ssda903_") and dataset != "ssda903_xml":
            found = found | xml_years
        years = {int(p) for p in found if _YEAR.match(p)}
        missing = _missing_years(years)
        if missing:
            first, last = min(years), max(years)
            gaps.append(Gap(dataset, tuple(map(str, missing)), str(first), str(last)))
        terms = {p for p in found if _TERM.match(p)}
        if dataset.startswith("school_census"):
            census_terms |= terms
        for season in CENSUS_SEASONS:
            of_season = {int(t[:4]) for t in terms if t.endswith(f"_{season}")}
            missing = _missing_years(of_season)
            if missing:
                gaps.append(
                    Gap(
                        dataset,
                        tuple(f"{y}_{season}" for y in missing),
                        f"{min(of_season)}_{season}",
                        f"{max(of_season)}_{season}",
                    )
                )
    if census_terms:
        whole = _term_gaps("school_census", census_terms)
        if whole is not None:
            gaps.append(whole)
    return gaps


def status_of(warehouse: Warehouse) -> WarehouseStatus:
    """The status of an open warehouse (read-only is enough)."""
    present = _tables(warehouse)
    loaded: list[LoadedPeriod] = []
    superseded = 0
    newest: dt.datetime | None = None
    if "loads" in present:
        people = _people(warehouse, present)
        rows = warehouse.execute(
            "SELECT load_id, coalesce(dataset, format), period, file_name, rows, loaded_at, "
            "superseded_by FROM loads ORDER BY load_id"
        )
        groups: dict[tuple[str, str | None], list[tuple[Any, ...]]] = {}
        for row in rows:
            load_at = _utc(row[5])
            if load_at is not None and (newest is None or load_at > newest):
                newest = load_at
            if row[6] is not None:
                superseded += 1
                continue
            groups.setdefault((str(row[1]), row[2]), []).append(row)
        for (dataset, period), loads in groups.items():
            counted = [people[int(r[0])] for r in loads if int(r[0]) in people]
            times = [t for t in (_utc(r[5]) for r in loads) if t is not None]
            loaded.append(
                LoadedPeriod(
                    dataset=dataset,
                    period=period,
                    files=tuple(str(r[3]) for r in loads),
                    rows=sum(int(r[4] or 0) for r in loads),
                    people=sum(n for n, _ in counted) if counted else None,
                    unit=counted[0][1] if counted else "",
                    loaded_at=max(times) if times else None,
                )
            )
    loaded.sort(key=lambda p: (p.dataset, census_term_sort_key(p.period or "")))
    periods: dict[str, set[str]] = {}
    for entry in loaded:
        if entry.period is not None:
            periods.setdefault(entry.dataset, set()).add(entry.period)
    links_at = _ran_at(warehouse, present, LINK_RUN)
    marts_at = _ran_at(warehouse, present, MARTS)

    def older(than: dt.datetime | None, ran: dt.datetime | None) -> bool:
        return ran is not None and than is not None and ran < than

    links = Stage("links", "cwsw link", links_at, older(newest, links_at))
    newest_input = max((t for t in (newest, links_at) if t is not None), default=None)
    marts = Stage("marts", "cwsw build", marts_at, older(newest_input, marts_at))
    return WarehouseStatus(
        path=warehouse.path,
        exists=True,
        loaded=tuple(loaded),
        gaps=tuple(series_gaps(periods)),
        superseded=superseded,
        newest_load=newest,
        links=links,
        marts=marts,
    )


def warehouse_status(path: Path | str) -> WarehouseStatus:
    """The status of the warehouse file at ``path``, opened read-only; a file that does not
    exist yet is reported as such (nothing loaded), not created."""
    if str(path) != ":memory:" and not Path(path).exists():
        nothing = Stage("links", "cwsw link", None, False)
        return WarehouseStatus(
            str(path),
            False,
            (),
            (),
            0,
            None,
            nothing,
            Stage("marts", "cwsw build", None, False),
        )
    with Warehouse.open(path, read_only=True) as warehouse:
        return status_of(warehouse)
