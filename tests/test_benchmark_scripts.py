"""The benchmark scripts still run against the product's current API, at a tiny size.

They are not run by anything else in CI, so without this a change to a result type breaks a
benchmark silently (it happened: ``LoadResult.findings`` became a summary). The figures they
print at this size mean nothing; only that they run and print their ratio lines is checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=os.environ | (env or {}),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_cin_ingest_benchmark_runs(fixtures_dir: Path) -> None:
    out = _run(
        str(BENCHMARKS / "ingest_cin.py"),
        "--children",
        "30",
        "--repeats",
        "1",
        "--workers",
        "1",
        "2",
    )
    assert "throughput / bare" in out and "cwsw, 2 processes" in out


@pytest.mark.slow
def test_school_census_benchmark_runs(fixtures_dir: Path, tmp_path: Path) -> None:
    out = _run(
        str(BENCHMARKS / "ingest_school_census.py"),
        "--pupils",
        "200",
        "--terms",
        "autumn",
        "--repeats",
        "1",
        env={"CWSW_BENCH_CACHE": str(tmp_path)},
    )
    assert "cwsw seconds / bare csv.reader seconds" in out


@pytest.mark.slow
def test_national_marts_benchmark_runs(tmp_path: Path) -> None:
    # Two tiny sizes: generation, the product build, growth, and the pandas comparison, whose
    # figures the script asserts equal to the mart's (it exits non-zero if they differ).
    out = _run(
        str(BENCHMARKS / "build_marts_national.py"),
        "--sizes",
        "2000",
        "4000",
        "--pandas",
        "4000",
        env={"CWSW_BENCH_DIR": str(tmp_path)},
    )
    assert "same figures (asserted)" in out and "per 10x pupils" in out
    assert not list(tmp_path.glob("*.duckdb")), "the warehouses are removed without --keep"


@pytest.mark.postgres
def test_web_load_benchmark_runs_on_postgresql(tmp_path: Path) -> None:
    """Two signed-in users for three seconds on gunicorn: pages served, figures printed."""
    import json

    import psycopg

    from tests.web import child_data

    server = os.environ.get("CWSW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    warehouse = child_data.build(tmp_path / "warehouse.duckdb")
    figures_file = tmp_path / "figures.json"
    out = _run(
        str(BENCHMARKS / "web_load.py"),
        "--postgres",
        server,
        "--warehouse",
        str(warehouse),
        "--dir",
        str(tmp_path / "home"),
        "--users",
        "2",
        "--seconds",
        "3",
        "--think",
        "0.2",
        "--workers",
        "1",
        "--no-assert",
        "--json",
        str(figures_file),
    )
    figures = json.loads(figures_file.read_text())
    pages = figures["pages"]
    # The two users are a DSL and an advisory teacher: their list pages and their children.
    assert {"school page", "caseload", "child profile", "overall"} <= set(pages)
    assert figures["errors"] == 0 and pages["overall"]["errors"] == 0
    assert pages["overall"]["requests"] == sum(
        row["requests"] for name, row in pages.items() if name != "overall"
    )
    overall = pages["overall"]
    assert 0 < overall["p50_ms"] <= overall["p95_ms"] <= overall["p99_ms"]
    assert figures["throughput"] > 0
    assert "errors: 0" in out and "req/s" in out and "load average" in out
    for line in ("p50 ms", "p95 ms", "p99 ms"):
        assert line in out
    with psycopg.connect(server) as connection:
        left = connection.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", [figures["database"]]
        ).fetchone()
    assert left == (0,)  # the benchmark's database is dropped


def test_trial_power_benchmark_runs() -> None:
    """The heavy formula-against-simulation check still runs (too few replicates to judge)."""
    out = _run(str(BENCHMARKS / "trial_power.py"), "--replicates", "500")
    assert "acceptance points: 18" in out and "largest Monte Carlo SE" in out


def test_trial_analysis_benchmark_runs() -> None:
    """The SWIS-scale analysis and the recovery check still run (too few trials to judge)."""
    out = _run(str(BENCHMARKS / "trial_analysis.py"), "--replicates", "10", "--no-assert")
    assert "within the 2-minute goal" in out and "coverage" in out
