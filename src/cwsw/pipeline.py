"""The stages after ingestion, in order: link, build marts, report.

The CLI, the demo, the tests and the benchmarks all run the pipeline through these functions,
so there is one way to get from loaded returns to the figures people see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cwsw.cohort.definitions import DEFAULT_COHORTS, CohortSpec
from cwsw.cohort.groups import CLA_12_MONTHS, CLA_UNDER_12_MONTHS
from cwsw.cohort.timelines import CLA
from cwsw.domain.calendar import academic_year_label
from cwsw.errors import UserError
from cwsw.indicators import engines, marts
from cwsw.linkage.probabilistic import Thresholds
from cwsw.linkage.run import CHILD_PUPIL_LINK, LinkageRun, LinkOptions, run_linkage
from cwsw.linkage.splink_engine import SparkOptions
from cwsw.settings import Settings, get_settings
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.status import WarehouseStatus, status_of, warehouse_status

__all__ = [
    "CHILD_PUPIL_LINK",
    "IncompleteReturns",
    "LinkResult",
    "MissingReturn",
    "NothingToBuild",
    "build",
    "link",
    "missing_returns",
    "report",
]


class NothingToBuild(UserError):
    """Raised when the warehouse lacks the returns a stage needs; the message says which."""


@dataclass(frozen=True)
class LinkResult:
    children: int
    linked: int
    run: LinkageRun
    # Gaps in the series loaded (``cwsw.warehouse.status``), each one line: the links are
    # made from what is there, and the user is told what is not.
    gaps: tuple[str, ...] = ()


def latest_reference_date(warehouse: Warehouse) -> dt.date:
    """31 March of the newest CIN census collection year loaded."""
    con = warehouse.ibis
    if "cin_child" not in con.list_tables():
        raise NothingToBuild("no CIN census has been loaded: run `cwsw ingest` first")
    year = con.table("cin_child").collection_year.max().execute()
    if year is None:
        raise NothingToBuild("no CIN census has been loaded: run `cwsw ingest` first")
    return dt.date(int(year), 3, 31)


def build_engine_options(settings: Settings) -> engines.EngineOptions:
    """How the settings reach PostgreSQL and Spark for a build on another engine."""
    return engines.EngineOptions(
        postgres_url=settings.build_postgres_url,
        spark_master=settings.spark_master,
        spark_shuffle_partitions=settings.spark_shuffle_partitions,
    )


def link(warehouse: Warehouse, settings: Settings | None = None) -> LinkResult:
    """Link social care children to pupils (human decisions, identifier rules, then Splink)
    and store the links, outcomes and review queue (``cwsw.linkage.run``)."""
    settings = settings or get_settings()
    options = LinkOptions(
        thresholds=Thresholds(
            match_probability=settings.link_match_probability,
            potential_probability=settings.link_potential_probability,
            margin_weight=settings.link_margin_weight,
        ),
        seed=settings.link_seed,
        decisions_path=settings.linkage_decisions_path,
        model_path=settings.linkage_model_path,
        engine=settings.link_engine,
        spark=SparkOptions(
            master=settings.spark_master, shuffle_partitions=settings.spark_shuffle_partitions
        ),
    )
    run = run_linkage(warehouse, options)
    gaps = tuple(gap.describe() for gap in status_of(warehouse).gaps)
    return LinkResult(children=run.children, linked=run.linked, run=run, gaps=gaps)


def source_loads(warehouse: Warehouse) -> dict[str, str]:
    """Each population's loaded files (name and the first 12 of the SHA-256): its lineage."""
    loads = warehouse.ibis.table("loads").order_by("load_id").execute()
    return marts.lineage(warehouse.ibis, loads)


def reference_dates(warehouse: Warehouse) -> list[dt.date]:
    """Every 31 March with both a CIN census and that academic year's spring school census."""
    con = warehouse.ibis
    latest = latest_reference_date(warehouse)
    terms = con.table("pupil_enrolment").census_term.name("term").as_table().distinct()
    years = {
        int(str(t).split("_")[0])
        for t in terms.execute()["term"]
        if str(t).endswith("_spring") and str(t).split("_")[0].isdigit()
    }
    cin_years = set(
        con.table("cin_child").collection_year.as_table().distinct().execute().iloc[:, 0]
    )
    found = sorted(dt.date(y, 3, 31) for y in years & {int(y) for y in cin_years})
    return found or [latest]


# The returns the cohorts and populations read, by the canonical table that holds them.
CIN_CENSUS = "CIN census"
SSDA903 = "SSDA903 episodes"
SPRING_CENSUS = "spring school census"
# The order they are named in: what every figure needs first.
SOURCE_ORDER = (SPRING_CENSUS, CIN_CENSUS, SSDA903)


