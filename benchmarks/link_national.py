"""Linkage at national scale: N social care person records against N pupils, end to end.

Each size runs in a fresh process: synthetic records are written straight into a new
warehouse's canonical tables (``person`` and ``pupil_enrolment``, as ingestion leaves them),
then the product's own entry point, ``cwsw.pipeline.link`` (identifier rules, Splink training,
prediction, the one-to-one assignment and the stored outcomes, review queue and run record),
is timed. Prints, per size, the link time, the peak resident memory of the process, the
candidate pairs Splink scored, and precision, recall and F1 against the generator's truth;
then the growth curve against the smallest size (time ratio over size ratio).

``cwsw synth`` writes a whole local authority (returns, census, attendance) a row at a time:
fine at 30,000 pupils, far too slow for 1,000,000 persons and pupils. So sizes here use
``national_records``, a vectorised generator of the two linkage inputs with the faults that
matter to linkage (missing, mistyped and former UPNs, nicknames, one- and two-letter typos,
double-barrelled surnames, day and month swapped, one digit of the date wrong, missing sex)
and a truth table. The LA-scale case (``--la``) is the real thing: ``cwsw synth`` at 30,000
pupils, ingested, then linked (only the link is timed), with its own truth.

Usage:

    .venv/bin/python benchmarks/link_national.py [--sizes 10000 100000 1000000] [--la 30000]
        [--repeats 1]

Targets (issue 4): 1,000,000 x 1,000,000 under 240 s; 30,000 pupils under 20 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa

SEED = 20261202
# Share of person records who are pupils (the rest are under 5, over 16, or not in a state
# school: docs/domain.md §4 has about half of CIN at 31 March matched to pupils; the person
# extract covers every child with a social worker in recent years, so more).
PUPIL_SHARE = 0.6
# Faults on the social care side of a true pair (independent draws).
FAULTS = {
    "upn_missing": 0.40,  # no UPN at all: names only
    "upn_mistyped": 0.05,  # one digit wrong: fails the check letter
    "upn_former": 0.04,  # the pupil's former UPN
    "nickname": 0.08,
    "forename_typo": 0.04,
    "surname_typo": 0.04,
    "surname_double": 0.02,  # the pupil's surname is half of a double-barrelled one
    "dob_swapped": 0.02,
    "dob_digit": 0.02,
    "sex_missing": 0.03,
}
CHECK = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
ROOT = Path(__file__).resolve().parents[1]


# -- names ------------------------------------------------------------------------------


def _names() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, list[str]]]:
    """Forenames (with weights) and surnames (with weights) shaped like England's: the
    generator's real names at the head, a long tail of made-up ones, Zipf weights; and the
    nickname table."""
    from cwsw.synth import codes

    rng = np.random.default_rng(SEED)
    onsets = np.array(
        [
            "b",
            "br",
            "c",
            "ch",
            "d",
            "f",
            "g",
            "h",
            "j",
            "k",
            "l",
            "m",
            "n",
            "p",
            "r",
            "s",
            "sh",
            "st",
            "t",
            "th",
            "w",
            "wh",
            "y",
            "z",
            "bl",
            "cr",
            "gr",
        ]
    )
    vowels = np.array(["a", "e", "i", "o", "u", "ai", "ea", "ou", "y", "ie"])
    codas = np.array(["", "n", "r", "s", "t", "ll", "ck", "ng", "rd", "ss", "th", "m", "x"])
    ends = np.array(["", "ley", "ton", "ford", "son", "er", "well", "by", "ham", "wood"])

    def made_up(count: int, parts: int) -> list[str]:
        out: dict[str, None] = {}
        while len(out) < count:
            words = np.full(count, "", dtype=object)
            for _ in range(parts):
                for pool in (onsets, vowels, codas):
                    words = words + pool[rng.integers(len(pool), size=count)]
            words = words + ends[rng.integers(len(ends), size=count)]
            out.update(dict.fromkeys(w.capitalize() for w in words))
        return list(out)[:count]

    # England: Smith about 1.3% of people, a sum of squared surname shares near 0.0005; the
    # commonest forenames about 2% of a year's births.
    surnames = list(dict.fromkeys(codes.SURNAMES + made_up(100_000, 2)))
    forenames = list(dict.fromkeys(codes.FORENAMES_M + codes.FORENAMES_F + made_up(10_000, 1)))
    surname_w = 1.0 / np.arange(1, len(surnames) + 1) ** 0.75
    forename_w = 1.0 / np.arange(1, len(forenames) + 1) ** 0.7
    nick: dict[str, list[str]] = {}
    table = ROOT / "src" / "cwsw" / "linkage" / "data" / "nicknames.csv"
    with table.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            nick.setdefault(row["name"], []).append(row["nickname"])
    return (
        np.array(forenames, dtype=object),
        forename_w / forename_w.sum(),
        np.array(surnames, dtype=object),
        surname_w / surname_w.sum(),
        nick,
    )


def _typo(words: np.ndarray, rng: np.random.Generator, edits: int = 1) -> np.ndarray:
    """Each word with ``edits`` random substitutions, deletions or transpositions."""
    out = words.copy()
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i, word in enumerate(out):
        chars = list(word)
        for _ in range(edits):
            if len(chars) < 3:
                break
            pos = int(rng.integers(1, len(chars) - 1))
            kind = int(rng.integers(3))
            if kind == 0:
                chars[pos] = letters[int(rng.integers(26))]
            elif kind == 1:
                del chars[pos]
            else:
                chars[pos], chars[pos + 1] = chars[pos + 1], chars[pos]
        out[i] = "".join(chars)
    return out


# -- identifiers ------------------------------------------------------------------------


def _upns(serials: np.ndarray) -> np.ndarray:
    """Valid, distinct UPNs: LA code 800, then the serial's nine digits, with check letter."""
    body = np.char.add("800", np.char.zfill(serials.astype(str), 9))
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(-1, 12) - 48
    total = (digits * np.arange(2, 14)).sum(axis=1)
    return np.char.add(CHECK[total % 23], body).astype(object)


