"""The walking skeleton's slice, checked against an independent calculation from the files.

Everything here re-derives the figures in plain Python straight from the generated files
(lxml for the CIN census, csv for the rest), following DfE's definitions as written in
docs/domain.md, and compares them with what the pipeline put in the mart, to the session.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from cwsw.domain.upn import clean_upn, normalise_id
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

REF = dt.date(2025, 3, 31)
YEAR_BEFORE = dt.date(2024, 3, 31)
EVER6_START = dt.date(2019, 4, 1)
AUTHORISED = {"C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "J"}
UNAUTHORISED = {"G", "N", "O", "U"}
TERMS = ("2025_spring", "2025_summer", "2025_autumn")


def iso(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def uk(text: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip(), "%d/%m/%Y").date() if text else None
    except ValueError:
        return None


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def is_open(start: dt.date | None, end: dt.date | None, on: dt.date) -> bool:
    return start is not None and start <= on and (end is None or end > on)


def _nc_year_by_age(dob: str) -> str:
    born = uk(dob) if "/" in dob else _census_date(dob)
    if born is None:
        return ""
    age = 2024 - born.year - ((born.month, born.day) > (8, 31))
    return str(age - 4)


def _census_date(text: str) -> dt.date | None:
    """The flattened census's ``2014-Mar-05 00:00:00`` (or ISO)."""
    part = text.strip().split(" ")[0]
    try:
        return dt.datetime.strptime(part, "%Y-%b-%d").date()
    except ValueError:
        try:
            return dt.date.fromisoformat(part)
        except ValueError:
            return None


