"""Fixtures for linkage tests: the shared synthetic LA, its truth, and a small LA to break."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from cwsw.linkage.report import read_truth
from cwsw.linkage.run import CHILD_PUPIL_LINK, OUTCOME_TABLE
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

SMALL_SEED = 7
SMALL_PUPILS = 600


@dataclass(frozen=True)
class Linked:
    la: BuiltLA
    truth: set[tuple[str, str]]
    links: pd.DataFrame
    outcome: pd.DataFrame
    faults: list[dict[str, str]]

    def faulted(self, fault: str) -> list[dict[str, str]]:
        return [f for f in self.faults if f["fault"] == fault]

    @property
    def true_upn(self) -> dict[str, str]:
        return dict(self.truth)


@pytest.fixture(scope="session")
def linked(built_la: BuiltLA) -> Linked:
    truth_dir = built_la.data_dir / "truth"
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        links = warehouse.ibis.table(CHILD_PUPIL_LINK).execute()
        outcome = warehouse.ibis.table(OUTCOME_TABLE).execute()
    with (truth_dir / "faults.csv").open(encoding="utf-8", newline="") as handle:
        faults = list(csv.DictReader(handle))
    return Linked(built_la, read_truth(truth_dir), links, outcome, faults)


@pytest.fixture(scope="session")
def small_la(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic LA's raw files, generated once; tests copy it before changing it."""
    from cwsw.synth import generate

    out = tmp_path_factory.mktemp("small_la") / "la"
    generate(out, seed=SMALL_SEED, pupils=SMALL_PUPILS, faults="default")
    return out


@pytest.fixture()
def copy_of_small_la(small_la: Path, tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / "la"
        shutil.copytree(small_la, target)
        return target

    return make


def ingest_and_link(data_dir: Path, home: Path) -> Path:
    """A fresh warehouse under ``home``, loaded from ``data_dir`` and linked; its path."""
    from cwsw import pipeline
    from cwsw.warehouse import load
    from tests.conftest import linkage_settings

    path = home / "warehouse.duckdb"
    with Warehouse.open(path) as warehouse:
        load.ingest(warehouse, [data_dir])
        pipeline.link(warehouse, linkage_settings(home))
    return path
