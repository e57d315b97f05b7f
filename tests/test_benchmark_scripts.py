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
