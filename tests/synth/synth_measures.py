"""DfE measures computed straight from a synthetic LA's files, independently of the generator.

Reads the CIN census XML, SSDA903 CSVs, school census CSVs and attainment CSVs with lxml and
csv only, so the calibration tests check what a reader of the files would see.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
XSD_DIR = FIXTURES / "cin-census" / "xsd"
SAMPLES = FIXTURES / "school-census" / "samples"


def need_fixtures() -> None:
    if not XSD_DIR.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")


MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
GROUPS = ("CINO", "CPPO", "CLA 12 months", "all pupils")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def census_date(value: str) -> dt.date:
    y, m, d = value.split(" ")[0].split("-")
    return dt.date(int(y), MONTHS[m], int(d))


def dmy(value: str) -> dt.date:
    d, m, y = value.split("/")
    return dt.date(int(y), int(m), int(d))


@dataclass
class Measures:
    spring_upns: set[str]
    group: dict[str, str]  # UPN -> CINO / CPPO / CLA 12 months (pupils in a group)
    ever6: set[str]
    in_year_cin: set[str]
    # per group (and "all pupils"): rates
    absence: dict[str, dict[str, float]] = field(default_factory=dict)
    absence_by_phase: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    ehc: dict[str, float] = field(default_factory=dict)
    any_sen: dict[str, float] = field(default_factory=dict)
    fsm: dict[str, float] = field(default_factory=dict)
    suspended: dict[str, float] = field(default_factory=dict)
    permanent: dict[str, float] = field(default_factory=dict)
    ks2_rwm: dict[str, float] = field(default_factory=dict)
    att8: dict[str, float] = field(default_factory=dict)

    def share(self, members: set[str]) -> float:
        return len(members & self.spring_upns) / len(self.spring_upns)


def _text(el: etree._Element, tag: str) -> str | None:
    found = el.find(tag)
    return None if found is None or found.text is None else found.text.strip()


def cin_status(folder: Path, year: int) -> tuple[dict[str, str], set[str], set[str]]:
    """(LA child ID -> group at 31 March for CPPO / CINO, UPN by child, in-year CIN children)."""
    doc = etree.parse(str(folder / f"cin_census/cin_census_{year}.xml"))
    status: dict[str, str] = {}
    in_year: set[str] = set()
    for child in doc.iter("Child"):
        cid = _text(child, "ChildIdentifiers/LAchildID") or ""
        for ep in child.iter("CINdetails"):
            if _text(ep, "ReferralNFA") not in ("0", "false"):
                continue
            in_year.add(cid)
            if _text(ep, "CINclosureDate") is None:
                status.setdefault(cid, "CINO")
            for cp in ep.iter("ChildProtectionPlans"):
                if _text(cp, "CPPendDate") is None:
                    status[cid] = "CPPO"
    return status, in_year, set()


def child_upns(folder: Path) -> dict[str, str]:
    """LA child ID -> UPN from the person extract and every CIN census (later years win)."""
    out: dict[str, str] = {}
    for r in rows(folder / "person_extract.csv"):
        if r["upn"].strip():
            out[r["la_child_id"].strip()] = r["upn"].strip().upper()
    for xml in sorted((folder / "cin_census").glob("*.xml")):
        for child in etree.parse(str(xml)).iter("Child"):
            upn = _text(child, "ChildIdentifiers/UPN")
            if upn:
                out[_text(child, "ChildIdentifiers/LAchildID") or ""] = upn.upper()
    return out


def cla_12_months(folder: Path, year: int) -> set[str]:
    """LA child IDs looked after every day of the collection year (SSDA903 episodes)."""
    start, end = dt.date(year - 1, 4, 1), dt.date(year, 3, 31)
    eps: dict[str, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for r in rows(folder / f"ssda903/{year}/episodes.csv"):
        dec = dmy(r["DEC"]) if r["DEC"] else None
        eps[r["CHILD"].strip().removesuffix(".0")].append((dmy(r["DECOM"]), dec))
    out = set()
    for child, spans in eps.items():
        spans.sort()
        if spans[0][0] > start:
            continue
        covered = True
        for (_, dec), (nxt, _) in itertools.pairwise(spans):
            if dec is None or nxt > dec:
                covered = False
        last = spans[-1][1]
        if covered and (last is None or last > end):
            out.add(child)
    return out


def compute(folder: Path, end_year: int = 2025) -> Measures:
    sc = folder / "school_census"
    upn_of_child = child_upns(folder)
    status, in_year, _ = cin_status(folder, end_year)
    for cid in cla_12_months(folder, end_year):
        status[cid] = "CLA 12 months"
    group = {upn_of_child[c]: g for c, g in status.items() if c in upn_of_child}
    ever_children: set[str] = set()
    for y in range(end_year - 5, end_year + 1):
        ever_children |= cin_status(folder, y)[1]
    ever6 = {upn_of_child[c] for c in ever_children if c in upn_of_child}
    in_year_upns = {upn_of_child[c] for c in in_year if c in upn_of_child}

    phase = {r["laestab"]: r["phase"] for r in rows(folder / "establishments.csv")}
    spring = rows(sc / f"{end_year}_spring_pupilonroll.csv")
    spring_upns = {r["upn"] for r in spring}
    m = Measures(spring_upns=spring_upns, group=group, ever6=ever6, in_year_cin=in_year_upns)

    def grp(upn: str) -> list[str]:
        g = group.get(upn)
        return [g, "all pupils"] if g else ["all pupils"]

    # Absence: enrolments over the six half terms, NC years 1-11, primary/secondary/special.
    possible: dict[str, int] = defaultdict(int)
    absent: dict[str, int] = defaultdict(int)
    enrol_upn: dict[str, str] = {}
    enrol_school: dict[str, str] = {}
    enrol_dob: dict[str, str] = {}
    for term in ("spring", "summer", "autumn"):
        for status_, idcol in (("on", "pupilonrolltableid"), ("off", "pupilnolongeronrolltableid")):
            table = "pupilonroll" if status_ == "on" else "pupilnolongeronroll"
            for r in rows(sc / f"{end_year}_{term}_{table}.csv"):
                e = r[idcol]
                enrol_upn[e] = r["upn"]
                enrol_school[e] = r["NativeId"]
                enrol_dob[e] = r["dob"]
                for col in ("termlysessionspossible", "summerhalfterm2sessionspossible"):
                    if r.get(col):
                        possible[e] += int(float(r[col]))
            prefixes = ["termly"] + (["summerhalfterm2"] if term == "autumn" else [])
            for prefix in prefixes:
                for r in rows(sc / f"{end_year}_{term}_{prefix}sessiondetails{status_}roll.csv"):
                    absent[r[idcol]] += int(float(r["sessions"]))
    year_start = dt.date(end_year - 1, 9, 1)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for e, poss in possible.items():
        if poss <= 0:
            continue
        dob = census_date(enrol_dob[e])
        age = year_start.year - dob.year - ((dob.month, dob.day) > (8, 31))
        nc = age - 4  # age on 31 August before the year starts: 5 -> Year 1
        ph = phase[enrol_school[e]]
        if not 1 <= nc <= 11:
            continue
        a = absent.get(e, 0)
        for g in grp(enrol_upn[e]):
            for key in ((g, ph), (g, "Total")):
                t = totals[key]
                t[0] += 1
                t[1] += poss
                t[2] += a
                t[3] += a >= 0.1 * poss
                t[4] += a >= 0.5 * poss
    for (g, ph), (n, poss, a, pa, sa) in totals.items():
        if ph == "Alternative provision":
            m.absence_by_phase[(g, ph)] = {"n": n, "overall": a / poss, "pa": pa / n, "sa": sa / n}
            continue
        rec = m.absence_by_phase.setdefault((g, ph), {"n": 0})
        rec.update({"n": n, "overall": a / poss, "pa": pa / n, "sa": sa / n})
    # The headline excludes alternative provision (primary, secondary and special only).
    for g in GROUPS:
        n = poss = a = pa = sa = 0
        for ph in ("Primary", "Secondary", "Special"):
            t = totals.get((g, ph))
            if t:
                n, poss, a, pa, sa = n + t[0], poss + t[1], a + t[2], pa + t[3], sa + t[4]
        if n:
            m.absence[g] = {"n": n, "overall": a / poss, "pa": pa / n, "sa": sa / n}

    # SEN and FSM among pupils on roll at the spring census.
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    fsm_enrol = set()
    census_day = dt.date(end_year, 1, 16)
    for r in rows(sc / f"{end_year}_spring_fsmperiod.csv"):
        ok = census_date(r["fsmstartdate"]) <= census_day
        if ok and (not r["fsmenddate"] or census_date(r["fsmenddate"]) > census_day):
            fsm_enrol.add(r["pupilonrolltableid"])
    for r in spring:
        for g in grp(r["upn"]):
            c = counts[g]
            c[0] += 1
            c[1] += r["senprovision"] == "E"
            c[2] += r["senprovision"] in ("E", "K")
            c[3] += r["pupilonrolltableid"] in fsm_enrol
    for g, (n, e, s, f) in counts.items():
        m.ehc[g], m.any_sen[g], m.fsm[g] = e / n, s / n, f / n

    # Exclusions: pupils (by UPN) with a suspension / permanent exclusion in the year.
    susp: set[str] = set()
    perm: set[str] = set()
    for term in ("spring", "summer", "autumn"):
        for status_, idcol in (("on", "pupilonrolltableid"), ("off", "pupilnolongeronrolltableid")):
            for r in rows(sc / f"{end_year}_{term}_termlyexclusions{status_}roll.csv"):
                target = susp if r["category"] == "SUSP" else perm
                target.add(enrol_upn[r[idcol]])
    year_pupils = set(enrol_upn.values())
    by_group: dict[str, set[str]] = defaultdict(set)
    for u in year_pupils:
        for g in grp(u):
            by_group[g].add(u)
    for g, members in by_group.items():
        m.suspended[g] = len(members & susp) / len(members)
        m.permanent[g] = len(members & perm) / len(members)

    ks2: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows(folder / f"attainment/ks2_{end_year}.csv"):
        for g in grp(r["upn"]):
            ks2[g][0] += 1
            ks2[g][1] += int(r["ks2_rwm_exp"])
    m.ks2_rwm = {g: k / n for g, (n, k) in ks2.items()}
    att8: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows(folder / f"attainment/ks4_{end_year}.csv"):
        for g in grp(r["upn"]):
            att8[g][0] += 1
            att8[g][1] += float(r["att8"])
    m.att8 = {g: s / n for g, (n, s) in att8.items()}
    return m


def report(m: Measures) -> str:
    lines = [
        f"pupils on spring roll {len(m.spring_upns)}",
        "status at 31 March: "
        + ", ".join(
            f"{g} {m.share({u for u, x in m.group.items() if x == g}):.2%}" for g in GROUPS[:3]
        ),
        f"in-year CIN {m.share(m.in_year_cin):.2%}  ever-6 CIN {m.share(m.ever6):.2%}",
    ]
    for g in GROUPS:
        a = m.absence.get(g, {})
        lines.append(
            f"{g:14} n={a.get('n', 0):6.0f} overall {a.get('overall', 0):.1%}"
            f" PA {a.get('pa', 0):.1%} SA {a.get('sa', 0):.1%}"
            f" | EHC {m.ehc.get(g, 0):.1%} anySEN {m.any_sen.get(g, 0):.1%}"
            f" FSM {m.fsm.get(g, 0):.1%} susp {m.suspended.get(g, 0):.2%}"
            f" perm {m.permanent.get(g, 0):.2%} | KS2 {m.ks2_rwm.get(g, 0):.0%}"
            f" Att8 {m.att8.get(g, 0):.1f}"
        )
    for (g, ph), a in sorted(m.absence_by_phase.items()):
        if ph != "Total":
            lines.append(f"  {g:14} {ph:22} n={a['n']:6.0f} PA {a['pa']:.1%} SA {a['sa']:.1%}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(compute(Path(sys.argv[1]))))
