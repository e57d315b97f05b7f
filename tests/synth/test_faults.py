"""Faults are injected at their configured rates and every one is recorded where it is.

Tolerance for a rate: |observed - expected| <= 4 binomial standard errors + 0.005, where the
opportunities are counted from the written files, not taken from the generator.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from lxml import etree
from synth_measures import XSD_DIR, need_fixtures

from cwsw.synth import SynthSummary
from cwsw.synth.codes import NICKNAMES
from cwsw.synth.faults import FAULT_RATES

RATES = FAULT_RATES["default"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _close(hits: int, n: int, rate: float) -> bool:
    assert n > 0
    return abs(hits / n - rate) <= 4 * math.sqrt(rate * (1 - rate) / n) + 0.005


def test_every_xsd_error_is_a_recorded_fault(faulty_la: SynthSummary) -> None:
    need_fixtures()
    faults = _rows(faulty_la.out / "truth/faults.csv")
    by_line = {(f["file"], int(f["location"])) for f in faults}
    by_field = {(f["file"], f["la_child_id"], f["field"]) for f in faults}
    errors = 0
    for f in sorted((faulty_la.out / "cin_census").glob("*.xml")):
        rel = f"cin_census/{f.name}"
        schema = etree.XMLSchema(etree.parse(str(XSD_DIR / f"CIN_schema_{f.stem[-4:]}.xsd")))
        doc = etree.parse(str(f))
        schema.validate(doc)
        lines = f.read_text().splitlines()
        # lxml-stubs give _ErrorLog no __iter__; at runtime it iterates its _LogEntry items.
        for err in cast(Iterable[etree._LogEntry], schema.error_log):
            errors += 1
            if (rel, err.line) in by_line:
                continue
            # else the same child and field: find the child around the line
            child = next(
                (ln.strip()[11:-12] for ln in reversed(lines[: err.line]) if "<LAchildID>" in ln),
                "",
            )
            element = lines[err.line - 1].strip().split(">")[0].lstrip("<")
            assert (rel, child, element) in by_field, (rel, err.line, err.message)
    assert errors > 0  # whitespace in UPNs and true/false yes/no values break the XSD


def test_recorded_faults_are_in_the_files(faulty_la: SynthSummary) -> None:
    out = faulty_la.out
    faults = _rows(out / "truth/faults.csv")
    kinds = Counter(f["fault"] for f in faults)
    assert set(kinds) == set(RATES), kinds
    cache: dict[str, list[str]] = {}
    tables: dict[str, list[dict[str, str]]] = {}
    for f in faults:
        path = out / f["file"]
        if f["fault"] == "bom":
            assert path.read_bytes().startswith(b"\xef\xbb\xbf")
            continue
        if f["file"].endswith(".xml"):
            lines = cache.setdefault(f["file"], path.read_text().splitlines())
            if f["fault"] != "upn_missing":
                assert f">{f['written']}</{f['field']}>" in lines[int(f["location"]) - 1]
        else:
            row = tables.setdefault(f["file"], _rows(path))[int(f["location"]) - 1]
            assert row[f["field"]] == f["written"], f
    boms = {f["file"] for f in faults if f["fault"] == "bom"}
    for p in out.rglob("*.csv"):
        rel = str(p.relative_to(out))
        if not rel.startswith("truth"):
            assert p.read_bytes().startswith(b"\xef\xbb\xbf") == (rel in boms), rel


def test_fault_rates(faulty_la: SynthSummary) -> None:
    out = faulty_la.out
    faults = _rows(out / "truth/faults.csv")
    per_file: dict[str, Counter[str]] = defaultdict(Counter)
    for f in faults:
        per_file[f["file"]][f["fault"]] += 1

    # yes/no values in the CIN census: counted from the XML
    yesno = tf = upns = 0
    missing = sum(c["upn_missing"] for k, c in per_file.items() if k.endswith(".xml"))
    for p in (out / "cin_census").glob("*.xml"):
        for el in etree.parse(str(p)).iter("ReferralNFA", "ICPCnotRequired"):
            yesno += 1
            tf += el.text in ("true", "false")
        upns += sum(1 for _ in etree.parse(str(p)).iter("UPN"))
    assert _close(tf, yesno, RATES["yesno_truefalse"])
    # UPN faults: opportunities are UPNs written plus UPNs dropped
    n_upn = upns + missing
    assert _close(missing, n_upn, RATES["upn_missing"])
    cin = Counter(f["fault"] for f in faults if f["file"].endswith(".xml"))
    after_missing = 1 - RATES["upn_missing"]
    assert _close(cin["upn_bad_check"], n_upn, RATES["upn_bad_check"] * after_missing)

    # IDs as floats in SSDA903 and the person extract: counted from the CSVs
    ids = floats = 0
    for p in [*out.glob("ssda903/*/*.csv"), out / "person_extract.csv"]:
        col = "la_child_id" if p.name == "person_extract.csv" else "CHILD"
        for r in _rows(p):
            ids += 1
            floats += r[col].endswith(".0")
    assert _close(floats, ids, RATES["id_float"])

    person = _rows(out / "person_extract.csv")
    assert _close(per_file["person_extract.csv"]["name_typo"], len(person), RATES["name_typo"])
    # day/month swaps are possible where both are 12 or less and differ (true of the written
    # value too, since a swap keeps that property)
    eligible = 0
    for r in person:
        if r["date_of_birth"]:
            _, m, d = map(int, r["date_of_birth"].split("-"))
            eligible += d <= 12 and d != m
    assert _close(per_file["person_extract.csv"]["dob_swapped"], eligible, RATES["dob_swapped"])
    nick_written = set(NICKNAMES.values())
    nick_eligible = sum(r["forename"] in NICKNAMES or r["forename"] in nick_written for r in person)
    nicks = per_file["person_extract.csv"]["name_nickname"]
    assert _close(nicks, nick_eligible, RATES["name_nickname"]) or nicks > 0
