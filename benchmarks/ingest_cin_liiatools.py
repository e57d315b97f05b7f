"""CIN census ingest: cwsw against liiatools 0.2.0 (Social Finance's CIN cleaning tool).

Writes one CIN census XML of N module-complete children (default 10,000) with
``write_national_file`` from ``benchmarks/ingest_cin.py``, then, each in a fresh process:

- liiatools: ``python -m liiatools cin-census cleanfile`` (parse, validate every element against
  the year's XSD, clean, write one cleaned CSV), in its own throwaway virtual environment;
- cwsw: the full ingest (parse, validate, normalise, load into a new DuckDB warehouse), run as
  ``benchmarks/ingest_cin.py`` runs it.

Prints the wall seconds and peak resident memory of each (medians over the repeats), what each
produced, and the ratio liiatools seconds / cwsw seconds (target: at least 100). Usage:

    .venv/bin/python benchmarks/ingest_cin_liiatools.py [--children 10000] [--repeats 1]
        [--cwsw-repeats 3] [--venv var/bench/liiatools-venv] [--python PYTHON3.9]

liiatools is never a project dependency: this script creates (or reuses) the virtual
environment ``var/bench/liiatools-venv`` (git-ignored) and installs ``liiatools==0.2.0`` there.
That needs Python 3.9: liiatools pins ``cchardet==2.1.7``, whose wheels stop at CPython 3.9 and
whose source does not build on 3.11. ``numpy<2`` is pinned beside it, as the pandas 1.5 that
liiatools requires was built against numpy 1.

liiatools takes the collection year from the file name (``cin_census_2022.xml``) and skips,
with only a log line, a file more than 6 years old by today's date (from June 2028 on for a
2022 file): the script fails when liiatools wrote no CSV, showing the log.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest_cin  # noqa: E402  (a sibling script, not a package)

LIIATOOLS = "liiatools==0.2.0"
PINS = ["numpy<2"]
TARGET = 100.0


def find_python39() -> str:
    """A working CPython 3.9: ``python3.9`` on PATH, else one installed by pyenv."""
    candidates = [shutil.which("python3.9") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.9*/bin/python3.9"), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    raise SystemExit("liiatools 0.2.0 needs Python 3.9: pass one with --python")


def liiatools_venv(venv: Path, python: str | None) -> Path:
    """The venv's interpreter, with liiatools 0.2.0 installed (created when missing)."""
    interpreter = venv / "bin" / "python"
    check = "import importlib.metadata as m, pandas; print(m.version('liiatools'))"
    if interpreter.exists():
        found = subprocess.run([interpreter, "-c", check], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip() == "0.2.0":
            return interpreter
        shutil.rmtree(venv)
    base = python or find_python39()
    print(f"creating {venv} with {base} and installing {LIIATOOLS} ...", flush=True)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [interpreter, "-m", "pip", "install", "--quiet", LIIATOOLS, *PINS],
        check=True,
    )
    return interpreter


def run_liiatools(interpreter: str, path: str) -> dict[str, float]:
    """liiatools' cleanfile on ``path`` as a child of this process; its time, RSS and output."""
    with tempfile.TemporaryDirectory() as tmp:
        out, logs = Path(tmp, "out"), Path(tmp, "logs")
        out.mkdir()
        logs.mkdir()
        command = [interpreter, "-m", "liiatools", "cin-census", "cleanfile"]
        command += ["--i", path, "--la_code", "BAR", "--la_log_dir", str(logs), "--o", str(out)]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # liiatools' alone
        log_text = "".join(p.read_text() for p in sorted(logs.iterdir()))
        cleaned = out / (Path(path).stem + "_clean.csv")
        if done.returncode != 0 or not cleaned.exists():
            raise SystemExit(
                f"liiatools wrote no CSV (exit {done.returncode}):\n"
                f"{done.stderr[-4000:]}\n{log_text[:4000]}"
            )
        with cleaned.open(newline="") as handle:
            reader = csv.reader(handle)
            columns = len(next(reader))
            ids = set()
            rows = 0
            for row in reader:
                rows += 1
                ids.add(row[0])
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "rows": rows,
        "columns": columns,
        "children": len(ids),
        "error_log_lines": len(log_text.splitlines()),
    }


def measure_liiatools(interpreter: Path, path: Path) -> dict[str, float]:
    """One liiatools run under a fresh wrapper process, so RUSAGE_CHILDREN is that run's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--run-liiatools", str(interpreter), str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr or done.stdout)
    return json.loads(done.stdout)


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_cwsw(path: Path) -> dict[str, float]:
    """``ingest_cin.measure`` (a fresh process), plus that process's wall and CPU time."""
    cpu, started = cpu_of_children(), time.perf_counter()
    figures = ingest_cin.measure("cwsw", path)
    figures["wall_seconds"] = time.perf_counter() - started
    figures["cpu_seconds"] = cpu_of_children() - cpu
    return figures


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1, help="liiatools runs (slow)")
    parser.add_argument("--cwsw-repeats", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=ROOT / "var" / "bench" / "liiatools-venv")
    parser.add_argument("--python", help="a Python 3.9 to create the liiatools venv with")
    parser.add_argument("--run-liiatools", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_liiatools:
        print(json.dumps(run_liiatools(*args.run_liiatools)))
        return
    interpreter = liiatools_venv(args.venv, args.python)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cin_census_2022.xml"  # liiatools reads the year from the name
        ingest_cin.write_national_file(path, args.children)
        size_mib = path.stat().st_size / 2**20
        print(f"CIN census XML: {args.children:,} module-complete children, {size_mib:,.1f} MiB")
        lt_runs: list[dict[str, float]] = []
        cw_runs: list[dict[str, float]] = []
        for n in range(max(args.repeats, args.cwsw_repeats)):  # interleaved, side by side
            if n < args.cwsw_repeats:
                cw_runs.append(measure_cwsw(path))
                print(f"  cwsw run {n + 1}: {cw_runs[-1]['wall_seconds']:.2f} s", flush=True)
            if n < args.repeats:
                lt_runs.append(measure_liiatools(interpreter, path))
                print(f"  liiatools run {n + 1}: {lt_runs[-1]['seconds']:.1f} s", flush=True)
    lt, cw = median(lt_runs), median(cw_runs)
    print(
        f"liiatools 0.2.0: {lt['seconds']:8.1f} s  peak {lt['peak_mib']:7,.0f} MiB  "
        f"(median of {len(lt_runs)}; process wall time; CPU {lt['cpu_seconds']:.1f} s)"
    )
    print(
        f"  wrote {lt['rows']:,.0f} CSV rows x {lt['columns']:.0f} columns for "
        f"{lt['children']:,.0f} children; {lt['error_log_lines']:.0f} error-log lines"
    )
    print(
        f"cwsw:            {cw['wall_seconds']:8.2f} s  peak {cw['peak_mib']:7,.0f} MiB  "
        f"(median of {len(cw_runs)}; process wall time; CPU {cw['cpu_seconds']:.2f} s; "
        f"ingest alone {cw['seconds']:.2f} s)"
    )
    print(f"  loaded {cw['children']:,.0f} cin_child rows into a new DuckDB warehouse")
    ratio = lt["seconds"] / cw["wall_seconds"]
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"liiatools seconds / cwsw seconds: {ratio:,.0f} (target >= {TARGET:.0f}: {verdict})")
    print(
        f"  same ratio of CPU seconds: {lt['cpu_seconds'] / cw['cpu_seconds']:,.0f}; "
        f"against cwsw's ingest time alone (no start-up): {lt['seconds'] / cw['seconds']:,.0f}"
    )


if __name__ == "__main__":
    main()
