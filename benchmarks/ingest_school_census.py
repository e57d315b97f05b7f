"""School census ingest at national scale: a full year of generated extracts, against a bare pass.

Generates (once; reused from ``var/bench/`` while the parameters match) the flattened school
census tables of the 2024/25 year, one CSV per table and term named ``YYYY_TERM_TABLE.csv``
as the readers detect them, in the column layout of the sample extracts
(``shared/fixtures/school-census/samples``), with N pupils on roll a term (default 8,000,000,
about England's state-funded schools):

- ``pupilonroll``: N pupils (the same enrolment IDs every term), a valid UPN with its check
  letter (one in 1,000 has a wrong one, so findings are exercised), ``2020-Apr-25 00:00:00``
  dates, ``134.0`` counts;
- ``termlysessiondetailsonroll``: 1 to 5 attendance codes a pupil (3 on average), and in autumn
  ``summerhalfterm2sessiondetailsonroll`` (0 to 3 a pupil): sessions by attendance code;
- ``pupilnolongeronroll`` (1.5% of N leavers) and their ``termlysessiondetailsoffroll``;
- ``termlyexclusionsonroll`` (3% of N) and the FSM periods (25% of N).

Columns no canonical table uses are drawn from the sample's own values. The CSVs are written by
DuckDB ``COPY`` from SQL (vectorised, a few minutes at full size), never by a Python loop.

Then, each in a fresh process, side by side in every repeat:

- ``csv``: a bare ``csv.reader`` pass counting the records of every file (the parser the reader
  itself uses, doing nothing with the values): the reference for the ratio;
- ``duckdb``: ``count(*)`` over ``read_csv`` of every file (DuckDB's parallel C++ reader), for
  scale;
- ``check``: ``cwsw.warehouse.load.check`` of the folder, the path of ``cwsw ingest --check``
  (hash, detect, read, validate, normalise; nothing written): the readers' share;
- ``cwsw``: ``cwsw.warehouse.load.ingest`` of the folder into a new DuckDB warehouse, the path
  of ``cwsw ingest`` (the same, then loaded in batches, one transaction a file).

Prints the median seconds, rows per second and peak resident memory of each over the repeats,
and cwsw's seconds over the bare pass's. Usage:

    .venv/bin/python benchmarks/ingest_school_census.py [--pupils 8000000]
        [--terms autumn spring summer] [--repeats 3] [--generate-only]
"""

from __future__ import annotations

import argparse
import csv
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

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".." / "shared" / "fixtures" / "school-census" / "samples"
# CWSW_BENCH_CACHE moves the generated set (the smoke test keeps it in a temporary folder).
CACHE = Path(os.environ.get("CWSW_BENCH_CACHE", ROOT / "var" / "bench")) / "school_census"
# Bump when the generated content changes, so that an older cached set is not reused.
GENERATOR_VERSION = 2
TERMS = {"autumn": 2024, "spring": 2025, "summer": 2025}
# The first day of the window each term's dated records (leaving, exclusion, FSM end) fall in.
TERM_START = {"autumn": "2024-09-02", "spring": "2025-01-06", "summer": "2025-04-22"}
PUPILS_PER_SCHOOL = 370
LEAVERS = 0.015
EXCLUDED = 0.03
FSM = 0.25
# Absence codes, weighted roughly as they occur (I illness and M medical most often). No
# ``#``: DuckDB would quote it, which the extracts do not.
CODES = ["I"] * 6 + ["M"] * 3 + ["C", "C", "N", "N", "O", "O", "G", "G", "E", "R", "S", "T"]
CODES += ["H", "U", "X", "Y", "Z", "B", "J", "C1", "K", "V", "W", "P", "D", "Q"]
CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _tables(term: str) -> list[str]:
    fsm = "fsmperiodsonroll" if term == "autumn" else "fsmperiod"
    tables = [
        "pupilonroll",
        "pupilnolongeronroll",
        "termlysessiondetailsonroll",
        "termlysessiondetailsoffroll",
        "termlyexclusionsonroll",
        fsm,
    ]
    if term == "autumn":  # the summer term's second half, collected in arrears
        tables.insert(4, "summerhalfterm2sessiondetailsonroll")
    return tables


