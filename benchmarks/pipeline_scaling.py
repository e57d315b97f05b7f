"""How the demo pipeline's cost grows with the size of the local authority.

Runs generate + ingest + link + build + report (`cwsw demo --no-serve`) on a synthetic LA of
30,000 pupils (the baseline) and of 300,000, each in a fresh process, and prints the median
wall time and peak resident memory of each, and their ratio against the baseline measured in
the same run. Usage:

    .venv/bin/python benchmarks/pipeline_scaling.py [--sizes 30000 300000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(pupils: int) -> dict[str, float]:
    """One full demo pipeline in this process; prints seconds and peak RSS as JSON."""
    from typer.testing import CliRunner

    from cwsw.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = CliRunner().invoke(
            app, ["demo", "--pupils", str(pupils), "--dir", tmp, "--no-serve", "--seed", "7"]
        )
        seconds = time.perf_counter() - started
        if result.exit_code != 0:
            raise SystemExit(f"demo failed at {pupils} pupils:\n{result.output}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak_mib}


def measure(pupils: int) -> dict[str, float]:
    """Run :func:`run_once` in a fresh interpreter so peak memory is this size's alone."""
    completed = subprocess.run(
        [sys.executable, __file__, "--one", str(pupils)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 300_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_once(args.one)))
        return
    results: dict[int, dict[str, float]] = {}
    for pupils in args.sizes:
        runs = [measure(pupils) for _ in range(args.repeats)]
        results[pupils] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mib": statistics.median(r["peak_mib"] for r in runs),
        }
        print(
            f"{pupils:>9,} pupils: median {results[pupils]['seconds']:7.1f} s, "
            f"peak memory {results[pupils]['peak_mib']:7.0f} MiB ({args.repeats} runs)",
            flush=True,
        )
    base = args.sizes[0]
    for pupils in args.sizes[1:]:
        size_ratio = pupils / base
        time_ratio = results[pupils]["seconds"] / results[base]["seconds"]
        memory_ratio = results[pupils]["peak_mib"] / results[base]["peak_mib"]
        print(
            f"{pupils:,} vs {base:,} pupils ({size_ratio:.0f}x): time x{time_ratio:.2f}, "
            f"peak memory x{memory_ratio:.2f}"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