@dataclass(frozen=True)
class MissingReturn:
    """A return a year's figures need that the warehouse does not hold.

    ``academic_year_end`` is the year built (2025: 2024/25, status at 31 March 2025);
    ``year`` the return's collection year (CIN census, SSDA903: the year to 31 March) or
    census year (the spring census); ``cohorts`` the labels of the cohorts whose figures rest
    on it, empty when every figure does.
    """

    academic_year_end: int
    source: str
    year: int
    cohorts: tuple[str, ...] = ()

    def describe(self) -> str:
        """``no CIN census for 2021/22 (the year to 31 March 2022)``."""
        return _no_return(self.source, [self.year])

    def figures(self) -> str:
        """Which figures rest on it, in words."""
        return _figures(self.cohorts)

    def note(self) -> str:
        """The lineage entry of a figure built without it (``source_loads``: no commas, as
        entries are comma-separated)."""
        figures = _figures(self.cohorts, separator="; ")
        text = f"Incomplete returns: {self.describe()}: {figures} rest on incomplete data"
        return text.replace(",", "")

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return (self.academic_year_end, SOURCE_ORDER.index(self.source), self.year)


def _runs(years: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive years as (first, last) runs: 2020, 2021, 2022, 2024 -> (2020, 2022), (2024,
    2024)."""
    runs: list[tuple[int, int]] = []
    for year in sorted(set(years)):
        if runs and year == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], year)
        else:
            runs.append((year, year))
    return runs


def _no_return(source: str, years: Sequence[int]) -> str:
    """``no CIN census for 2019/20 to 2021/22 (the years to 31 March 2020 to 2022)``."""
    runs = _runs(years)

    def spans(label: Callable[[int], str]) -> str:
        return " and ".join(label(a) if a == b else f"{label(a)} to {label(b)}" for a, b in runs)

    if source == SPRING_CENSUS:
        return f"no spring school census of {spans(str)} (pupils on roll)"
    plural = "s" if len(set(years)) > 1 else ""
    return (
        f"no {source} for {spans(academic_year_label)} (the year{plural} to 31 March {spans(str)})"
    )


def _figures(cohorts: Sequence[str], separator: str = ", ") -> str:
    """``the figures for A, B and C``, or ``every figure``."""
    if not cohorts:
        return "every figure"
    listed = separator.join(cohorts[:-1]) + " and " if len(cohorts) > 1 else ""
    return f"the figures for {listed}{cohorts[-1]}"


class IncompleteReturns(NothingToBuild):
    """A build refused because returns its cohorts need are missing; the message names each
    return and year and the way to build anyway."""

    def __init__(self, missing: Sequence[MissingReturn]) -> None:
        self.missing = tuple(missing)
        years = sorted({m.academic_year_end for m in self.missing})
        # One clause per return and the figures resting on it, with all its missing years.
        grouped: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for m in sorted(self.missing, key=lambda m: (SOURCE_ORDER.index(m.source), m.year)):
            grouped.setdefault((m.source, m.cohorts), []).append(m.year)
        listed = "; ".join(
            f"{_no_return(source, of)}, needed by {_figures(cohorts)}"
            for (source, cohorts), of in grouped.items()
        )
        super().__init__(
            f"cannot build {' and '.join(academic_year_label(y) for y in years)}: {listed}: "
            "load the missing returns with `cwsw ingest` (then `cwsw link`), or build anyway "
            "with `cwsw build --allow-incomplete` (the outputs then say which figures rest on "
            "incomplete data)"
        )


def returns_needed(
    spec: CohortSpec, year: int, known: dict[str, CohortSpec] | None = None
) -> set[tuple[str, int]]:
    """The returns (source, year) a cohort's membership at 31 March ``year`` reads.

    From the cohort definitions (``cwsw.cohort``): a group at 31 March reads that year's CIN
    census (CIN episodes, CP plans) and SSDA903 (who is looked after, highest first in DfE's
    hierarchy), and a looked-after group also the year before's SSDA903 (12 months in care);
    a group in the year reads the year's CIN census and SSDA903; "ever" a status in the last
    ``years`` reads each of those years' returns of that status (CIN and CP from the CIN
    census, CLA from the SSDA903); "open" the year's; a combination what its parts read; "not"
    what its complement reads; "all" no social care return.
    """
    known = known or {s.name: s for s in DEFAULT_COHORTS}

    def of_status(status: str, years: range) -> set[tuple[str, int]]:
        source = SSDA903 if status == CLA else CIN_CENSUS
        return {(source, y) for y in years}

    this_year = range(year, year + 1)
    if spec.kind == "at":
        needed = {(CIN_CENSUS, year), (SSDA903, year)}
        if {CLA_12_MONTHS, CLA_UNDER_12_MONTHS} & set(spec.groups):
            needed.add((SSDA903, year - 1))
        return needed
    if spec.kind == "in_year":
        return {(CIN_CENSUS, year), (SSDA903, year)}
    if spec.kind == "ever":
        return of_status(spec.status, range(year - spec.years + 1, year + 1))
    if spec.kind == "open":
        return of_status(spec.status, this_year)
    if spec.kind == "combine":
        parts = (*spec.any_of, *spec.all_of, *spec.exclude)
        return set().union(*(returns_needed(known[ref], year, known) for ref in parts))
    if spec.kind == "not":
        return returns_needed(known[spec.of], year, known)
    return set()


def loaded_returns(warehouse: Warehouse) -> set[tuple[str, int]]:
    """The returns the canonical tables hold rows of: CIN census and SSDA903 episodes by
    collection year, spring school censuses by year (what the cohorts and populations read,
    whatever the files were called)."""
    present = set(warehouse.ibis.list_tables())
    found: set[tuple[str, int]] = set()
    for source, table in ((CIN_CENSUS, "cin_child"), (SSDA903, "cla_episode")):
        if table in present:
            rows = warehouse.execute(
                f'SELECT DISTINCT collection_year FROM "{table}" WHERE collection_year IS NOT NULL'
            )
            found |= {(source, int(row[0])) for row in rows}
    if "pupil_enrolment" in present:
        rows = warehouse.execute(
            # Pupils on roll (the headcount): a census's leavers alone are not the census.
            "SELECT DISTINCT census_term FROM pupil_enrolment "
            "WHERE census_term LIKE '%_spring' AND coalesce(on_roll, true)"
        )
        found |= {
            (SPRING_CENSUS, int(term.split("_")[0]))
            for (term,) in rows
            if str(term).split("_")[0].isdigit()
        }
    return found


def missing_returns(
    warehouse: Warehouse,
    dates: Sequence[dt.date],
    cohorts: Sequence[CohortSpec] = DEFAULT_COHORTS,
) -> list[MissingReturn]:
    """The returns the cohorts need for each 31 March in ``dates`` that are not loaded.

    Every figure rests on the year's spring census (the pupils, and the first term of
    absence); each cohort on the returns :func:`returns_needed` lists.
    """
    loaded = loaded_returns(warehouse)
    known = {s.name: s for s in (*DEFAULT_COHORTS, *cohorts)}
    missing = []
    for year in sorted({d.year for d in dates}):
        if (SPRING_CENSUS, year) not in loaded:
            missing.append(MissingReturn(year, SPRING_CENSUS, year))
        resting: dict[tuple[str, int], list[str]] = {}
        for spec in cohorts:
            for need in returns_needed(spec, year, known):
                if need not in loaded:
                    label = spec.display_label.replace(",", "")
                    resting.setdefault(need, []).append(label)
        missing += [
            MissingReturn(year, source, of, tuple(labels))
            for (source, of), labels in resting.items()
        ]
    return sorted(missing, key=lambda m: m.sort_key)


@dataclass(frozen=True)
class Readiness:
    """Whether ``cwsw build`` would run: the academic years it would build (2025: 2024/25),
    the returns they lack, or why nothing can be built yet."""

    years: tuple[int, ...]
    missing: tuple[MissingReturn, ...]
    blocked: str | None = None

    def describe(self) -> str:
        if self.blocked:
            return f"nothing to build: {self.blocked}"
        years = " and ".join(academic_year_label(y) for y in self.years)
        if not self.missing:
            return f"ready to build {years}"
        return f"`cwsw build` would be refused: {IncompleteReturns(self.missing)}"


def build_readiness(
    warehouse: Warehouse, cohorts: Sequence[CohortSpec] = DEFAULT_COHORTS
) -> Readiness:
    """What ``cwsw build`` would build and what it would lack, without building."""
    try:
        if "pupil_enrolment" not in warehouse.ibis.list_tables():
            raise NothingToBuild("no school census has been loaded: run `cwsw ingest` first")
        dates = reference_dates(warehouse)
    except NothingToBuild as error:
        return Readiness((), (), str(error))
    missing = missing_returns(warehouse, dates, cohorts)
    return Readiness(tuple(sorted({d.year for d in dates})), tuple(missing))


@dataclass(frozen=True)
class PipelineStatus:
    """``cwsw status``: the warehouse (:class:`~cwsw.warehouse.status.WarehouseStatus`) and
    whether a build would run."""

    warehouse: WarehouseStatus
    build: Readiness

    def as_dict(self) -> dict[str, Any]:
        readiness = {
            "years": [academic_year_label(y) for y in self.build.years],
            "missing": [m.describe() for m in self.build.missing],
            "blocked": self.build.blocked,
            "text": self.build.describe(),
        }
        return self.warehouse.as_dict() | {"build": readiness}


def status(path: Path) -> PipelineStatus:
    """The status of the warehouse file at ``path`` (opened read-only, never created): what
    is loaded, the gaps, whether links and marts are up to date, and whether a build would
    run. The one function the command line and the web app call."""
    if not path.exists():
        nothing = Readiness((), (), "no warehouse yet: run `cwsw ingest`")
        return PipelineStatus(warehouse_status(path), nothing)
    with Warehouse.open(path, read_only=True) as warehouse:
        return PipelineStatus(status_of(warehouse), build_readiness(warehouse))


def _with_incomplete_notes(
    frame: pd.DataFrame, missing: Sequence[MissingReturn], cohorts: Sequence[CohortSpec]
) -> pd.DataFrame:
    """The mart rows with each missing return's note added to the lineage (``source_loads``)
    of the figures resting on it, so the export, the report's notes and the pages say so."""
    if not missing or frame.empty:
        return frame
    by_label = {s.display_label.replace(",", ""): s.name for s in cohorts}
    lineage = frame["source_loads"].fillna("").astype(str)
    for gap in missing:
        resting = (
            frame["cohort"].isin({by_label[label] for label in gap.cohorts})
            if gap.cohorts
            else pd.Series(True, index=frame.index)
        )
        # Column at a time: a national mart has millions of rows.
        joined = lineage.where(lineage == "", lineage + ",") + gap.note()
        lineage = joined.where(resting, lineage)
    return frame.assign(source_loads=lineage)


