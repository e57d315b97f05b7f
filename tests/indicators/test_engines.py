"""The same marts on DuckDB, PostgreSQL and Spark: one Ibis build, three engines.

A small synthetic LA is loaded and linked once; its marts are built on DuckDB (the
reference), then ``cwsw.pipeline.build`` runs again on each engine over a copy of the
warehouse, and the rows it stores in the DuckDB ``mart_measure`` table must equal the
reference in every column but ``built_at``, to the last bit. The PostgreSQL run uses (and
drops) a schema of its own; the Spark run is local mode.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd
import psycopg
import pytest
from typer.testing import CliRunner

from cwsw import pipeline
from cwsw.cli import app
from cwsw.cohort.definitions import DEFAULT_COHORTS
from cwsw.indicators import engines, marts
from cwsw.indicators.measures import MEASURES
from cwsw.warehouse import load
from cwsw.warehouse.connection import Warehouse
from tests.conftest import linkage_settings

SEED = 7
# Enough that every default cohort has pupils in every population's mart, small enough that
# Spark's local mode spends its time planning rather than reading rows.
PUPILS = 1_500
POSTGRES = os.environ.get("CWSW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
KEY = ["period", "population", "measure", "cohort", "breakdown", "breakdown_value"]

# As in tests/linkage/test_spark.py: PySpark leaves each result's local socket for the garbage
# collector to close (a ResourceWarning of its own), ignored in the Spark run only.
SPARK_MARKS = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]
ENGINES = [
    pytest.param(engines.DUCKDB, id="duckdb"),
    pytest.param(engines.POSTGRES, id="postgres", marks=pytest.mark.postgres),
    pytest.param(engines.SPARK, id="spark", marks=SPARK_MARKS),
]


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic LA, loaded and linked (on DuckDB), with no marts yet."""
    from cwsw.synth import generate

    home = tmp_path_factory.mktemp("engines")
    generate(home / "la", seed=SEED, pupils=PUPILS, faults="default")
    path = home / "warehouse.duckdb"
    with Warehouse.open(path) as warehouse:
        load.ingest(warehouse, [home / "la"])
        pipeline.link(warehouse, linkage_settings(home))
    return path


class _Options(TypedDict, total=False):
    """Fields of :class:`engines.EngineOptions` a test sets."""

    postgres_schema: str


def _stored_mart(
    warehouse_path: Path, home: Path, engine: str, **options: Unpack[_Options]
) -> pd.DataFrame:
    """``pipeline.build`` on ``engine`` over a copy of the warehouse; the stored mart."""
    home.mkdir(parents=True, exist_ok=True)
    copy = home / "warehouse.duckdb"
    shutil.copy(warehouse_path, copy)
    chosen = replace(
        engines.EngineOptions(
            postgres_url=POSTGRES, spark_master="local[1]", spark_shuffle_partitions=1
        ),
        **options,
    )
    with Warehouse.open(copy) as warehouse:
        pipeline.build(warehouse, engine=engine, engine_options=chosen)
        return warehouse.ibis.table(marts.MART).execute()


@pytest.fixture(scope="module")
def reference(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    home = tmp_path_factory.mktemp("reference")
    return _stored_mart(small_warehouse, home, engines.DUCKDB)


def assert_same_marts(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Every row and column but ``built_at`` equal, floats to the last bit, whatever the
    order the engine returned the rows in."""

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns="built_at").sort_values(KEY, ignore_index=True)

    pd.testing.assert_frame_equal(canonical(expected), canonical(got), check_exact=True)


def test_the_reference_mart_is_not_trivial(reference: pd.DataFrame) -> None:
    assert set(reference.measure) == {m.name for m in MEASURES}
    pupils = reference[(reference.measure == "pupils") & (reference.breakdown == "total")]
    assert set(pupils.cohort) == {s.name for s in DEFAULT_COHORTS}
    assert (pupils.numerator > 0).all()
    for population, rows in reference.groupby("population"):
        # Every population has pupils with a social worker (KS2 and KS4 are one year group,
        # too few in a small LA for every group to have a pupil at the end of a key stage).
        assert {"CINO", "Ever CIN last 6 years", "Not CIN in last 6 years"} <= set(rows.cohort)
        if population in ("enrolments", "pupils"):
            assert set(rows.cohort) == {s.name for s in DEFAULT_COHORTS}, population
    assert len(reference) > 4_000
    assert (reference.numerator != 0).mean() > 0.5
    assert reference.duplicated(KEY).sum() == 0


def test_the_comparison_fails_when_an_engine_differs(reference: pd.DataFrame) -> None:
    assert_same_marts(reference, reference.sample(frac=1.0, random_state=3))
    progress8 = reference.index[reference.measure == "ks4_progress8"][0]
    one_bit = reference.copy()
    one_bit.loc[progress8, "numerator"] = np.nextafter(one_bit.numerator[progress8], np.inf)
    one_row_fewer = reference.drop(index=reference.index[-1])
    relabelled = reference.copy()
    relabelled.loc[relabelled.index[0], "definition_version"] += "x"
    for perturbed in (one_bit, one_row_fewer, relabelled):
        with pytest.raises(AssertionError):
            assert_same_marts(reference, perturbed)


def _schema_exists(name: str) -> bool:
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        found = connection.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (name,)
        ).fetchone()
    return bool(found and found[0])


@pytest.mark.parametrize("engine", ENGINES)
def test_the_marts_are_identical_on_every_engine(
    engine: str, small_warehouse: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    options: _Options = {}
    if engine == engines.POSTGRES:
        options["postgres_schema"] = f"test_cwsw_marts_{os.getpid()}"
        assert not _schema_exists(str(options["postgres_schema"]))
    started = time.perf_counter()
    got = _stored_mart(small_warehouse, tmp_path / engine, engine, **options)
    seconds = time.perf_counter() - started
    gc.collect()  # close PySpark's result sockets here, not in a later test
    print(f"\nmarts on {engine}: {seconds:.1f} s, {len(got)} rows, load {os.getloadavg()[0]:.1f}")
    assert_same_marts(reference, got)
    if engine == engines.POSTGRES:
        assert not _schema_exists(str(options["postgres_schema"]))


def test_an_unreachable_or_unknown_engine_is_a_one_line_error(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(small_warehouse, copy)
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    monkeypatch.setenv("CWSW_WAREHOUSE", str(copy))
    runner = CliRunner()
    unknown = runner.invoke(app, ["build", "--engine", "oracle"])
    assert unknown.exit_code == 1
    assert "unknown build engine 'oracle'" in unknown.output
    monkeypatch.setenv("CWSW_BUILD_ENGINE", "postgres")
    unset = runner.invoke(app, ["build"])
    assert unset.exit_code == 1 and "set CWSW_BUILD_POSTGRES_URL" in unset.output
    monkeypatch.setenv("CWSW_BUILD_POSTGRES_URL", "postgresql://cwsw:secret@127.0.0.1:1/test")
    closed = runner.invoke(app, ["build"])
    assert closed.exit_code == 1
    assert "cannot reach PostgreSQL at 127.0.0.1:1/test" in closed.output
    assert "secret" not in closed.output and "Traceback" not in closed.output
    with Warehouse.open(copy, read_only=True) as warehouse:
        assert marts.MART not in warehouse.ibis.list_tables()
