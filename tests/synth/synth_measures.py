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
            sub = totals.get((g, ph))
            if sub:
                n, poss, a, pa, sa = n + sub[0], poss + sub[1], a + sub[2], pa + sub[3], sa + sub[4]
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
    for g, (n, ehc, sen, fsm) in counts.items():
        m.ehc[g], m.any_sen[g], m.fsm[g] = ehc / n, sen / n, fsm / n

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


# -- Issue 5: every mart measure, by cohort and breakdown, straight from the files ------------
#
# Written from docs/domain.md §2-4 and docs/marts.md with csv and lxml only: none of cwsw's code.

UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
YEAR_TERMS = ("spring", "summer", "autumn")  # census terms carrying 2024/25 (a term in arrears)
TERM_OF_CENSUS = {"spring": "autumn", "summer": "spring", "autumn": "summer"}
HEADLINE_PHASES = ("Primary", "Secondary", "Special")


def nc_year_by_age(born: dt.date, end_year: int) -> str:
    """Age on 31 August before academic year ``end_year - 1``/``end_year``, less 4 (DfE: pupils
    aged 5 to 15 at the start of the year are Years 1 to 11)."""
    age = end_year - 1 - born.year - ((born.month, born.day) > (8, 31))
    return str(age - 4)


def norm_id(value: str | None) -> str | None:
    """Trim, upper-case, drop a byte-order mark and a spreadsheet's ``.0``."""
    text = (value or "").replace("\ufeff", "").strip().upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


def upn_ok(value: str | None) -> str | None:
    """The UPN if its check letter is right (docs/domain.md §3), else None."""
    upn = norm_id(value)
    if upn is None or len(upn) != 13 or not upn[1:12].isdigit():
        return None
    last = upn[12]
    if not (last.isdigit() or last in UPN_CHECK_LETTERS):
        return None
    total = sum(int(c) * w for c, w in zip(upn[1:12], range(2, 13), strict=True))
    total += 13 * (int(last) if last.isdigit() else UPN_CHECK_LETTERS.index(last))
    return upn if UPN_CHECK_LETTERS[total % 23] == upn[0] else None


