"""Shared fixtures: the fixtures folder, and one synthetic LA run through the whole pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cwsw.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"

# Small enough for a quick suite, large enough that every group has more than a handful.
SLICE_SEED = 20261123
SLICE_PUPILS = 8_000


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"the public fixtures folder {SHARED_FIXTURES} is absent")
    return SHARED_FIXTURES


def linkage_settings(home: Path) -> Settings:
    """The settings, with the linkage decisions and model kept under ``home``."""
    from dataclasses import replace

    from cwsw.settings import get_settings

    return replace(
        get_settings(),
        linkage_decisions_path=home / "linkage_decisions.sqlite3",
        linkage_model_path=home / "linkage_model.json",
    )


@dataclass(frozen=True)
class BuiltLA:
    """A synthetic local authority, loaded, linked, built and reported on."""

    data_dir: Path
    home: Path
    warehouse_path: Path
    report_path: Path


@pytest.fixture(scope="session")
def built_la(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltLA]:
    from cwsw import pipeline
    from cwsw.synth import generate
    from cwsw.warehouse import load
    from cwsw.warehouse.connection import Warehouse

    home = tmp_path_factory.mktemp("slice")
    data_dir = home / "la"
    generate(data_dir, seed=SLICE_SEED, pupils=SLICE_PUPILS, faults="default")
    warehouse_path = home / "warehouse.duckdb"
    with Warehouse.open(warehouse_path) as warehouse:
        results = load.ingest(warehouse, [data_dir])
        assert not [r for r in results if r.status == "failed"]
        pipeline.link(warehouse, linkage_settings(home))
        pipeline.build(warehouse)
        report_path = pipeline.report(warehouse, home / "reports", threshold=5)["html"]
    yield BuiltLA(data_dir, home, warehouse_path, report_path)


@pytest.fixture()
def la_environment(built_la: BuiltLA, monkeypatch: pytest.MonkeyPatch) -> BuiltLA:
    """Point cwsw's settings (and so the web app) at the built synthetic LA."""
    monkeypatch.setenv("CWSW_HOME", str(built_la.home))
    monkeypatch.setenv("CWSW_WAREHOUSE", str(built_la.warehouse_path))
    assert os.environ["CWSW_HOME"] == str(built_la.home)
    return built_la
