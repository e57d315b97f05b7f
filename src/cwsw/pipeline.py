"""The stages after ingestion, in order: link, build marts, report.

The CLI, the demo, the tests and the benchmarks all run the pipeline through these functions,
so there is one way to get from loaded returns to the figures people see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from cwsw.indicators import marts, service
from cwsw.linkage.deterministic import link_on_valid_upn
from cwsw.reports.absence_report import write_absence_report
from cwsw.warehouse.connection import Warehouse

CHILD_PUPIL_LINK = "child_pupil_link"


class NothingToBuild(Exception):
    """Raised when the warehouse lacks the returns a stage needs; the message says which."""


@dataclass(frozen=True)
class LinkResult:
    children: int
    linked: int


def latest_reference_date(warehouse: Warehouse) -> dt.date:
    """31 March of the newest CIN census collection year loaded."""
    con = warehouse.ibis
    if "cin_child" not in con.list_tables():
        raise NothingToBuild("no CIN census has been loaded: run `cwsw ingest` first")
    year = con.table("cin_child").collection_year.max().execute()
    if year is None:
        raise NothingToBuild("no CIN census has been loaded: run `cwsw ingest` first")
    return dt.date(int(year), 3, 31)


def link(warehouse: Warehouse) -> LinkResult:
    """Link social care children to pupils (deterministic rules) and store the links."""
    con = warehouse.ibis
    links = link_on_valid_upn(
        con.table("cin_child"), con.table("cla_child"), con.table("pupil_enrolment")
    )
    sql = str(con.compile(links))
    with warehouse.transaction():
        warehouse.execute(f"CREATE OR REPLACE TABLE {CHILD_PUPIL_LINK} AS {sql}")
    children = con.table("cin_child").la_child_id.nunique().execute()
    linked = con.table(CHILD_PUPIL_LINK).count().execute()
    return LinkResult(children=int(children), linked=int(linked))


def source_loads(warehouse: Warehouse) -> list[str]:
    """The loaded files every figure depends on: name and the first 12 of its SHA-256."""
    loads = warehouse.ibis.table("loads").order_by("load_id").execute()
    return [f"{r.file_name} ({r.sha256[:12]})" for r in loads.itertuples()]


def build(warehouse: Warehouse, reference_date: dt.date | None = None) -> int:
    """(Re)build the marts for the year paired with ``reference_date``; returns mart rows."""
    reference_date = reference_date or latest_reference_date(warehouse)
    frame = marts.build_absence_mart(warehouse.ibis, reference_date, source_loads(warehouse))
    columns = ", ".join(f"{name} {_duckdb_type(t)}" for name, t in marts.MART_COLUMNS.items())
    with warehouse.transaction():
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {marts.ABSENCE_MART} ({columns})")
        warehouse.execute(
            f"DELETE FROM {marts.ABSENCE_MART} WHERE academic_year = ?",
            [marts.academic_year_label(reference_date.year)],
        )
        warehouse.insert_arrow(
            marts.ABSENCE_MART, pa.Table.from_pandas(frame, preserve_index=False)
        )
    return len(frame)


def _duckdb_type(ibis_type: str) -> str:
    return {
        "string": "VARCHAR",
        "date": "DATE",
        "float64": "DOUBLE",
        "timestamp": "TIMESTAMP",
    }[ibis_type]


def report(warehouse: Warehouse, out_dir: Path, threshold: int) -> Path:
    """Write the VSH absence report from the built marts."""
    figures = service.summary_from(warehouse, threshold=threshold)
    if figures is None:
        raise NothingToBuild("no marts have been built: run `cwsw build` first")
    return write_absence_report(figures, out_dir, threshold=threshold)