def _sample(term: str, table: str) -> Path:
    path = SAMPLES / f"{TERMS[term]}_{term}_{table}.csv"
    if not path.exists():
        raise SystemExit(f"sample extract not found: {path}")
    return path


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _h(*salt: str) -> str:
    """A pseudo-random non-negative BIGINT: DuckDB ``hash`` of the pupil ``p`` and the salts.

    The salt ``"j"`` stands for the row's place among the pupil's rows (session details).
    """
    keys = ", ".join(["p", *(("j",) if "j" in salt else ()), *(f"'{s}'" for s in salt if s != "j")])
    return f"(hash({keys}) % 2147483647)::BIGINT"


def _date(base: str, spread: int, *salt: str) -> str:
    return f"strftime(DATE '{base}' + ({_h(*salt)} % {spread})::INTEGER, '%Y-%b-%d 00:00:00')"


def _number(expression: str) -> str:
    return f"printf('%d.0', {expression})"


def _upn(body: str, bad: str) -> str:
    """A 13-character UPN for a 12-digit body: its check letter, a wrong one when ``bad``."""
    total = " + ".join(f"(({body} // {10 ** (12 - k)}) % 10) * {k + 1}" for k in range(1, 13))
    letter = f"(({total}) + CASE WHEN {bad} THEN 1 ELSE 0 END) % 23"
    return (
        f"substr('{CHECK_LETTERS}', ({letter})::INTEGER + 1, 1) || lpad({body}::VARCHAR, 12, '0')"
    )


def _pupil_columns(term: str, on_roll: bool) -> dict[str, str]:
    """The columns the reader uses, as expressions over ``p`` (the pupil's number)."""
    columns = {
        "dob": _date("2006-09-01", 5840, "dob"),
        "upn": _upn("body", f"{_h('bad')} % 1000 = 0"),
        "formerupn": "NULL",
        "sex": f"CASE WHEN {_h('sex')} % 2 = 0 THEN 'M' ELSE 'F' END",
        "entrydate": _date("2014-09-01", 3650, "entry"),
        "termlysessionspossible": _number(f"110 + {_h(term, 'possible')} % 40"),
        "summerhalfterm2sessionspossible": _number(f"50 + {_h('ht2')} % 20"),
        "pupilonrollorderseqcolumn": "'1'",
        "pupilnolongeronrollorderseqcolumn": "'1'",
    }
    if not on_roll:
        columns["leavingdate"] = _date(TERM_START[term], 60, term, "left")
    return columns


def _sessions_columns(term: str, table: str) -> dict[str, str]:
    codes = "[" + ", ".join(f"'{code}'" for code in CODES) + "]"
    return {
        f"{table}tableid": f"printf('%08x', {_h('j', table)})",
        f"{table}orderseqcolumn": "(j + 1)::VARCHAR",
        "sessions": _number(f"1 + {_h('j', term, 'sessions')} % 20"),
        "attendancereason": f"{codes}[1 + {_h('j', term, 'code')} % {len(CODES)}]",
    }


def _dated_columns(term: str, table: str) -> dict[str, str]:
    start = TERM_START[term]
    columns = {
        f"{table}tableid": f"printf('%08x', {_h(table)})",
        f"{table}orderseqcolumn": "'1'",
    }
    if "exclusions" in table:
        columns["startdate"] = _date(start, 70, term, "start")
        columns["sessions"] = _number(f"1 + {_h(term, 'excluded')} % 10")
    else:
        columns["fsmstartdate"] = _date("2019-09-01", 1800, term, "fsm")
        end = _date(start, 70, term, "fsmenddate")
        columns["fsmenddate"] = f"CASE WHEN {_h(term, 'fsmend')} % 5 = 0 THEN {end} END"
    return columns


