"""CIN census ingest at national scale against a bare ``lxml.etree.iterparse`` pass.

Writes a CIN census XML of N module-complete children (default 700,000, about national size)
by replicating the fixture ``BAR_cin_2022.xml`` child with new LA child IDs (streamed to disk,
never held in memory), then, each in a fresh process and side by side in this run:

- baseline: a bare iterparse pass over the file (``end`` events on ``Child``, each cleared);
- cwsw: the full ingest (parse, validate, normalise, load into a new DuckDB warehouse).

Prints the median seconds and peak resident memory of each over the repeats, and the ratio of
throughputs (target: cwsw at least 40% of the bare pass; peak memory under 2 GB). Usage:

    .venv/bin/python benchmarks/ingest_cin.py [--children 700000] [--repeats 3]

liiatools 0.2.0 is not measured by this script (see docs/ingest.md).
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


def measure(kind: str, path: Path) -> dict[str, float]:
    """One run in a fresh process, so that peak memory is that run's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--run", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=700_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        kind, path = args.run
        figures = bare(path) if kind == "bare" else cwsw(path)
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cin_census_2022.xml"
        write_national_file(path, args.children)
        size_mib = path.stat().st_size / 2**20
        print(f"CIN census XML: {args.children:,} module-complete children, {size_mib:,.0f} MiB")
        runs: dict[str, list[dict[str, float]]] = {"bare": [], "cwsw": []}
        for _ in range(args.repeats):
            for kind in runs:  # side by side: each repeat measures both
                runs[kind].append(measure(kind, path))
        medians = {
            kind: {key: statistics.median(r[key] for r in found) for key in found[0]}
            for kind, found in runs.items()
        }
        for kind, figures in medians.items():
            print(
                f"{kind:5}: {figures['seconds']:7.1f} s  "
                f"{figures['children'] / figures['seconds']:10,.0f} children/s  "
                f"peak {figures['peak_mib']:7,.0f} MiB"
            )
        ratio = medians["bare"]["seconds"] / medians["cwsw"]["seconds"]
        print(f"cwsw throughput / bare iterparse throughput: {ratio:.2f} (target >= 0.40)")
        print(f"cwsw peak memory: {medians['cwsw']['peak_mib']:,.0f} MiB (target < 2,048 MiB)")


if __name__ == "__main__":
    main()