class Independent:
    """The slice's figures, computed from the files without any of the pipeline's code."""

    def __init__(self, data_dir: Path) -> None:
        self.child_upns: dict[str, set[str]] = defaultdict(set)
        self.cin: dict[tuple[str, dt.date], tuple[int, dt.date | None, bool]] = {}
        self.cp: dict[tuple[str, dt.date], tuple[int, dt.date | None]] = {}
        self.cla: dict[tuple[str, dt.date], tuple[int, dt.date | None]] = {}
        for path in sorted((data_dir / "cin_census").glob("*.xml")):
            self._read_cin(path)
        for folder in sorted((data_dir / "ssda903").iterdir()):
            self._read_903(folder, int(folder.name))
        self._read_school_census(data_dir)

    def _record_upn(self, child: str, upn: str | None) -> None:
        if upn:
            self.child_upns[child].add(upn)

    def _read_cin(self, path: Path) -> None:
        root = etree.parse(str(path)).getroot()
        year_text = root.findtext("Header/CollectionDetails/Year")
        assert year_text is not None
        year = int(year_text)
        for child in root.iter("Child"):
            child_id = normalise_id(child.findtext("ChildIdentifiers/LAchildID"))
            assert child_id
            self._record_upn(child_id, clean_upn(child.findtext("ChildIdentifiers/UPN")))
            for details in child.findall("CINdetails"):
                referral = iso(details.findtext("CINreferralDate"))
                nfa = (details.findtext("ReferralNFA") or "").strip().lower() in ("1", "true")
                key = (child_id, referral) if referral else None
                if key and (key not in self.cin or self.cin[key][0] <= year):
                    self.cin[key] = (year, iso(details.findtext("CINclosureDate")), nfa)
                for plan in details.findall("ChildProtectionPlans"):
                    start = iso(plan.findtext("CPPstartDate"))
                    if start and (
                        (child_id, start) not in self.cp or self.cp[(child_id, start)][0] <= year
                    ):
                        self.cp[(child_id, start)] = (year, iso(plan.findtext("CPPendDate")))

    def _read_903(self, folder: Path, year: int) -> None:
        for row in rows(folder / "header.csv"):
            self._record_upn(normalise_id(row["CHILD"]) or "", clean_upn(row["UPN"]))
        for row in rows(folder / "episodes.csv"):
            child, start = normalise_id(row["CHILD"]) or "", uk(row["DECOM"])
            if start and ((child, start) not in self.cla or self.cla[(child, start)][0] <= year):
                self.cla[(child, start)] = (year, uk(row["DEC"]))

    def _read_school_census(self, data_dir: Path) -> None:
        census = data_dir / "school_census"
        phase = {r["laestab"]: r["phase"] for r in rows(data_dir / "establishments.csv")}
        self.pupil_upns: set[str] = set()
        for path in census.glob("*_pupilonroll.csv"):
            self.pupil_upns |= {u for r in rows(path) if (u := clean_upn(r["upn"]))}
        for path in census.glob("*_pupilnolongeronroll.csv"):
            self.pupil_upns |= {u for r in rows(path) if (u := clean_upn(r["upn"]))}
        details: dict[tuple[str, str], tuple[int, str | None, str]] = {}
        possible: dict[tuple[str, str], float] = defaultdict(float)
        for order, term in enumerate(TERMS):
            for table, id_column in (
                ("pupilonroll", "pupilonrolltableid"),
                ("pupilnolongeronroll", "pupilnolongeronrolltableid"),
            ):
                path = census / f"{term}_{table}.csv"
                for r in rows(path) if path.exists() else []:
                    key = (r["NativeId"].strip(), r[id_column].strip())
                    if key not in details or details[key][0] > order:
                        # DfE's absence population is by age: NC year = age on 31 August
                        # 2024 (the start of the year) less 4, whatever the census records.
                        # (an unreadable date of birth: the NC year the census records).
                        recorded = r.get("ncyearactual") or r.get("ncyearleaving") or ""
                        nc_year = _nc_year_by_age(r.get("dob", "")) or recorded.strip()
                        details[key] = (order, clean_upn(r["upn"]), nc_year)
                    for column in ("termlysessionspossible", "summerhalfterm2sessionspossible"):
                        if r.get(column, "").strip():
                            possible[key] += float(r[column])
        missed: dict[tuple[str, str], float] = defaultdict(float)
        for term in TERMS:
            for path in census.glob(f"{term}_*sessiondetails*.csv"):
                for r in rows(path):
                    id_column = next(c for c in r if c.endswith("rolltableid"))
                    code = r["attendancereason"].strip().upper()
                    if code in AUTHORISED | UNAUTHORISED:
                        missed[(r["NativeId"].strip(), r[id_column].strip())] += float(
                            r["sessions"]
                        )
        self.enrolments = [
            (key, upn, missed[key], possible[key])
            for key, (_order, upn, nc_year) in details.items()
            if nc_year in {str(y) for y in range(1, 12)}
            and phase.get(key[0]) in ("Primary", "Secondary", "Special")
            and possible[key] > 0
        ]

    def group_at_reference(self) -> dict[str, str]:
        groups: dict[str, str] = {}
        cin_open = {
            c for (c, s), (_y, e, nfa) in self.cin.items() if not nfa and is_open(s, e, REF)
        }
        cp_open = {c for (c, s), (_y, e) in self.cp.items() if is_open(s, e, REF)}
        by_child: dict[str, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
        for (c, s), (_y, e) in self.cla.items():
            by_child[c].append((s, e))
        for child, episodes in by_child.items():
            period_start, reach = None, None
            for start, end in sorted(episodes):
                far = end or dt.date.max
                # period_start and reach are set together: both None only before the first
                if period_start is None or reach is None or start > reach:
                    period_start = start
                reach = far if reach is None else max(reach, far)
                if is_open(start, end, REF):
                    groups[child] = "CLA 12 months" if period_start <= YEAR_BEFORE else "CLA<12"
        for child in cp_open - groups.keys():
            groups[child] = "CPPO"
        for child in cin_open - groups.keys():
            groups[child] = "CINO"
        return groups

    def ever6(self) -> set[str]:
        return {
            c
            for (c, s), (_y, e, nfa) in self.cin.items()
            if not nfa and s <= REF and (e is None or e >= EVER6_START)
        }

    def figures(self, linked: dict[str, str]) -> dict[str, dict[str, float]]:
        """The figures given the child-pupil links (UPN -> LA child ID).

        Linkage is measured against the synthetic truth in tests/linkage; here the links the
        pipeline stored are the input, so that this checks cohorts and measures alone.
        """
        groups, ever = self.group_at_reference(), self.ever6()
        cohorts: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for _key, upn, missed, possible in self.enrolments:
            child = linked.get(upn or "")
            cohorts["All pupils"].append((missed, possible))
            if child and groups.get(child) in ("CINO", "CPPO", "CLA 12 months"):
                cohorts[groups[child]].append((missed, possible))
            in_ever = child is not None and child in ever
            key = "Ever CIN last 6 years" if in_ever else "Not CIN in last 6 years"
            cohorts[key].append((missed, possible))
        return {
            name: {
                "enrolments": len(e),
                "overall_absence": sum(m for m, _ in e),
                "sessions_possible": sum(p for _, p in e),
                "persistent_absence": sum(1 for m, p in e if m / p >= 0.10),
                "severe_absence": sum(1 for m, p in e if m / p >= 0.50),
            }
            for name, e in cohorts.items()
        }


@pytest.fixture(scope="module")
def mart(built_la: BuiltLA) -> dict[tuple[str, str], tuple[float, float]]:
    with Warehouse.open(built_la.warehouse_path) as warehouse:
        mart = warehouse.ibis.table("mart_measure")
        frame = mart.filter((mart.period_type == "year") & (mart.breakdown == "total")).execute()
    return {(r.cohort, r.measure): (r.numerator, r.denominator) for r in frame.itertuples()}


def test_slice_figures_equal_an_independent_calculation_from_the_files(
    built_la: BuiltLA, mart: dict[tuple[str, str], tuple[float, float]]
) -> None:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        links = warehouse.ibis.table("child_pupil_link").execute()
    linked = dict(zip(links.upn, links.la_child_id, strict=True))
    assert len(linked) == len(links), "a pupil linked to two children"
    expected = Independent(built_la.data_dir).figures(linked)
    assert set(expected) == {
        "All pupils",
        "CINO",
        "CPPO",
        "CLA 12 months",
        "Ever CIN last 6 years",
        "Not CIN in last 6 years",
    }
    for cohort, figures in expected.items():
        n = figures["enrolments"]
        assert n > 5, f"{cohort} too small to test"
        assert mart[(cohort, "enrolments")] == (n, n)
        assert mart[(cohort, "overall_absence")] == (
            pytest.approx(figures["overall_absence"]),
            pytest.approx(figures["sessions_possible"]),
        )
        assert mart[(cohort, "persistent_absence")] == (figures["persistent_absence"], n)
        assert mart[(cohort, "severe_absence")] == (figures["severe_absence"], n)


def test_groups_partition_and_nest_as_defined(
    mart: dict[tuple[str, str], tuple[float, float]],
) -> None:
    enrolments = {
        cohort: num for (cohort, measure), (num, _d) in mart.items() if measure == "enrolments"
    }
    everyone = enrolments["All pupils"]
    assert enrolments["Ever CIN last 6 years"] + enrolments["Not CIN in last 6 years"] == everyone
    at_31_march = enrolments["CINO"] + enrolments["CPPO"] + enrolments["CLA 12 months"]
    # Everyone in a group at 31 March was in need within the last six years.
    assert at_31_march <= enrolments["Ever CIN last 6 years"] < everyone