def _query(term: str, table: str, pupils: int, header: list[str]) -> str:
    """The SELECT that yields the table's rows, in the sample's column order."""
    leavers = int(pupils * LEAVERS)
    on_roll = not table.endswith(("offroll", "nolongeronroll"))
    if on_roll:
        frame = f"SELECT range AS p FROM range({pupils})"
    else:  # each term's leavers are pupils of their own, numbered after the N on roll
        first = pupils + list(TERMS).index(term) * leavers
        frame = f"SELECT range AS p FROM range({first}, {first + leavers})"
    if table in ("pupilonroll", "pupilnolongeronroll"):
        special = _pupil_columns(term, on_roll)
    elif "sessiondetails" in table:
        least, most = (0, 3) if table.startswith("summerhalfterm2") else (1, 5)
        count = f"{least} + {_h(term, table, 'rows')} % {most - least + 1}"
        frame = f"SELECT p, unnest(range({count})) AS j FROM ({frame})"
        special = _sessions_columns(term, table)
    else:
        share = int((EXCLUDED if "exclusions" in table else FSM) * 10_000)
        frame = f"SELECT p FROM ({frame}) WHERE {_h(term, table)} % 10000 < {share}"
        special = _dated_columns(term, table)
    school = f"(p % {pupils} // {PUPILS_PER_SCHOOL})"  # leavers left the same schools
    la = f"(201 + {school} % 152)"
    estab = f"(2000 + {school} // 152)"
    enrolment = "printf('%08x-%03x', (p * 2654435761) % 4294967296, p % 4096)"
    special |= {
        "pupilonrolltableid": enrolment,
        "pupilnolongeronrolltableid": enrolment,
        "NativeId": f"({la} * 10000 + {estab})::VARCHAR",
        "sourceid": f"printf('%08x', {_h(term, 'source')})",
    }
    expressions = []
    for column in header:
        if column in special:
            expression = special[column]
        else:  # a value of the sample's column, chosen at random (blanks included)
            pool = f"pool.{_quoted(column)}"
            pick = _h("j", column) if "sessiondetails" in table else _h(column)
            expression = f"{pool}[1 + {pick} % len({pool})]"
        expressions.append(f"{expression} AS {_quoted(column)}")
    body = f"({la} * 1000000000 + {estab} * 100000 + 12000 + p % 1000)"
    return (
        f"SELECT {', '.join(expressions)} FROM "
        f"(SELECT *, {body} AS body FROM ({frame})) AS rows_, pool"
    )


