"""The stages after ingestion, in order: link, build marts, report.

The CLI, the demo, the tests and the benchmarks all run the pipeline through these functions,
so there is one way to get from loaded returns to the figures people see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from cwsw.cohort.definitions import DEFAULT_COHORTS, CohortSpec
from cwsw.domain.calendar import academic_year_label
from cwsw.indicators import engines, marts
from cwsw.linkage.probabilistic import Thresholds
from cwsw.linkage.run import CHILD_PUPIL_LINK, LinkageRun, LinkOptions, run_linkage
from cwsw.linkage.splink_engine import SparkOptions
from cwsw.settings import Settings, get_settings
from cwsw.warehouse.connection import Warehouse

__all__ = ["CHILD_PUPIL_LINK", "LinkResult", "NothingToBuild", "build", "link", "report"]


class NothingToBuild(Exception):
    """Raised when the warehouse lacks the returns a stage needs; the message says which."""


@dataclass(frozen=True)
class LinkResult:
    children: int
    linked: int
    run: LinkageRun


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
    return LinkResult(children=run.children, linked=run.linked, run=run)


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


def build(
    warehouse: Warehouse,
    reference_date: dt.date | None = None,
    cohorts: Sequence[CohortSpec] = DEFAULT_COHORTS,
    engine: str = engines.DUCKDB,
    engine_options: engines.EngineOptions | None = None,
) -> int:
    """(Re)build the marts: for ``reference_date``'s year, or every year loaded (trends by
    year). Returns the number of mart rows written.

    ``engine`` computes them (``cwsw.indicators.engines``: DuckDB, PostgreSQL or Spark, the
    same Ibis expressions on each); the rows are stored in the warehouse either way.
    """
    dates = [reference_date] if reference_date else reference_dates(warehouse)
    lineage = source_loads(warehouse)
    with engines.build_backend(warehouse, engine, engine_options) as con:
        frames = [marts.build_marts(con, date, lineage, cohorts) for date in dates]
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
