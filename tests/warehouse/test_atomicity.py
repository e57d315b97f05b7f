"""Loads are atomic (even under SIGKILL), idempotent, and a newer return supersedes explicitly."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest
from cwsw.warehouse.schema import TABLES, ensure_schema


def _fingerprint(path: Path) -> dict[str, tuple[int, str | None]]:
    """Every table's row count and a digest of its sorted rows (``loaded_at`` left out)."""
    with Warehouse.open(path, read_only=True) as warehouse:
        found = {}
        for table in TABLES:
            columns = "* EXCLUDE (loaded_at)" if table == "loads" else "*"
            found[table] = tuple(
                warehouse.execute(
                    f"SELECT count(*), md5(string_agg(x, '|' ORDER BY x)) FROM "
                    f'(SELECT CAST(t AS VARCHAR) AS x FROM (SELECT {columns} FROM "{table}") t)'
                )[0]
            )
    return found


def _replicated_cin(source: Path, target: Path, copies: int) -> None:
    """A larger CIN census: the fixture's children repeated with new LA child IDs."""
    tree = etree.parse(str(source))
    children = tree.find("Children")
    assert children is not None
    originals = list(children)
    for copy in range(1, copies):
        for child in originals:
            clone = etree.fromstring(etree.tostring(child))
            identifier = clone.find("ChildIdentifiers/LAchildID")
            assert identifier is not None and identifier.text
            identifier.text = f"{identifier.text}-{copy}"
            children.append(clone)
    tree.write(str(target), xml_declaration=True, encoding="utf-8")


def test_a_newer_return_for_the_same_year_supersedes_the_older(
    fixtures: Path, tmp_path: Path
) -> None:
    with Warehouse.open(":memory:") as warehouse:
        (older,) = ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
        (newer,) = ingest(warehouse, [fixtures / "cin-census/fake_CIN_data.xml"])
        assert (older.period, newer.period) == ("2022", "2022")
        assert newer.superseded == [older.load_id]
        assert newer.message == f"supersedes earlier load(s) {older.load_id} of cin_census 2022"
        # The older rows are gone from every table; its loads row stays, marked.
        assert warehouse.execute("SELECT DISTINCT load_id FROM cin_child") == [(newer.load_id,)]
        assert warehouse.execute("SELECT count(*) FROM cin_child")[0][0] == 332
        assert warehouse.execute("SELECT count(*) FROM cp_plan")[0][0] == 0  # BAR's plan
        assert warehouse.execute("SELECT load_id, superseded_by FROM loads ORDER BY load_id") == [
            (older.load_id, newer.load_id),
            (newer.load_id, None),
        ]
        # Loading the older file again changes nothing: its content is known.
        before = warehouse.execute("SELECT count(*) FROM cin_child")
        (again,) = ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
        assert again.status == "already loaded"
        assert warehouse.execute("SELECT count(*) FROM cin_child") == before
        # Another year is not superseded.
        (other,) = ingest(warehouse, [fixtures / "cin-census/CIN2rows.xml"])
        assert (other.period, other.superseded) == ("2023", [])


def test_an_older_warehouse_gains_the_new_columns(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "old.duckdb"
    with Warehouse.open(path) as warehouse:
        warehouse.execute(
            "CREATE TABLE loads (load_id INTEGER PRIMARY KEY, sha256 VARCHAR NOT NULL UNIQUE, "
            "file_name VARCHAR, format VARCHAR, period VARCHAR, loaded_at TIMESTAMP, rows BIGINT)"
        )
        warehouse.execute(
            "INSERT INTO loads VALUES (1, 'abc', 'f.xml', 'cin_census', '2019', now(), 0)"
        )
        ensure_schema(warehouse)
        assert warehouse.execute("SELECT dataset, superseded_by FROM loads") == [
            ("cin_census", None)
        ]
        (result,) = ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
        assert result.load_id == 2


_RUNS = 20


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkill_at_random_points_leaves_the_state_before_or_after(
    fixtures: Path, tmp_path: Path, workers: str
) -> None:
    """Killed at random points, 20 times, by one reading process or with two workers."""
    big = tmp_path / "in" / "cin_census_2022.xml"
    big.parent.mkdir()
    _replicated_cin(fixtures / "cin-census/fake_CIN_data.xml", big, copies=40)  # 13,280 children
    base = tmp_path / "base" / "warehouse.duckdb"
    with Warehouse.open(base) as warehouse:
        ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])  # superseded by big
    env = os.environ | {"CWSW_PROGRESS": "0", "CWSW_INGEST_WORKERS": workers}

    def run(home: Path, kill_after: float | None) -> float:
        home.mkdir()
        shutil.copy(base, home / "warehouse.duckdb")
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "cwsw.cli", "ingest", str(big)],
            env=env | {"CWSW_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if kill_after is not None:
            try:
                process.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        return time.perf_counter() - started

    duration = run(tmp_path / "after", None)
    before, after = _fingerprint(base), _fingerprint(tmp_path / "after" / "warehouse.duckdb")
    assert before != after and after["cin_child"][0] == 332 * 40
    rng = random.Random(20261123)
    outcomes = []
    for n in range(_RUNS):
        home = tmp_path / f"kill{n}"
        # Mostly during the run; a few just after it, so both outcomes are seen.
        run(home, rng.uniform(0.0, duration * 1.1))
        state = _fingerprint(home / "warehouse.duckdb")
        assert state in (before, after), f"run {n}: the warehouse is between states"
        outcomes.append(state == after)
    # No reading process outlives a killed ingest (they die with their parent).
    assert _workers_of(big) == []
    # The kills landed both before and after the commit at least once between them.
    assert 0 < sum(outcomes) < _RUNS or duration < 1, outcomes


def _workers_of(path: Path) -> list[str]:
    """Reading processes still running on ``path`` (allowing a moment for them to die)."""
    for _ in range(20):
        found = [
            line
            for line in subprocess.run(
                ["ps", "-eo", "args"], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if "cin_census_worker" in line and str(path) in line
        ]
        if not found:
            return []
        time.sleep(0.1)
    return found
