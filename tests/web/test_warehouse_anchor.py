"""The child pages' warehouse anchor (ADR 0013): held while pages are asked for, let go when
idle so that a load can write the file, and what was read from a build is forgotten when the
file changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwsw.warehouse.connection import Warehouse
from cwsw.web.children import services
from tests.web import child_data

HOLD = 1.0  # long enough that the check just after a page is not raced by the timer


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # An earlier test's timer may be due a whole default hold later: start from none.
    services.release_anchors()
    monkeypatch.setattr("cwsw.warehouse.snapshot.HOLD_SECONDS", HOLD)
    yield child_data.build(tmp_path / "warehouse.duckdb")
    services.release_anchors()


def writable_within(path: Path, seconds: float) -> bool:
    """Whether a writer in this process can open ``path`` before ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            Warehouse.open(path).close()
            return True
        except Exception:  # DuckDB refuses while the read-only anchor is held
            time.sleep(HOLD / 4)
    return False


def rename_school_b(path: Path, name: str) -> None:
    with Warehouse.open(path) as writer:
        writer.execute(
            "UPDATE establishment SET establishment_name = ? WHERE laestab = ?",
            [name, child_data.SCHOOL_B],
        )


def test_a_load_can_write_once_the_pages_are_idle(warehouse: Path) -> None:
    with services.open_warehouse(warehouse) as reader:
        assert services.school_name(reader, child_data.SCHOOL_B) == "Birch Academy"
    # Still held just after a page: a writer in this process is refused by DuckDB.
    with pytest.raises(Exception, match="different configuration"):
        Warehouse.open(warehouse)
    # Let go within a hold or two of the last page (a loaded machine delays the timer thread).
    assert writable_within(warehouse, HOLD * 10)
    rename_school_b(warehouse, "Birch Academy Trust")  # let go: the write goes through
    with services.open_warehouse(warehouse) as reader:
        # The rebuilt file's signature differs: its facts are read again, not the old ones.
        assert services.school_name(reader, child_data.SCHOOL_B) == "Birch Academy Trust"


def test_pages_reuse_the_open_database_and_its_facts(warehouse: Path) -> None:
    with services.open_warehouse(warehouse) as first:
        key = services.keys.child_key("C001")
        assert services.find_child(first, key) == "C001"
    with services.open_warehouse(warehouse) as second:
        assert second is not first  # a connection of its own per request
        assert getattr(second, services.FACTS) is getattr(first, services.FACTS)
        assert services.find_child(second, key) == "C001"
        assert services.find_child(second, services.keys.child_key("nobody")) is None
