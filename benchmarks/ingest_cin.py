"""CIN census ingest at national scale against a bare ``lxml.etree.iterparse`` pass.

Writes a CIN census XML of N module-complete children (default 700,000, about national size)
by replicating the fixture ``BAR_cin_2022.xml`` child with new LA child IDs (streamed to disk,
never held in memory), then, each in a fresh process and side by side in every repeat:

- baseline: a bare iterparse pass over the file (``end`` events on ``Child``, each cleared);
- cwsw: the full ingest (parse, validate, normalise, load into a new DuckDB warehouse), once
  for each ``--workers`` count (reading processes, ``CWSW_INGEST_WORKERS``; default 1 and 2).

Prints the median seconds, the peak resident memory (the parent's plus each reading process at
the largest one's peak) and the ratio of throughputs against the bare pass (target: cwsw at
least 0.40; peak under 2 GB). Usage:

    .venv/bin/python benchmarks/ingest_cin.py [--children 700000] [--repeats 3] [--workers 1 2]

liiatools 0.2.0 is measured by ``benchmarks/ingest_cin_liiatools.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "cin-census"


def write_national_file(path: Path, children: int) -> None:
    """The fixture's one child repeated ``children`` times, each with its own LAchildID."""
    text = (FIXTURE / "BAR_cin_2022.xml").read_text(encoding="utf-8")
    head, rest = text.split("<Child>", 1)
    body, tail = rest.rsplit("</Child>", 1)
    template = "<Child>" + body.replace("DfEX0000001", "{id}") + "</Child>\n"
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        batch = []
        for n in range(children):
            batch.append(template.replace("{id}", f"LA{n:09d}"))
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.write(tail)


def bare(path: str) -> dict[str, float]:
    from lxml import etree

    started = time.perf_counter()
    count = 0
    for _event, element in etree.iterparse(path, events=("end",), tag="Child"):
        count += 1
        element.clear()
        parent = element.getparent()
        while element.getprevious() is not None and parent is not None:
            del parent[0]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "children": count}


def cwsw(path: str) -> dict[str, float]:
    from cwsw.warehouse.connection import Warehouse
    from cwsw.warehouse.load import ingest

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with Warehouse.open(Path(tmp) / "warehouse.duckdb") as warehouse:
            (result,) = ingest(warehouse, [path])
        seconds = time.perf_counter() - started
    if result.status != "loaded":
        raise SystemExit(f"ingest failed: {result.message}")
    return {"seconds": seconds, "children": result.rows["cin_child"]}


def measure(kind: str, path: Path, workers: int | None = None) -> dict[str, float]:
    """One run in a fresh process, so that peak memory is that run's alone.

    ``workers`` sets ``CWSW_INGEST_WORKERS`` (None: cwsw's own choice for the file's size).
    """
    env = dict(os.environ)
    env.pop("CWSW_INGEST_WORKERS", None)
    if workers is not None:
        env["CWSW_INGEST_WORKERS"] = str(workers)
    done = subprocess.run(
        [sys.executable, __file__, "--run", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=700_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="reading processes to measure cwsw with (CWSW_INGEST_WORKERS), each side by side",
    )
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        kind, path = args.run
        figures = bare(path) if kind == "bare" else cwsw(path)
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # the largest reading process's peak (they are waited for, so they count here)
        figures["worker_peak_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cin_census_2022.xml"
        write_national_file(path, args.children)
        size_mib = path.stat().st_size / 2**20
        print(f"CIN census XML: {args.children:,} module-complete children, {size_mib:,.0f} MiB")
        kinds = {"bare": ("bare", None)} | {
            f"cwsw, {n} process{'es' if n > 1 else ''}": ("cwsw", n) for n in args.workers
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in kinds}
        for _ in range(args.repeats):
            for name, (kind, workers) in kinds.items():  # side by side: each repeat runs all
                runs[name].append(measure(kind, path, workers))
        medians = {
            name: {key: statistics.median(r[key] for r in found) for key in found[0]}
            for name, found in runs.items()
        }
        base = medians["bare"]["seconds"]
        for name, figures in medians.items():
            workers = kinds[name][1] or 0
            # the parent's peak plus each reading process at the largest one's peak
            total = (
                figures["peak_mib"] + (workers if workers > 1 else 0) * figures["worker_peak_mib"]
            )
            print(
                f"{name:20}: {figures['seconds']:7.1f} s  "
                f"{figures['children'] / figures['seconds']:10,.0f} children/s  "
                f"peak {total:7,.0f} MiB  throughput / bare: {base / figures['seconds']:.2f}"
            )
        print("target: cwsw throughput at least 0.40 of the bare iterparse pass; peak < 2,048 MiB")


if __name__ == "__main__":
    main()
