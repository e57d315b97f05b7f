"""``cwsw status``: the warehouse in use, what is loaded by dataset and period, the gaps in
each series, and whether links and marts are older than the newest load (issue 13).

Counts are checked against the synthetic LA's raw files, read by the test itself.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from lxml import etree
from tests.conftest import BuiltLA
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest
from cwsw.warehouse.status import Gap, series_gaps, status_of, warehouse_status

MISSING_YEAR = 2022


def _child_id(raw: str) -> str:
    """An LA child ID as a spreadsheet may have damaged it (``123456.0``), put right: the
    synthetic LA injects that fault (docs/domain.md §3)."""
    return raw.strip().removesuffix(".0")


def _children_in(path: Path) -> set[str]:
    tree = etree.parse(str(path))
    found = tree.iterfind("Children/Child/ChildIdentifiers/LAchildID")
    return {_child_id(str(e.text)) for e in found}


def _episode_children(path: Path) -> set[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {_child_id(row["CHILD"]) for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def gap_warehouse(built_la: BuiltLA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic LA's CIN censuses and SSDA903 tables, one CIN year not loaded."""
    path = tmp_path_factory.mktemp("status") / "warehouse.duckdb"
    files = sorted((built_la.data_dir / "cin_census").glob("cin_census_*.xml"))
    files = [f for f in files if f.stem != f"cin_census_{MISSING_YEAR}"]
    with Warehouse.open(path) as warehouse:
        results = ingest(warehouse, [*files, built_la.data_dir / "ssda903"])
    assert {r.status for r in results} == {"loaded"}
    return path


def test_no_warehouse_yet_is_said_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none" / "warehouse.duckdb"
    found = warehouse_status(path)
    assert (found.exists, found.loaded, found.gaps, found.path) == (False, (), (), str(path))
    assert found.links.ran_at is None and "not run yet" in found.links.describe()
    assert not path.exists() and not path.parent.exists()


def test_loaded_by_dataset_and_period_with_children_and_the_gap(
    gap_warehouse: Path, built_la: BuiltLA
) -> None:
    found = warehouse_status(gap_warehouse)
    assert found.exists and found.path == str(gap_warehouse)
    cin = {str(e.period): e for e in found.loaded if e.dataset == "cin_census"}
    years = [y for y in range(2020, 2026) if y != MISSING_YEAR]
    assert sorted(cin) == [str(y) for y in years]
    for year in years:
        file = built_la.data_dir / "cin_census" / f"cin_census_{year}.xml"
        entry = cin[str(year)]
        assert entry.files == (file.name,)
        assert (entry.people, entry.unit) == (len(_children_in(file)), "children")
    episodes = {e.period: e for e in found.loaded if e.dataset == "ssda903_episodes"}
    for year in range(2020, 2026):
        file = built_la.data_dir / "ssda903" / str(year) / "episodes.csv"
        assert episodes[str(year)].people == len(_episode_children(file))
    with Warehouse.open(gap_warehouse, read_only=True) as warehouse:
        rows = dict(warehouse.execute("SELECT period, rows FROM loads WHERE format = 'cin_census'"))
    assert {p: e.rows for p, e in cin.items()} == rows
    assert found.gaps == (Gap("cin_census", (str(MISSING_YEAR),), "2020", "2025"),)
    assert found.gaps[0].describe() == "cin_census: 2022 missing (loaded 2020 to 2025)"


def test_links_and_marts_older_than_the_newest_load(built_la: BuiltLA, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built_la.warehouse_path, copy)
    with Warehouse.open(copy) as warehouse:
        fresh = status_of(warehouse)
        assert fresh.gaps == ()
        assert fresh.links.ran_at is not None and not fresh.links.stale
        assert fresh.marts.ran_at is not None and not fresh.marts.stale
        assert fresh.newest_load is not None and fresh.newest_load <= fresh.links.ran_at
        # A resubmitted return (another file for a year already loaded) comes in.
        source = built_la.data_dir / "cin_census" / "cin_census_2024.xml"
        resubmitted = tmp_path / "cin_census_2024.xml"
        resubmitted.write_bytes(source.read_bytes().replace(b"<Release>", b"<Release>2"))
        (result,) = ingest(warehouse, [resubmitted])
        assert result.status == "loaded" and result.superseded
        stale = status_of(warehouse)
    assert stale.links.stale and stale.marts.stale
    assert stale.superseded == fresh.superseded + 1
    assert "older than the newest load (run `cwsw link`)" in stale.links.describe()
    assert "(run `cwsw build`)" in stale.marts.describe()


def test_series_gaps_by_year_by_season_and_by_census_term() -> None:
    gaps = series_gaps(
        {
            # One season only (SEN needs): its years are the series.
            "school_census_senneeds": {"2023_spring", "2025_spring"},
            # Spring and summer 2024, spring 2025: the autumn 2024 census is missing, and with
            # spring 2023 (SEN needs) the summer and autumn 2023 censuses.
            "school_census_pupilonroll": {"2024_spring", "2024_summer", "2025_spring"},
            # An SSDA903 XML return holds every table of its year.
            "ssda903_episodes": {"2020", "2022"},
            "ssda903_xml": {"2021"},
            "ssda903_header": {"2019", "2022"},
            "attendance": {"2025-01-13/2025-01-17", "2025-02-03/2025-02-07"},
            "ks2": {"2024", "2025"},
        }
    )
    assert gaps == [
        Gap("school_census_senneeds", ("2024_spring",), "2023_spring", "2025_spring"),
        Gap("ssda903_header", ("2020",), "2019", "2022"),
        Gap(
            "school_census",
            ("2023_summer", "2023_autumn", "2024_autumn"),
            "2023_spring",
            "2025_spring",
        ),
    ]


runner = CliRunner()


def test_the_cli_prints_the_status_and_json(
    gap_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    monkeypatch.setenv("CWSW_WAREHOUSE", str(gap_warehouse))
    before = gap_warehouse.read_bytes()
    shown = runner.invoke(app, ["status"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert f"Warehouse: {gap_warehouse}" in shown.stdout
    assert "Gap: cin_census: 2022 missing (loaded 2020 to 2025)" in shown.stdout
    assert "Build: `cwsw build` would be refused: cannot build 2024/25: no spring" in shown.stdout
    as_json = runner.invoke(app, ["status", "--json"])
    assert as_json.exit_code == 0
    found = json.loads(as_json.stdout)
    assert found["path"] == str(gap_warehouse)
    assert [g["text"] for g in found["gaps"]] == ["cin_census: 2022 missing (loaded 2020 to 2025)"]
    cin = [e for e in found["loaded"] if e["dataset"] == "cin_census"]
    assert [(e["period"], e["unit"]) for e in cin] == [
        (str(y), "children") for y in (2020, 2021, 2023, 2024, 2025)
    ]
    assert found["build"]["missing"] == [
        "no spring school census of 2025 (pupils on roll)",
        "no CIN census for 2021/22 (the year to 31 March 2022)",
    ]
    assert gap_warehouse.read_bytes() == before  # read only


def test_the_cli_status_of_a_new_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    monkeypatch.delenv("CWSW_WAREHOUSE", raising=False)
    shown = runner.invoke(app, ["status"], terminal_width=200)
    assert shown.exit_code == 0
    assert f"Warehouse: {tmp_path / 'warehouse.duckdb'} (not created yet)" in shown.stdout
    assert "Build: nothing to build: no warehouse yet: run `cwsw ingest`" in shown.stdout
    assert not (tmp_path / "warehouse.duckdb").exists()