def build(
    warehouse: Warehouse,
    reference_date: dt.date | None = None,
    cohorts: Sequence[CohortSpec] = DEFAULT_COHORTS,
    engine: str = engines.DUCKDB,
    engine_options: engines.EngineOptions | None = None,
    *,
    allow_incomplete: bool = False,
) -> int:
    """(Re)build the marts: for ``reference_date``'s year, or every year loaded (trends by
    year). Returns the number of mart rows written.

    ``engine`` computes them (``cwsw.indicators.engines``: DuckDB, PostgreSQL or Spark, the
    same Ibis expressions on each); the rows are stored in the warehouse either way.

    A year whose cohorts need a return that is not loaded (:func:`missing_returns`: six CIN
    census years for "ever CIN in the last 6 years", the year before's SSDA903 for "looked
    after 12 months", the spring census for every figure) is refused with
    :class:`IncompleteReturns`, unless ``allow_incomplete``: then every figure resting on a
    missing return carries a note saying so in its lineage.
    """
    dates = [reference_date] if reference_date else reference_dates(warehouse)
    missing = missing_returns(warehouse, dates, cohorts)
    if missing and not allow_incomplete:
        raise IncompleteReturns(missing)
    if CHILD_PUPIL_LINK not in warehouse.ibis.list_tables():  # the marts read the links
        raise NothingToBuild("no linkage has been run: run `cwsw link` first")
    lineage = source_loads(warehouse)
    with engines.build_backend(warehouse, engine, engine_options) as con:
        frames = [
            _with_incomplete_notes(
                marts.build_marts(con, date, lineage, cohorts),
                [m for m in missing if m.academic_year_end == date.year],
                cohorts,
            )
            for date in dates
        ]
    columns = ", ".join(f"{name} {_duckdb_type(t)}" for name, t in marts.MART_COLUMNS.items())
    with warehouse.transaction():
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {marts.MART} ({columns})")
        for date, frame in zip(dates, frames, strict=True):
            warehouse.execute(
                f"DELETE FROM {marts.MART} WHERE academic_year = ?",
                [academic_year_label(date.year)],
            )
            warehouse.insert_arrow(marts.MART, pa.Table.from_pandas(frame, preserve_index=False))
    return sum(len(f) for f in frames)


def _duckdb_type(ibis_type: str) -> str:
    return {
        "string": "VARCHAR",
        "date": "DATE",
        "float64": "DOUBLE",
        "timestamp": "TIMESTAMP",
    }[ibis_type]


def report(
    warehouse: Warehouse,
    out_dir: Path,
    threshold: int,
    *,
    period: str | None = None,
    formats: Sequence[str] | None = None,
    benchmarks: Path | None = None,
    la_code: str | None = None,
) -> dict[str, Path]:
    """Write the Virtual School Head's report from the built marts (``docs/reports.md``):
    HTML, PDF, Excel, CSV and Parquet, or the ``formats`` named. Returns format -> path."""
    from cwsw.reports import vsh, writers

    try:
        figures = vsh.read_report(
            warehouse,
            threshold=threshold,
            period=period,
            benchmarks_dir=benchmarks,
            la_code=la_code,
        )
    except vsh.NoMarts as error:
        raise NothingToBuild(str(error)) from None
    return writers.write_report(figures, out_dir, formats or writers.FORMATS)