def _mistype(upns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One digit changed: the check letter no longer fits (a rule cannot use it)."""
    out = upns.copy()
    for i, upn in enumerate(out):
        pos = int(rng.integers(4, 13))
        digit = (int(upn[pos]) + 1 + int(rng.integers(8))) % 10
        out[i] = upn[:pos] + str(digit) + upn[pos + 1 :]
    return out


# -- dates ------------------------------------------------------------------------------


def _swap(days: np.ndarray) -> np.ndarray:
    """Day and month swapped where that is another date (else the date unchanged)."""
    out = days.copy()
    for i, day in enumerate(days.tolist()):
        if day.day <= 12 and day.day != day.month:
            out[i] = np.datetime64(dt.date(day.year, day.day, day.month))
    return out


def _digit(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One digit of the day wrong (a keying error), kept a real date."""
    out = days.copy()
    for i, day in enumerate(days.tolist()):
        tens, units = divmod(day.day, 10)
        new = tens * 10 + (units + 1 + int(rng.integers(8))) % 10
        try:
            out[i] = np.datetime64(day.replace(day=max(new, 1)))
        except ValueError:
            out[i] = np.datetime64(day.replace(day=max(tens * 10, 1)))
    return out


# -- the two inputs ---------------------------------------------------------------------


def national_records(n: int, seed: int = SEED) -> tuple[pa.Table, pa.Table, set[tuple[str, str]]]:
    """``n`` person-extract records and ``n`` pupils (canonical ``person`` and
    ``pupil_enrolment`` rows), and the true (LA child ID, UPN) pairs."""
    from cwsw.warehouse.schema import arrow_schema

    rng = np.random.default_rng(seed)
    forenames, fw, surnames, sw, nick = _names()
    matched = round(n * PUPIL_SHARE)  # persons who are pupils; the rest are not
    people = n + (n - matched)  # the n pupils, then the children who are not pupils
    first = forenames[rng.choice(len(forenames), people, p=fw)]
    last = surnames[rng.choice(len(surnames), people, p=sw)]
    start = np.datetime64("2006-09-01")
    birth = start + rng.integers(0, 18 * 365, people).astype("timedelta64[D]")
    sex = np.where(rng.random(people) < 0.51, "M", "F").astype(object)
    upn = _upns(rng.permutation(people))

    # Pupils: the first n people. Some carry a former UPN (another serial, never reused).
    former = np.full(n, None, dtype=object)
    has_former = rng.random(n) < 2 * FAULTS["upn_former"]
    former[has_former] = _upns(people + np.flatnonzero(has_former))
    pupils = {
        "load_id": np.ones(n, dtype=np.int32),
        "census_term": np.full(n, "2025 spring", dtype=object),
        "laestab": np.full(n, "8002000", dtype=object),
        "enrolment_id": np.char.add("E", np.arange(n).astype(str)).astype(object),
        "on_roll": np.ones(n, dtype=bool),
        "upn": upn[:n],
        "upn_raw": upn[:n],
        "former_upn": former,
        "forename": first[:n],
        "surname": last[:n],
        "birth_date": birth[:n],
        "sex": sex[:n],
    }

    # Social care persons: ``matched`` distinct pupils and every person who is not a pupil,
    # in a random order, with faults.
    who = rng.permutation(np.concatenate([rng.permutation(n)[:matched], np.arange(n, people)]))
    is_pupil = who < n
    m = len(who)
    ids = np.char.add("LA", np.char.zfill(np.arange(m).astype(str), 9)).astype(object)
    p_first, p_last = first[who].copy(), last[who].copy()
    p_birth, p_sex = birth[who].copy(), sex[who].copy()
    p_upn = upn[who].copy()

    def hit(fault: str) -> np.ndarray:
        return rng.random(m) < FAULTS[fault]

    gives_former = is_pupil & (rng.random(m) < 0.5)
    gives_former &= has_former[np.where(is_pupil, who, 0)]
    p_upn[gives_former] = former[who[gives_former]]
    typed = hit("upn_mistyped")
    p_upn[typed] = _mistype(p_upn[typed], rng)
    missing = hit("upn_missing") | ~is_pupil & (rng.random(m) < 0.5)
    p_upn[missing] = None
    nickname = hit("nickname")
    for i in np.flatnonzero(nickname):
        options = nick.get(p_first[i])
        if options:
            p_first[i] = options[int(rng.integers(len(options)))]
    f_typo, s_typo = hit("forename_typo"), hit("surname_typo")
    p_first[f_typo] = _typo(p_first[f_typo], rng)
    p_last[s_typo] = _typo(p_last[s_typo], rng)
    double = hit("surname_double")
    p_last[double] = p_last[double] + "-" + surnames[rng.integers(0, 200, int(double.sum()))]
    swapped, digit = hit("dob_swapped"), hit("dob_digit")
    p_birth[swapped] = _swap(p_birth[swapped])
    p_birth[digit] = _digit(p_birth[digit], rng)
    p_sex[hit("sex_missing")] = None
    valid = np.array([u is not None and not t for u, t in zip(p_upn, typed, strict=True)])
    persons = {
        "load_id": np.full(m, 2, dtype=np.int32),
        "la_child_id": ids,
        "forename": p_first,
        "surname": p_last,
        "birth_date": p_birth,
        "sex": p_sex,
        "upn": np.where(valid, p_upn, None),
        "upn_raw": p_upn,
        "postcode": np.full(m, None, dtype=object),
    }
    truth = {
        (child, str(upn[person]))
        for child, person, pupil_flag in zip(ids, who, is_pupil, strict=True)
        if pupil_flag
    }

    def table(name: str, columns: dict[str, np.ndarray]) -> pa.Table:
        schema = arrow_schema(name)
        rows = len(next(iter(columns.values())))
        arrays = [
            pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(rows, f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(arrays, schema=schema)

    return table("person", persons), table("pupil_enrolment", pupils), truth


# -- one measured run -------------------------------------------------------------------


def _settings(home: Path) -> object:
    from cwsw.settings import get_settings

    return replace(
        get_settings(),
        home=home,
        linkage_decisions_path=home / "linkage_decisions.sqlite3",
        linkage_model_path=home / "linkage_model.json",
    )


def _cpu() -> float:
    """CPU seconds of this process so far (user and system, every thread): beside wall time,
    because other work on a shared machine stretches wall time but not CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _accuracy(warehouse: object, truth: set[tuple[str, str]]) -> dict[str, float]:
    from cwsw.linkage.report import accuracy

    links = warehouse.ibis.table("child_pupil_link").execute()  # type: ignore[attr-defined]
    return accuracy(set(zip(links.la_child_id, links.upn, strict=True)), truth)


def _timed_link(
    warehouse: object, home: Path, truth: set[tuple[str, str]], pupils: int
) -> dict[str, float]:
    """``pipeline.link`` timed (wall and CPU), with its pair counts and accuracy."""
    from cwsw import pipeline

    cpu = _cpu()
    started = time.perf_counter()
    result = pipeline.link(warehouse, _settings(home))  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu
    measured = _accuracy(warehouse, truth)
    details = result.run.details
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "children": result.children,
        "pupils": pupils,
        "linked": result.linked,
        "probabilistic_children": details["probabilistic_inputs"]["children"],
        "probabilistic_pupils": details["probabilistic_inputs"]["pupils"],
        "pairs": sum(details["candidate_pairs_by_blocking_rule"].values()),
        "precision": measured["precision"],
        "recall": measured["recall"],
        "f1": measured["f1"],
    }


def run_national(n: int) -> dict[str, float]:
    from cwsw.warehouse.connection import Warehouse
    from cwsw.warehouse.schema import ensure_schema

    made = time.perf_counter()
    person, pupils, truth = national_records(n)
    generated = time.perf_counter() - made
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with Warehouse.open(home / "warehouse.duckdb") as warehouse:
            ensure_schema(warehouse)
            with warehouse.transaction():
                warehouse.insert_arrow("person", person)
                warehouse.insert_arrow("pupil_enrolment", pupils)
            del person, pupils
            figures = _timed_link(warehouse, home, truth, n)
    return {**figures, "generate_seconds": generated}


def run_la(pupils: int) -> dict[str, float]:
    """The synthetic LA (``cwsw synth``), ingested, then linked: only the link is timed."""
    from cwsw.linkage.report import read_truth
    from cwsw.synth import generate
    from cwsw.warehouse import load
    from cwsw.warehouse.connection import Warehouse

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        generate(home / "la", seed=7, pupils=pupils, faults="default")
        with Warehouse.open(home / "warehouse.duckdb") as warehouse:
            load.ingest(warehouse, [home / "la"])
            return _timed_link(warehouse, home, read_truth(home / "la" / "truth"), pupils)


def measure(kind: str, n: int) -> dict[str, float]:
    """One run in a fresh process, so that peak memory is that run's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--run", kind, str(n)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} {n:,} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _line(label: str, f: dict[str, float]) -> str:
    return (
        f"{label:>26}: {f['seconds']:7.1f} s (CPU {f['cpu_seconds']:6.1f} s)  "
        f"peak {f['peak_mib']:7,.0f} MiB  "
        f"{f['children']:>9,.0f} children x {f['pupils']:>9,.0f} pupils  "
        f"Splink on {f['probabilistic_children']:>8,.0f} x {f['probabilistic_pupils']:>9,.0f}, "
        f"{f['pairs']:>11,.0f} pairs  precision {f['precision']:.4f} recall {f['recall']:.4f} "
        f"F1 {f['f1']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--la", type=int, default=30_000, help="synthetic LA pupils (0: skip)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        kind, n = args.run[0], int(args.run[1])
        figures = run_la(n) if kind == "la" else run_national(n)
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    def median(kind: str, n: int) -> dict[str, float]:
        runs = [measure(kind, n) for _ in range(args.repeats)]
        return {key: statistics.median(r[key] for r in runs) for key in runs[0]}

    print(f"linkage, end to end through cwsw.pipeline.link; median of {args.repeats} run(s)")
    if args.la:
        la = median("la", args.la)
        print(_line(f"synthetic LA {args.la:,} pupils", la), flush=True)
        print(f"{'':>26}  target < 20 s: {'met' if la['seconds'] < 20 else 'MISSED'}")
    results = {}
    for n in args.sizes:
        results[n] = median("national", n)
        print(_line(f"{n:,} x {n:,}", results[n]), flush=True)
    if len(results) > 1:
        base = min(results)
        for n in sorted(results)[1:]:
            size, cost = n / base, results[n]["seconds"] / results[base]["seconds"]
            memory = results[n]["peak_mib"] / results[base]["peak_mib"]
            print(
                f"{n:,} vs {base:,} ({size:,.0f}x records): time x{cost:.1f} "
                f"(x{cost / size:.2f} per record), peak memory x{memory:.1f}"
            )
    if 1_000_000 in results:
        ok = results[1_000_000]["seconds"] < 240
        print(f"target: 1,000,000 x 1,000,000 under 240 s: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
