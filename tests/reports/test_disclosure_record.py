"""Every format of the VSH report records how it was disclosed: the threshold used and the
suppression method's version, with a warning for a threshold below the floor (issue 14)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from cwsw.indicators.suppression import METHOD_VERSION
from cwsw.reports import vsh, writers
from cwsw.warehouse.connection import Warehouse
from tests.conftest import BuiltLA


@pytest.mark.parametrize("threshold", [7, 1])
def test_every_format_records_the_threshold_and_method(
    threshold: int, built_la: BuiltLA, tmp_path: Path
) -> None:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        report = vsh.read_report(warehouse, threshold=threshold, la_name="")
    paths = writers.write_report(report, tmp_path, ("html", "xlsx", "csv", "parquet"))
    unsafe = threshold < 3
    said = f"Suppression threshold {threshold}; suppression method {METHOD_VERSION}."
    page = paths["html"].read_text(encoding="utf-8")
    assert said in page
    assert ("WARNING: the suppression threshold is 1" in page) is unsafe

    book = load_workbook(paths["xlsx"])
    props = {p.name: p.value for p in book.custom_doc_props}
    assert props["cwsw.suppression_threshold"] == threshold
    assert props["cwsw.suppression_method"] == METHOD_VERSION
    assert ("cwsw.warning" in props) is unsafe
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(values_only=True) if row[0]}
    assert notes["Suppression threshold"] == str(threshold)
    assert notes["Suppression method"] == METHOD_VERSION

    record = json.loads(paths["csv"].with_suffix(".disclosure.json").read_text("utf-8"))
    metadata = pq.read_schema(paths["parquet"]).metadata[writers.METADATA_KEY]
    assert json.loads(metadata) == record
    assert record["suppression_threshold"] == threshold
    assert record["suppression_method"] == METHOD_VERSION
    assert record["period"] == report.period
    assert record["unsafe_threshold"] is unsafe


def test_the_excel_file_depends_only_on_its_generation_time(
    built_la: BuiltLA, tmp_path: Path
) -> None:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        report = vsh.read_report(warehouse, threshold=5, la_name="")
    report = replace(report, generated_at="2 March 2027 10:15 UTC")
    first = writers.write_report(report, tmp_path / "a", ("xlsx",))["xlsx"]
    second = writers.write_report(report, tmp_path / "b", ("xlsx",))["xlsx"]
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2027, 3, 2, 10, 15, 0)}
    book = load_workbook(first)
    assert book.properties.created.isoformat() == "2027-03-02T10:15:00"