def generate(folder: Path, pupils: int, terms: list[str]) -> None:
    """Write the set into ``folder`` (replaced); the caller writes the manifest once done."""
    if folder.exists():
        shutil.rmtree(folder)
    partial = folder.with_name(folder.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    connection = duckdb.connect()
    connection.execute("SET preserve_insertion_order = true")
    for term in terms:
        for table in _tables(term):
            sample = _sample(term, table)
            header = next(csv.reader(sample.open(encoding="utf-8-sig", newline="")))
            connection.execute("DROP TABLE IF EXISTS pool")
            lists = ", ".join(f"list({_quoted(c)}) AS {_quoted(c)}" for c in header)
            connection.execute(
                f"CREATE TABLE pool AS SELECT {lists} FROM read_csv(?, all_varchar = true, "
                "header = true, delim = ',', quote = '\"')",
                [str(sample)],
            )
            target = partial / f"{TERMS[term]}_{term}_{table}.csv"
            started = time.perf_counter()
            connection.execute(
                f"COPY ({_query(term, table, pupils, header)}) TO '{target}' "
                "(FORMAT csv, HEADER true, DELIMITER ',')"
            )
            size = target.stat().st_size / 2**20
            print(
                f"  wrote {target.name}: {size:,.0f} MiB in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    connection.close()
    partial.rename(folder)


def census_set(pupils: int, terms: list[str]) -> Path:
    """The cached set for these parameters, generated if it is missing or stale."""
    folder = CACHE / f"{pupils}_{'_'.join(terms)}"
    # Beside the folder, not in it: everything in the folder is ingested.
    manifest = folder.with_name(folder.name + ".json")
    wanted = {"version": GENERATOR_VERSION, "pupils": pupils, "terms": terms}
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")) == wanted:
        print(f"reusing {folder}")
        return folder
    manifest.unlink(missing_ok=True)
    print(f"generating {folder}")
    generate(folder, pupils, terms)
    manifest.write_text(json.dumps(wanted), encoding="utf-8")  # last: the set is complete
    return folder


def csv_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def bare_csv(folder: str) -> dict[str, float]:
    """Every record of every file through ``csv.reader``, nothing done with the values."""
    started = time.perf_counter()
    rows = 0
    for path in csv_files(Path(folder)):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += sum(1 for _ in csv.reader(handle)) - 1
    return {"seconds": time.perf_counter() - started, "rows": rows}


def bare_duckdb(folder: str) -> dict[str, float]:
    started = time.perf_counter()
    rows = 0
    connection = duckdb.connect()
    for path in csv_files(Path(folder)):
        found = connection.execute(
            "SELECT count(*) FROM read_csv(?, all_varchar = true, header = true)", [str(path)]
        ).fetchone()
        rows += int(found[0]) if found else 0
    connection.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def check_only(folder: str) -> dict[str, float]:
    from cwsw.warehouse.load import check

    started = time.perf_counter()
    results = check([folder])
    seconds = time.perf_counter() - started
    failed = [r for r in results if r.status != "checked"]
    if failed:
        raise SystemExit(f"check failed on {failed[0].file}: {failed[0].message}")
    return {"seconds": seconds, "rows": sum(r.total_rows for r in results)}


def cwsw(folder: str) -> dict[str, float]:
    from cwsw.warehouse.connection import Warehouse
    from cwsw.warehouse.load import ingest

    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        target = Path(tmp) / "warehouse.duckdb"
        started = time.perf_counter()
        with Warehouse.open(target) as warehouse:
            results = ingest(warehouse, [folder])
        seconds = time.perf_counter() - started
        size = target.stat().st_size
    failed = [r for r in results if r.status != "loaded"]
    if failed:
        raise SystemExit(
            f"ingest did not load {failed[0].file}: {failed[0].status} {failed[0].message}"
        )
    tables: dict[str, float] = {}
    for result in results:
        for table, rows in result.rows.items():
            tables[f"rows {table}"] = tables.get(f"rows {table}", 0) + rows
    return {
        "seconds": seconds,
        "rows": sum(r.total_rows for r in results),
        "findings": sum(r.findings.total for r in results),
        "warehouse_mib": size / 2**20,
        **tables,
    }


def peak_mib() -> float:
    """This process's peak resident memory.

    ``VmHWM`` where there is one: ``ru_maxrss`` also counts what the parent held when it forked
    this process (here, the generator's DuckDB).
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, folder: Path) -> dict[str, float]:
    """One run in a fresh process, so that peak memory is that run's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--run", kind, str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=8_000_000, help="pupils on roll a term")
    parser.add_argument("--terms", nargs="+", choices=list(TERMS), default=list(TERMS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        kind, folder = args.run
        runners = {"csv": bare_csv, "duckdb": bare_duckdb, "check": check_only, "cwsw": cwsw}
        figures = runners[kind](folder)
        figures["peak_mib"] = peak_mib()
        print(json.dumps(figures))
        return
    terms = [term for term in TERMS if term in args.terms]
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"free disk under {CACHE}: {shutil.disk_usage(CACHE).free / 2**30:,.0f} GiB")
    folder = census_set(args.pupils, terms)
    files = csv_files(folder)
    size = sum(path.stat().st_size for path in files)
    print(
        f"school census {', '.join(terms)}: {args.pupils:,} pupils on roll a term, "
        f"{len(files)} files, {size / 2**30:,.2f} GiB"
    )
    if args.generate_only:
        return
    runs: dict[str, list[dict[str, float]]] = {"csv": [], "duckdb": [], "check": [], "cwsw": []}
    for repeat in range(args.repeats):
        for kind in runs:  # side by side: each repeat measures all four
            runs[kind].append(measure(kind, folder))
            print(f"  repeat {repeat + 1} {kind}: {runs[kind][-1]}", flush=True)
    medians = {
        kind: {key: statistics.median(r[key] for r in found) for key in found[0]}
        for kind, found in runs.items()
    }
    for kind, figures in medians.items():
        print(
            f"{kind:6}: {figures['seconds']:8.1f} s  {figures['rows']:13,.0f} rows  "
            f"{figures['rows'] / figures['seconds']:11,.0f} rows/s  "
            f"peak {figures['peak_mib']:7,.0f} MiB"
        )
    cw = medians["cwsw"]
    loaded = ", ".join(f"{k[5:]} {v:,.0f}" for k, v in cw.items() if k.startswith("rows "))
    print(f"cwsw loaded: {loaded}")
    print(f"cwsw findings stored: {cw['findings']:,.0f}; warehouse {cw['warehouse_mib']:,.0f} MiB")
    bare = medians["csv"]["seconds"]
    print(f"cwsw seconds / bare csv.reader seconds: {cw['seconds'] / bare:.2f}")
    print(f"check seconds / bare csv.reader seconds: {medians['check']['seconds'] / bare:.2f}")
    duck = medians["duckdb"]["seconds"]
    print(f"cwsw seconds / DuckDB read_csv seconds: {cw['seconds'] / duck:.1f}")


if __name__ == "__main__":
    main()
