"""A load staged on disk (a large file) ends as the same warehouse as one staged in memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cwsw.warehouse import staging
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest
from cwsw.warehouse.schema import TABLES

FILES = ("cin-census/fake_CIN_data.xml", "ssda903/header.csv", "ssda903/episodes.csv")


def _state(path: Path) -> dict[str, list[str]]:
    with Warehouse.open(path, read_only=True) as warehouse:
        return {
            table: sorted(
                map(repr, warehouse.execute(f'SELECT * EXCLUDE (load_id) FROM "{table}"'))
            )
            for table in TABLES
            if table != "loads"
        }


def _load(fixtures: Path, path: Path) -> None:
    with Warehouse.open(path) as warehouse:
        results = ingest(warehouse, [fixtures / name for name in FILES])
    assert [r.status for r in results] == ["loaded"] * len(FILES)


def test_a_load_spilled_to_parquet_equals_one_held_in_memory(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(fixtures, tmp_path / "memory" / "w.duckdb")
    written: set[Path] = set()
    spill = staging.Staging._spill

    def spy(self: staging.Staging) -> None:
        spill(self)
        written.update(self._file(table) for table in self._writers)

    monkeypatch.setattr(staging, "IN_MEMORY_BYTES", 0)  # every batch goes to disk
    monkeypatch.setattr(staging.Staging, "_spill", spy)
    _load(fixtures, tmp_path / "disk" / "w.duckdb")
    assert written, "nothing was staged on disk"
    assert _state(tmp_path / "disk" / "w.duckdb") == _state(tmp_path / "memory" / "w.duckdb")
    assert len(_state(tmp_path / "disk" / "w.duckdb")["cin_child"]) == 332
    # the staging files are removed when the load ends
    assert not any(path.exists() for path in written)
    assert list((tmp_path / "disk" / staging.FOLDER).iterdir()) == []


def test_a_killed_loads_staging_folder_is_removed_by_the_next_load(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / staging.FOLDER
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    abandoned = root / f"{gone.stdout.strip()}-x1"  # a process that has ended
    alive = root / f"{os.getpid()}-x2"  # this one, still running
    for folder in (abandoned, alive):
        folder.mkdir(parents=True)
        (folder / "cin_child.parquet").write_bytes(b"partial")
    monkeypatch.setattr(staging, "IN_MEMORY_BYTES", 0)
    _load(fixtures, tmp_path / "w.duckdb")
    assert not abandoned.exists()
    assert alive.exists()
