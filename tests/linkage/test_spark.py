"""The same linkage on Splink's Spark backend (local mode) as on DuckDB (the default)."""

from __future__ import annotations

import gc
import json
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from cwsw import pipeline
from cwsw.linkage.run import CHILD_PUPIL_LINK, OUTCOME_TABLE, RUN_TABLE
from cwsw.warehouse import load
from cwsw.warehouse.connection import Warehouse
from tests.conftest import linkage_settings

# PySpark reads each collected result from a local socket it leaves for the garbage collector
# to close ("The socket will be automatically closed when garbage-collected", pyspark.util
# _load_from_socket): a ResourceWarning of PySpark's own, ignored here and only here. The test
# collects garbage before it ends, so none of those sockets is finalised in a later test.
pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


def _link(warehouse: Warehouse, home: Path, engine: str) -> dict[str, pd.DataFrame]:
    settings = replace(
        linkage_settings(home / engine),
        link_engine=engine,
        spark_master="local[1]",
        spark_shuffle_partitions=1,
    )
    pipeline.link(warehouse, settings)
    con = warehouse.ibis
    links = con.table(CHILD_PUPIL_LINK).execute()
    outcome = con.table(OUTCOME_TABLE).execute()
    run = json.loads(con.table(RUN_TABLE).execute().details.iloc[0])
    return {
        "links": links.sort_values("la_child_id").reset_index(drop=True),
        "outcome": outcome.sort_values("la_child_id").reset_index(drop=True),
        "model": pd.DataFrame([run["model"]]),
        "pairs": pd.DataFrame([run["candidate_pairs_by_blocking_rule"]]),
    }


def test_spark_links_the_same_pairs_as_duckdb(small_la: Path, tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "warehouse.duckdb") as warehouse:
        load.ingest(warehouse, [small_la])
        duck = _link(warehouse, tmp_path, "duckdb")
        started = time.perf_counter()
        spark = _link(warehouse, tmp_path, "spark")
        seconds = time.perf_counter() - started
    gc.collect()
    print(f"\nlinkage on Spark (local[1]): {seconds:.1f} s, {len(spark['links'])} links")
    assert duck["model"].engine.iloc[0] == "duckdb"
    assert spark["model"].engine.iloc[0] == "spark"
    # Enough of each kind of link that the comparison means something.
    methods = duck["links"].match_method.value_counts()
    assert methods.get("probabilistic", 0) >= 5
    pd.testing.assert_frame_equal(
        duck["links"][["la_child_id", "upn", "match_method"]],
        spark["links"][["la_child_id", "upn", "match_method"]],
    )
    pd.testing.assert_series_equal(
        duck["links"].match_probability, spark["links"].match_probability, rtol=1e-9
    )
    columns = ["la_child_id", "band", "match_method", "upn", "candidates", "reason"]
    pd.testing.assert_frame_equal(duck["outcome"][columns], spark["outcome"][columns])
    pd.testing.assert_frame_equal(duck["pairs"], spark["pairs"])
    # The trained models are the same model.
    duck_model = json.loads((tmp_path / "duckdb" / "linkage_model.json").read_text())
    spark_model = json.loads((tmp_path / "spark" / "linkage_model.json").read_text())
    for ours, theirs in zip(
        duck_model["settings"]["comparisons"], spark_model["settings"]["comparisons"], strict=True
    ):
        for a, b in zip(ours["comparison_levels"], theirs["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in a:
                    assert b[key] == pytest.approx(a[key], rel=1e-9), (
                        ours["output_column_name"],
                        key,
                    )