def _iso(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _open(start: dt.date, end: dt.date | None, on: dt.date) -> bool:
    return start <= on and (end is None or end > on)


def _meets(start: dt.date, end: dt.date | None, lo: dt.date, hi: dt.date) -> bool:
    return start <= hi and (end is None or end >= lo)


class SocialCareFiles:
    """CIN episodes, CP plans and SSDA903 episodes, the newest return's version of each."""

    def __init__(self, folder: Path) -> None:
        self.cin: dict[tuple[str, dt.date], tuple[int, dt.date | None, bool]] = {}
        self.cp: dict[tuple[str, dt.date], tuple[int, dt.date | None]] = {}
        self.cla: dict[tuple[str, dt.date], tuple[int, dt.date | None]] = {}
        for path in sorted((folder / "cin_census").glob("*.xml")):
            root = etree.parse(str(path)).getroot()
            year = int(root.findtext("Header/CollectionDetails/Year") or 0)
            for child in root.iter("Child"):
                cid = norm_id(child.findtext("ChildIdentifiers/LAchildID")) or ""
                for ep in child.findall("CINdetails"):
                    start = _iso(ep.findtext("CINreferralDate"))
                    nfa = (ep.findtext("ReferralNFA") or "").strip().lower() in ("1", "true")
                    if start and self.cin.get((cid, start), (0,))[0] <= year:
                        self.cin[(cid, start)] = (year, _iso(ep.findtext("CINclosureDate")), nfa)
                    for plan in ep.findall("ChildProtectionPlans"):
                        s = _iso(plan.findtext("CPPstartDate"))
                        if s and self.cp.get((cid, s), (0,))[0] <= year:
                            self.cp[(cid, s)] = (year, _iso(plan.findtext("CPPendDate")))
        for sub in sorted((folder / "ssda903").iterdir()):
            for r in rows(sub / "episodes.csv"):
                cid, start = norm_id(r["CHILD"]) or "", dmy(r["DECOM"])
                if self.cla.get((cid, start), (0,))[0] <= int(sub.name):
                    self.cla[(cid, start)] = (int(sub.name), dmy(r["DEC"]) if r["DEC"] else None)

    def care_periods(self) -> dict[str, list[tuple[dt.date, dt.date | None]]]:
        """Episodes chained end to start (a gap starts a new period), per child."""
        by_child: dict[str, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
        for (c, s), (_y, e) in self.cla.items():
            by_child[c].append((s, e))
        periods: dict[str, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
        for child, spans in by_child.items():
            start: dt.date | None = None
            reach = dt.date.min
            for s, e in sorted(spans):
                far = e or dt.date.max
                if start is None or s > reach:
                    if start is not None:
                        periods[child].append((start, None if reach == dt.date.max else reach))
                    start, reach = s, far
                else:
                    reach = max(reach, far)
            if start is not None:
                periods[child].append((start, None if reach == dt.date.max else reach))
        return periods

    def cohorts(self, ref: dt.date) -> tuple[dict[str, set[str]], dict[str, str]]:
        """(child cohorts by name, each child's DfE group at ``ref``)."""
        year_start, year_before = dt.date(ref.year - 1, 4, 1), dt.date(ref.year - 1, 3, 31)
        ever_start = dt.date(ref.year - 6, 4, 1)
        cin = [(c, s, e) for (c, s), (_y, e, nfa) in self.cin.items() if not nfa]
        cp = [(c, s, e) for (c, s), (_y, e) in self.cp.items()]
        care = [(c, s, e) for c, ps in self.care_periods().items() for s, e in ps]
        group: dict[str, str] = {}
        for c, s, e in care:
            if _open(s, e, ref):
                group[c] = "CLA 12 months" if s <= year_before else "CLA under 12 months"
        for c, s, e in cp:
            if _open(s, e, ref):
                group.setdefault(c, "CPPO")
        for c, s, e in cin:
            if _open(s, e, ref):
                group.setdefault(c, "CINO")
        in_year = {c for c, s, e in (*cin, *cp, *care) if _meets(s, e, year_start, ref)}
        named = {g: {c for c, x in group.items() if x == g} for g in ("CINO", "CPPO")}
        named["CLA 12 months"] = {c for c, x in group.items() if x == "CLA 12 months"}
        named["CIN at any point in the year"] = in_year
        named["Ever CIN last 6 years"] = {c for c, s, e in cin if _meets(s, e, ever_start, ref)}
        return named, group


ETHNIC_GROUPS = {
    "W": "White",
    "M": "Mixed",
    "A": "Asian",
    "B": "Black",
    "O": "Any other ethnic group",
}
SEN_NAMES = {"N": "No SEN", "K": "SEN support", "E": "EHC plan"}


def breakdown_labels(p: dict[str, object]) -> dict[str, str]:
    """A population row's label in every breakdown (docs/marts.md)."""
    eth = str(p.get("ethnicity") or "").strip().upper()
    if eth == "CHNE":
        ethnic = "Asian"
    elif eth in ("", "REFU", "NOBT"):
        ethnic = "Unclassified"
    else:
        ethnic = ETHNIC_GROUPS.get(eth[0], "Unclassified")
    sen = str(p.get("sen") or "").strip().upper()
    fsm, has_sen = bool(p.get("fsm")), sen in ("K", "E")
    overlap = (
        "FSM and SEN"
        if fsm and has_sen
        else "FSM, no SEN"
        if fsm
        else "SEN, not FSM"
        if has_sen
        else "Neither FSM nor SEN"
    )
    sex = str(p.get("sex") or "").strip().upper()
    return {
        "total": "All",
        "school": str(p.get("laestab") or "Unknown"),
        "phase": str(p.get("phase") or "Unknown"),
        "nc_year": str(p.get("nc_year") or "Unknown").removesuffix(".0"),
        "sex": {"M": "Male", "F": "Female"}.get(sex, "Unknown"),
        "ethnicity": ethnic,
        "sen": SEN_NAMES.get(sen, "Unknown"),
        "fsm": "FSM" if fsm else "Not FSM",
        "social_care_group": str(p.get("group") or "Not in a group"),
        "fsm_sen": overlap,
    }


GROUP_ORDER = ("CLA 12 months", "CLA under 12 months", "CPPO", "CINO")


def independent_marts(
    folder: Path, links: dict[str, set[str]], end_year: int = 2025
) -> dict[tuple[str, str, str, str, str], tuple[float, float]]:
    """Every (period, cohort, breakdown, value, measure) -> (numerator, denominator).

    ``links`` maps a UPN to the LA child IDs it is linked to (the pipeline's stored links:
    linkage is tested in tests/linkage, so this checks cohorts and measures alone).
    """
    ref = dt.date(end_year, 3, 31)
    child_cohorts, child_group = SocialCareFiles(folder).cohorts(ref)

    def cohorts_of(upn: str | None) -> list[str]:
        children = links.get(upn or "", set())
        named = [n for n, members in child_cohorts.items() if children & members]
        ever = "Ever CIN last 6 years" in named
        return [*named, "Not CIN in last 6 years"] if not ever else named

    def group_of(upn: str | None) -> str | None:
        found = [child_group[c] for c in links.get(upn or "", set()) if c in child_group]
        return min(found, key=GROUP_ORDER.index) if found else None

    sc = folder / "school_census"
    phase = {r["laestab"]: r["phase"] for r in rows(folder / "establishments.csv")}
    census_day = dt.date(end_year, 1, 16)  # third Thursday of January 2025
    six_years_before = dt.date(end_year - 6, 1, 16)

    def key_of(upn: str | None, school: str, enrolment: str) -> str:
        return upn or f"enrolment:{school}:{enrolment}"

    # Every enrolment's pupil, per census term; FSM periods by pupil; exclusions by pupil.
    pupil_of: dict[tuple[str, str, str], str] = {}
    first: dict[tuple[str, str], dict[str, str | None]] = {}
    possible: dict[tuple[str, str, str], float] = defaultdict(float)
    for term in YEAR_TERMS:
        for table, idcol in (
            ("pupilonroll", "pupilonrolltableid"),
            ("pupilnolongeronroll", "pupilnolongeronrolltableid"),
        ):
            for r in rows(sc / f"{end_year}_{term}_{table}.csv"):
                school, enrolment = r["NativeId"].strip(), r[idcol].strip()
                upn = upn_ok(r["upn"])
                pupil_of[(term, school, enrolment)] = key_of(upn, school, enrolment)
                first.setdefault(
                    (school, enrolment),
                    {
                        "upn": upn,
                        # DfE defines the absence population by age: NC year from the date
                        # of birth (below), not the census's (a leaver's row has none, the
                        # autumn roll has next year's).
                        "nc_year": nc_year_by_age(census_date(r["dob"]), end_year)
                        if r.get("dob", "").strip()
                        else None,
                        "sex": r.get("sex"),
                        "ethnicity": r.get("ethnicity"),
                        "sen": r.get("senprovision"),
                    },
                )
                for column in ("termlysessionspossible", "summerhalfterm2sessionspossible"):
                    if (r.get(column) or "").strip():
                        possible[(term, school, enrolment)] += float(r[column])
    fsm: set[str] = set()
    fsm6: set[str] = set()
    for path in sc.glob(f"{end_year}_*_fsmperiod*.csv"):
        term = path.name.split("_")[1]
        for r in rows(path):
            pupil = pupil_of.get((term, r["NativeId"].strip(), r["pupilonrolltableid"].strip()))
            start = census_date(r["fsmstartdate"])
            end = census_date(r["fsmenddate"]) if r["fsmenddate"].strip() else None
            if pupil and start <= census_day and (end is None or end >= census_day):
                fsm.add(pupil)
            if pupil and start <= census_day and (end is None or end >= six_years_before):
                fsm6.add(pupil)
    suspensions: dict[str, int] = defaultdict(int)
    permanent: set[str] = set()
    for term in YEAR_TERMS:
        for side, idcol in (("on", "pupilonrolltableid"), ("off", "pupilnolongeronrolltableid")):
            for r in rows(sc / f"{end_year}_{term}_termlyexclusions{side}roll.csv"):
                pupil = pupil_of.get((term, r["NativeId"].strip(), r[idcol].strip()))
                category = r["category"].strip().upper()
                if pupil and category in ("SUSP", "FIXD"):
                    suspensions[pupil] += 1
                elif pupil and category == "PERM":
                    permanent.add(pupil)

    out: dict[tuple[str, str, str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])

    def add(
        period: str,
        row: dict[str, object],
        parts: dict[str, tuple[float, float]],
        only_total: bool = False,
    ) -> None:
        labels = breakdown_labels(row)
        upn = row.get("upn")
        for cohort in [*cohorts_of(upn if isinstance(upn, str) else None), "All pupils"]:
            for breakdown, value in labels.items():
                if only_total and breakdown != "total":
                    continue
                for measure, (n, d) in parts.items():
                    cell = out[(period, cohort, breakdown, value, measure)]
                    cell[0] += n
                    cell[1] += d

    # Absence: enrolments (six half terms), NC years 1-11 in primary, secondary and special.
    missed: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for term in YEAR_TERMS:
        for path in sc.glob(f"{end_year}_{term}_*sessiondetails*.csv"):
            for r in rows(path):
                idcol = next(c for c in r if c.endswith("rolltableid"))
                code = r["attendancereason"].strip().upper()
                k = (term, r["NativeId"].strip(), r[idcol].strip())
                if code in {"C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "J"}:
                    missed[k][0] += float(r["sessions"])
                elif code in {"G", "N", "O", "U"}:
                    missed[k][1] += float(r["sessions"])
    year_label = f"{end_year - 1}/{str(end_year)[-2:]}"
    for (school, enrolment), details in first.items():
        if details["nc_year"] not in {str(y) for y in range(1, 12)}:
            continue
        if phase.get(school) not in HEADLINE_PHASES:
            continue
        upn = details["upn"]
        pupil = key_of(upn, school, enrolment)
        row: dict[str, object] = {
            **details,
            "laestab": school,
            "phase": phase.get(school),
            "fsm": pupil in fsm,
            "group": group_of(upn),
        }
        for period, terms in (
            (year_label, YEAR_TERMS),
            *((f"{year_label} {TERM_OF_CENSUS[t]} term", (t,)) for t in YEAR_TERMS),
        ):
            poss = sum(possible.get((t, school, enrolment), 0.0) for t in terms)
            auth = sum(missed.get((t, school, enrolment), [0.0, 0.0])[0] for t in terms)
            unauth = sum(missed.get((t, school, enrolment), [0.0, 0.0])[1] for t in terms)
            if poss <= 0:
                continue
            share = (auth + unauth) / poss
            parts = {
                "enrolments": (1, 1),
                "overall_absence": (auth + unauth, poss),
                "authorised_absence": (auth, poss),
                "unauthorised_absence": (unauth, poss),
                "persistent_absence": (share >= 0.1, 1),
                "severe_absence": (share >= 0.5, 1),
            }
            add(period, row, parts, only_total=period != year_label)

    # Spring census headcount: one row per pupil, the main registration first.
    spring: dict[str, dict[str, object]] = {}
    for r in sorted(
        rows(sc / f"{end_year}_spring_pupilonroll.csv"),
        key=lambda r: (r["enrolstatus"].strip() not in ("C", "M"), r["NativeId"].strip()),
    ):
        school, enrolment = r["NativeId"].strip(), r["pupilonrolltableid"].strip()
        upn = upn_ok(r["upn"])
        pupil = key_of(upn, school, enrolment)
        if pupil in spring:
            continue
        spring[pupil] = {
            "upn": upn,
            "laestab": school,
            "phase": phase.get(school),
            "nc_year": r["ncyearactual"].strip() or None,
            "sex": r["sex"],
            "ethnicity": r["ethnicity"],
            "sen": r["senprovision"],
            "fsm": pupil in fsm,
            "fsm6": pupil in fsm6,
            "group": group_of(upn),
        }
    for pupil, row in spring.items():
        sen = str(row["sen"] or "").strip().upper()
        add(
            year_label,
            row,
            {
                "pupils": (1, 1),
                "one_plus_suspension": (suspensions.get(pupil, 0) > 0, 1),
                "suspension_rate": (suspensions.get(pupil, 0), 1),
                "permanent_exclusion": (pupil in permanent, 1),
                "sen_support": (sen == "K", 1),
                "ehc_plan": (sen == "E", 1),
                "fsm": (bool(row["fsm"]), 1),
                "fsm6": (bool(row["fsm6"]), 1),
            },
        )
    by_upn = {str(p["upn"]): p for p in spring.values() if p["upn"]}

    def with_census(upn: str | None, school: str, nc_year: str) -> dict[str, object]:
        known = by_upn.get(upn or "", {})
        return {
            "upn": upn,
            "laestab": school,
            "phase": phase.get(school),
            "nc_year": nc_year,
            "sex": known.get("sex"),
            "ethnicity": known.get("ethnicity"),
            "sen": known.get("sen"),
            "fsm": known.get("fsm", False),
            "group": group_of(upn),
        }

    for r in rows(folder / f"attainment/ks2_{end_year}.csv"):
        flag = {
            k: r[k].strip() == "1"
            for k in ("ks2_read_exp", "ks2_writ_exp", "ks2_mat_exp", "ks2_rwm_exp")
        }
        add(
            year_label,
            with_census(upn_ok(r["upn"]), r["laestab"].strip(), "6"),
            {
                "ks2_pupils": (1, 1),
                "ks2_rwm_expected": (flag["ks2_rwm_exp"], 1),
                "ks2_reading_expected": (flag["ks2_read_exp"], 1),
                "ks2_writing_expected": (flag["ks2_writ_exp"], 1),
                "ks2_maths_expected": (flag["ks2_mat_exp"], 1),
            },
        )
    for r in rows(folder / f"attainment/ks4_{end_year}.csv"):
        p8 = r["p8score"].strip()
        add(
            year_label,
            with_census(upn_ok(r["upn"]), r["laestab"].strip(), "11"),
            {
                "ks4_pupils": (1, 1),
                "ks4_attainment8": (float(r["att8"] or 0), 1),
                "ks4_basics_94": (r["l2basics_94"].strip() == "1", 1),
                "ks4_basics_95": (r["l2basics_95"].strip() == "1", 1),
                "ks4_progress8": (float(p8) if p8 else 0.0, 1 if p8 else 0),
            },
        )
    return {k: (v[0], v[1]) for k, v in out.items()}
