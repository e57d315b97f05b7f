"""Children missing from school rolls, checked three ways.

1. Compulsory school age against the statute, written here a second way (Education Act 1996
   s8, the start and leaving date orders) and compared day by day.
2. Hand-built warehouses, each case reasoned from the definition (``docs/missing-from-roll.md``).
3. A synthetic LA with leavers who join no other school: the list equals a calculation made
   here from the raw files (CIN census XML with lxml, SSDA903 and school census CSVs with
   pandas, the true links from ``truth/``; none of cwsw's readers), and it finds every leaver
   in ``truth/no_next_school.csv`` who has a social worker and is of compulsory school age.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from lxml import etree

from cwsw.cohort.missing_from_roll import (
    COLUMNS,
    LEFT_NO_NEXT_SCHOOL,
    ON_NO_ROLL,
    NoCensusHeld,
    age_on,
    compulsory_school_age_birth_dates,
    compulsory_school_age_ends,
    compulsory_school_age_starts,
    missing_from_roll,
)
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.schema import TABLES, arrow_schema, columns_arrow_schema

D = dt.date
ON = D(2025, 3, 31)
LOOKED_AFTER, CP_PLAN, IN_NEED = "Looked after", "Child protection plan", "Child in need"


# --- 1. compulsory school age -------------------------------------------------------------------


def birthday(born: dt.date, years: int) -> dt.date:
    """The birthday at ``years``; 29 February's is 1 March in a common year."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return D(born.year + years, 3, 1)


def of_compulsory_school_age(born: dt.date, on: dt.date) -> bool:
    """Education Act 1996 s8: from the first of 31 March, 31 August and 31 December on or after
    the fifth birthday (SI 1998/1607) to the last Friday in June (SI 1997/1970) of the school
    year, September to August, in which the child turns 16."""
    fifth = birthday(born, 5)
    start = min(
        day
        for year in (fifth.year, fifth.year + 1)
        for day in (D(year, 3, 31), D(year, 8, 31), D(year, 12, 31))
        if day >= fifth
    )
    sixteenth = birthday(born, 16)
    summer = sixteenth.year + (1 if sixteenth.month >= 9 else 0)
    fridays = [D(summer, 6, d) for d in range(1, 31) if D(summer, 6, d).isoweekday() == 5]
    return start <= on <= fridays[-1]


def test_compulsory_school_age_by_the_act() -> None:
    """Named cases, then every date of birth on dates around each boundary and a spread of
    ordinary dates: the module's window of birth dates agrees with the Act read a second way."""
    assert compulsory_school_age_starts(D(2019, 12, 31)) == D(2024, 12, 31)  # on the day
    assert compulsory_school_age_starts(D(2020, 1, 1)) == D(2025, 3, 31)
    assert compulsory_school_age_starts(D(2020, 2, 29)) == D(2025, 3, 31)
    assert compulsory_school_age_starts(D(2020, 4, 1)) == D(2025, 8, 31)
    assert compulsory_school_age_starts(D(2020, 9, 1)) == D(2025, 12, 31)
    assert compulsory_school_age_ends(D(2008, 8, 31)) == D(2024, 6, 28)  # last Friday, June 2024
    assert compulsory_school_age_ends(D(2008, 9, 1)) == D(2025, 6, 27)
    assert compulsory_school_age_ends(D(2009, 6, 27)) == D(2025, 6, 27)  # 16 on the day

    dates = {D(2023, 1, 1) + dt.timedelta(days=d) for d in range(0, 4 * 365, 17)}
    for year in (2023, 2024, 2025, 2026):
        for month, day in ((3, 31), (8, 31), (12, 31), (6, 30)):
            edge = D(year, month, day)
            dates |= {edge - dt.timedelta(days=1), edge, edge + dt.timedelta(days=1)}
        fridays = [D(year, 6, d) for d in range(1, 31) if D(year, 6, d).isoweekday() == 5]
        dates |= {fridays[-1], fridays[-1] + dt.timedelta(days=1)}
    for on in sorted(dates):
        earliest, latest = compulsory_school_age_birth_dates(on)
        # Every day of the years around each end, every tenth day between.
        births = {D(on.year - 18, 1, 1) + dt.timedelta(days=d) for d in range(0, 15 * 366, 10)}
        for first_year in (on.year - 18, on.year - 6):
            start = D(first_year, 1, 1)
            births |= {start + dt.timedelta(days=d) for d in range(3 * 366)}
        for born in sorted(births):
            assert (earliest <= born <= latest) == of_compulsory_school_age(born, on), (on, born)


def test_age_in_completed_years() -> None:
    con = ibis.duckdb.connect()
    born = ibis.literal(D(2020, 2, 29))
    ages = {on: con.execute(age_on(born, on)) for on in (D(2025, 2, 28), D(2025, 3, 1))}
    assert ages == {D(2025, 2, 28): 4, D(2025, 3, 1): 5}
    assert con.execute(age_on(ibis.literal(D(2008, 9, 1)), D(2025, 8, 31))) == 16


# --- 2. hand-built warehouses -------------------------------------------------------------------

Y8 = D(2012, 5, 1)  # aged 12 on 31 March 2025, Year 8


SEPTEMBER_2020 = D(2020, 9, 1)
JUNE_2024 = D(2024, 6, 1)


def roll(term: str, child: str, school: str, *, entry: dt.date = SEPTEMBER_2020) -> dict:
    """An on-roll row of pupil U<child> at ``school`` (enrolment <child>-<school>)."""
    return {
        "census_term": term,
        "laestab": school,
        "enrolment_id": f"{child}-{school}",
        "on_roll": True,
        "upn": f"U{child}",
        "entry_date": entry,
    }


def left(term: str, child: str, school: str, leaving: dt.date, **kw: dt.date) -> dict:
    """A no-longer-on-roll row: the same enrolment, left on ``leaving``."""
    return roll(term, child, school, **kw) | {"on_roll": False, "leaving_date": leaving}


def in_need(child: str, referral: dt.date = JUNE_2024, **kw: object) -> dict:
    return {"la_child_id": child, "collection_year": 2025, "referral_date": referral} | kw


def born(child: str, birth: dt.date | None) -> dict:
    return {"la_child_id": child, "collection_year": 2025, "birth_date": birth}


# Censuses: spring 2024 (18 January), autumn 2024 (3 October), spring 2025 (16 January),
# summer 2025 (15 May). On 31 March 2025 the first three are held; spring 2025 is the latest.
SP24, AU24, SP25, SU25 = "2024_spring", "2024_autumn", "2025_spring", "2025_summer"
AGE_CASES = {  # of compulsory school age on 31 March 2025?
    "B1": (D(2008, 8, 31), False),  # 16 in 2023/24: ended on 28 June 2024
    "B2": (D(2008, 9, 1), True),  # 16 in 2024/25: until 27 June 2025
    "B3": (D(2019, 12, 31), True),  # 5 on 31 December 2024, a prescribed day: from then
    "B4": (D(2020, 1, 1), True),  # 5 on 1 January 2025: from 31 March 2025
    "B5": (D(2020, 4, 1), False),  # 5 on 1 April 2025: from 31 August 2025
    "B6": (D(2020, 2, 29), True),  # 5 on 1 March 2025: from 31 March 2025
    "B7": (None, False),  # no date of birth: not listed
}
HAND_BUILT: dict[str, list[dict]] = {
    "cin_episode": [
        *(in_need(c) for c in ("A1", "A2", "A3", "A6", "A7", "A8", "A9", "A10", "A13")),
        in_need("A4", D(2023, 6, 1), closure_date=D(2024, 1, 31)),  # previously: not now
        in_need("A5", referral_nfa=True),  # a referral with no further action
        *(in_need(c) for c in AGE_CASES),
    ],
    "cp_plan": [{"la_child_id": "A6", "collection_year": 2025, "start_date": D(2024, 7, 1)}],
    "cla_episode": [{"la_child_id": "A12", "collection_year": 2025, "start_date": D(2023, 1, 1)}],
    "cin_child": [
        *(born(c, Y8) for c in ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10")),
        born("A13", Y8),
        *(born(c, birth) for c, (birth, _) in AGE_CASES.items()),
    ],
    "cla_child": [born("A12", D(2011, 10, 2))],  # aged 13
    "pupil_enrolment": [
        # A1 left in November with no next school.
        roll(AU24, "A1", "S1"),
        left(SP25, "A1", "S1", D(2024, 11, 10)),
        # A2 left and joined another school a week later.
        roll(AU24, "A2", "S1"),
        left(SP25, "A2", "S1", D(2024, 11, 10)),
        roll(SP25, "A2", "S2", entry=D(2024, 11, 18)),
        # A3 on roll; A4 (previously had a social worker) and A5 (an NFA referral) left.
        roll(SP25, "A3", "S1"),
        left(SP25, "A4", "S1", D(2024, 11, 10)),
        left(SP25, "A5", "S1", D(2024, 11, 10)),
        # A7 on two rolls, left one: still on the other.
        roll(AU24, "A7", "S1"),
        roll(AU24, "A7", "S2", entry=D(2024, 1, 8)),
        left(SP25, "A7", "S1", D(2024, 12, 1)),
        roll(SP25, "A7", "S2", entry=D(2024, 1, 8)),
        # A8 on a roll in the autumn, on no census since, and no leaving date recorded.
        roll(AU24, "A8", "S2"),
        # A9 left more than a year before the date.
        left(SP24, "A9", "S1", D(2024, 1, 10)),
        # A10 left in December; back on the same roll in the summer census (held from 15 May).
        left(SP25, "A10", "S1", D(2024, 12, 1)),
        roll(SU25, "A10", "S1", entry=D(2025, 4, 22)),
        # A13 moved school, then left the second with no next school.
        left(SP25, "A13", "S1", D(2024, 11, 10)),
        left(SP25, "A13", "S2", D(2024, 12, 1), entry=D(2024, 11, 18)),
        # A pupil linked to no child.
        roll(SP25, "X1", "S1"),
    ],
    "establishment": [{"laestab": "S1", "establishment_name": "Oak Primary School"}],
}
# A6 (CP plan) is linked to no pupil; A12 (looked after) to a pupil on no census.
LINKED = ["A1", "A2", "A3", "A4", "A5", "A7", "A8", "A9", "A10", "A12", "A13"]


def warehouse(tables: dict[str, list[dict]], linked: list[str] | None) -> ibis.BaseBackend:
    """An in-memory DuckDB warehouse with every canonical table (empty unless given) and, if
    ``linked`` is not None, a child-pupil link of each child to pupil U<child>."""
    con = ibis.duckdb.connect()
    for name in TABLES:
        con.create_table(name, pa.Table.from_pylist(tables.get(name, []), arrow_schema(name)))
    if linked is not None:
        schema = columns_arrow_schema({"la_child_id": "VARCHAR", "upn": "VARCHAR"})
        rows = [{"la_child_id": c, "upn": f"U{c}"} for c in linked]
        con.create_table("child_pupil_link", pa.Table.from_pylist(rows, schema))
    return con


@pytest.fixture(scope="module")
def hand_built() -> Iterator[ibis.BaseBackend]:
    con = warehouse(HAND_BUILT, LINKED)
    yield con
    con.disconnect()


def listed(con: ibis.BaseBackend, on: dt.date) -> dict[str, dict[str, object]]:
    table = con.to_pyarrow(missing_from_roll(con, on))
    assert tuple(table.column_names) == COLUMNS
    records = table.to_pylist()  # dates as dates, missing values as None
    children = [r.pop("la_child_id") for r in records]
    assert children == sorted(set(children))  # one row each, in ID order
    return dict(zip(children, records, strict=True))


def row(
    status: str,
    birth: dt.date,
    age: int,
    reason: str,
    school: str | None = None,
    name: str | None = None,
    leaving: dt.date | None = None,
    linked: bool = True,
) -> dict[str, object]:
    return {
        "social_care_status": status,
        "birth_date": birth,
        "age": age,
        "reason": reason,
        "last_laestab": school,
        "last_school_name": name,
        "leaving_date": leaving,
        "linked": linked,
    }


def test_hand_built_list_on_31_march(hand_built: ibis.BaseBackend) -> None:
    oak = "Oak Primary School"
    assert listed(hand_built, ON) == {
        "A1": row(IN_NEED, Y8, 12, LEFT_NO_NEXT_SCHOOL, "S1", oak, D(2024, 11, 10)),
        "A6": row(CP_PLAN, Y8, 12, ON_NO_ROLL, linked=False),
        "A8": row(IN_NEED, Y8, 12, ON_NO_ROLL, "S2"),  # S2's name is not known
        "A9": row(IN_NEED, Y8, 12, ON_NO_ROLL, "S1", oak, D(2024, 1, 10)),  # over a year ago
        "A10": row(IN_NEED, Y8, 12, LEFT_NO_NEXT_SCHOOL, "S1", oak, D(2024, 12, 1)),
        "A12": row(LOOKED_AFTER, D(2011, 10, 2), 13, ON_NO_ROLL),
        "A13": row(IN_NEED, Y8, 12, LEFT_NO_NEXT_SCHOOL, "S2", None, D(2024, 12, 1)),
        "B2": row(IN_NEED, D(2008, 9, 1), 16, ON_NO_ROLL, linked=False),
        "B3": row(IN_NEED, D(2019, 12, 31), 5, ON_NO_ROLL, linked=False),
        "B4": row(IN_NEED, D(2020, 1, 1), 5, ON_NO_ROLL, linked=False),
        "B6": row(IN_NEED, D(2020, 2, 29), 5, ON_NO_ROLL, linked=False),
    }
    assert {c for c, (_, of_age) in AGE_CASES.items() if of_age} <= set(listed(hand_built, ON))


def test_hand_built_list_moves_with_the_date(hand_built: ibis.BaseBackend) -> None:
    """The census held and the ages change with the date."""
    ages = {
        D(2024, 12, 30): {"B2"},  # B3 starts the next day
        D(2024, 12, 31): {"B2", "B3"},
        D(2025, 3, 30): {"B2", "B3"},  # B4 and B6 start on 31 March
        D(2025, 6, 27): {"B2", "B3", "B4", "B6"},  # B2's last day
        D(2025, 6, 28): {"B3", "B4", "B6"},
        D(2025, 8, 31): {"B3", "B4", "B5", "B6"},
    }
    for on, expected in ages.items():
        assert {c for c in listed(hand_built, on) if c.startswith("B")} == expected, on
    # On 31 December 2024 the autumn census is the latest held: A1, A2, A7 and A8 were on
    # roll then; A3 (first seen in spring), A9 (left in January) and A13 are on none.
    assert {c for c in listed(hand_built, D(2024, 12, 31)) if c.startswith("A")} == {
        "A3",
        "A6",
        "A9",
        "A10",
        "A12",
        "A13",
    }
    # From 15 May the summer census is held: A10 is back on a roll there; the others who
    # were in the spring census are on no roll in the summer one.
    may = listed(hand_built, D(2025, 5, 15))
    assert "A10" not in may
    assert {c for c in may if c.startswith("A")} == {
        "A1",
        "A2",
        "A3",
        "A6",
        "A7",
        "A8",
        "A9",
        "A12",
        "A13",
    }
    assert may["A2"]["reason"] == ON_NO_ROLL and may["A2"]["last_laestab"] == "S2"
    assert may["A1"]["reason"] == LEFT_NO_NEXT_SCHOOL


def test_refused_without_a_census_or_a_link(hand_built: ibis.BaseBackend) -> None:
    with pytest.raises(NoCensusHeld, match=r"no school census loaded .* 2024-01-17"):
        missing_from_roll(hand_built, D(2024, 1, 17))
    unlinked = warehouse(HAND_BUILT, None)
    with pytest.raises(NoCensusHeld, match="cwsw link"):
        missing_from_roll(unlinked, ON)
    unlinked.disconnect()


# --- 3. a synthetic local authority -------------------------------------------------------------

SEED = 20261216
PUPILS = 5_000
# Far above the default, so that enough leavers have a social worker to test on.
NO_NEXT_SCHOOL_RATE = 0.25
CENSUS_DAYS = {"spring": D(2025, 1, 16), "summer": D(2025, 5, 15), "autumn": D(2025, 10, 2)}
DATES = (D(2025, 3, 31), D(2025, 6, 30), D(2025, 10, 31))
MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun"), 1)} | {
    m: i for i, m in enumerate(("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 7)
}


@dataclass(frozen=True)
class SyntheticLA:
    folder: Path
    warehouse: Path


@pytest.fixture(scope="module")
def synthetic_la(tmp_path_factory: pytest.TempPathFactory) -> SyntheticLA:
    """A small synthetic LA with no faults (so the true links are the links), loaded and
    linked as ``tests/conftest.py``'s ``built_la`` is."""
    from cwsw import pipeline
    from cwsw.synth import generate
    from cwsw.warehouse import load
    from tests.conftest import linkage_settings

    home = tmp_path_factory.mktemp("missing_from_roll")
    summary = generate(
        home / "la",
        seed=SEED,
        pupils=PUPILS,
        faults="none",
        no_next_school_rate=NO_NEXT_SCHOOL_RATE,
    )
    assert summary.left_no_next_school > 0
    with Warehouse.open(home / "warehouse.duckdb") as store:
        results = load.ingest(store, [home / "la"])
        assert not [r for r in results if r.status == "failed"]
        pipeline.link(store, linkage_settings(home))
    return SyntheticLA(home / "la", home / "warehouse.duckdb")


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    text = "" if found is None or found.text is None else found.text.strip()
    return text or None


def _iso(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _dmy(value: object) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    day, month, year = value.split("/")
    return D(int(year), int(month), int(day))


def _census_date(value: object) -> dt.date | None:
    """The flattened census's ``2024-Nov-10 00:00:00``."""
    if not isinstance(value, str) or not value:
        return None
    year, month, day = value.split(" ")[0].split("-")
    return D(int(year), MONTHS[month], int(day))


@dataclass(frozen=True)
class CensusRow:
    """A row of a pupil on roll or no longer on roll, as the census file has it."""

    upn: str
    laestab: str
    enrolment: str
    entry: dt.date | None
    leaving: dt.date | None
    on_roll: bool


Spells = dict[tuple[str, dt.date], tuple[dt.date | None, int]]


@dataclass
class RawFiles:
    """What the raw files say, read here without cwsw."""

    # (child, start) -> (end, collection year), the newest return's version kept.
    cin: Spells
    cp: Spells
    care: Spells
    birth: dict[str, dt.date]
    upns: dict[str, set[str]]  # child -> true pupil UPNs
    census: dict[str, list[CensusRow]]  # season -> rows
    school_name: dict[str, str]


def _newest(spells: Spells, key: tuple[str, dt.date], end: dt.date | None, year: int) -> None:
    if key not in spells or spells[key][1] < year:
        spells[key] = (end, year)


def _csv(path: Path) -> list[dict[str, str]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")]


def read_raw(folder: Path) -> RawFiles:
    cin: Spells = {}
    cp: Spells = {}
    care: Spells = {}
    birth_cin: dict[str, tuple[int, dt.date]] = {}
    birth_903: dict[str, tuple[int, dt.date]] = {}
    for xml in sorted((folder / "cin_census").glob("*.xml")):
        doc = etree.parse(str(xml))
        year = int(_text(doc.getroot(), "Header/CollectionDetails/Year") or 0)
        for child in doc.iter("Child"):
            cid = _text(child, "ChildIdentifiers/LAchildID") or ""
            dob = _iso(_text(child, "ChildIdentifiers/PersonBirthDate"))
            if dob and (cid not in birth_cin or birth_cin[cid][0] < year):
                birth_cin[cid] = (year, dob)
            for episode in child.iter("CINdetails"):
                start = _iso(_text(episode, "CINreferralDate"))
                if start and _text(episode, "ReferralNFA") in ("0", "false"):
                    _newest(cin, (cid, start), _iso(_text(episode, "CINclosureDate")), year)
                for plan in episode.iter("ChildProtectionPlans"):
                    plan_start = _iso(_text(plan, "CPPstartDate"))
                    if plan_start:
                        _newest(cp, (cid, plan_start), _iso(_text(plan, "CPPendDate")), year)
    for year_dir in sorted((folder / "ssda903").iterdir()):
        year = int(year_dir.name)
        for episode in _csv(year_dir / "episodes.csv"):
            decom = _dmy(episode["DECOM"])
            if decom:
                _newest(care, (episode["CHILD"], decom), _dmy(episode["DEC"]), year)
        for header in _csv(year_dir / "header.csv"):
            dob = _dmy(header["DOB"])
            child = header["CHILD"]
            if dob and (child not in birth_903 or birth_903[child][0] < year):
                birth_903[child] = (year, dob)
    birth = {c: d for c, (_, d) in birth_903.items()} | {c: d for c, (_, d) in birth_cin.items()}

    upns: dict[str, set[str]] = defaultdict(set)
    for link in _csv(folder / "truth/child_pupil.csv"):
        if link["pupil_id"]:
            upns[link["la_child_id"]].add(link["upn"])

    census: dict[str, list[CensusRow]] = {}
    for season in CENSUS_DAYS:
        census[season] = [
            CensusRow(
                upn=r["upn"].strip(),
                laestab=r["NativeId"],
                enrolment=r[id_column],
                entry=_census_date(r["entrydate"]),
                leaving=_census_date(r.get("leavingdate", "")),
                on_roll=on_roll,
            )
            for table, id_column, on_roll in (
                ("pupilonroll", "pupilonrolltableid", True),
                ("pupilnolongeronroll", "pupilnolongeronrolltableid", False),
            )
            for r in _csv(folder / f"school_census/2025_{season}_{table}.csv")
        ]
    names = {r["laestab"]: r["establishment_name"] for r in _csv(folder / "establishments.csv")}
    return RawFiles(cin, cp, care, birth, upns, census, names)


def _open_on(spells: Spells, on: dt.date) -> set[str]:
    """Children with a spell begun by ``on`` and not ended by it (an end on the day is closed)."""
    return {
        c for (c, start), (end, _) in spells.items() if start <= on and (end is None or on < end)
    }


@dataclass
class Enrolment:
    """One enrolment over the censuses held: when it left, began, was last on a census, and
    last on a roll."""

    left: dt.date | None
    entry: dt.date | None
    seen: dt.date
    roll_day: dt.date | None = None


def _later(a: dt.date | None, b: dt.date) -> dt.date:
    return b if a is None else max(a, b)


def expected_list(raw: RawFiles, on: dt.date) -> dict[str, dict[str, object]]:
    """The list worked out from the raw files with the definition in docs/missing-from-roll.md."""
    looked_after, plan, need = (_open_on(s, on) for s in (raw.care, raw.cp, raw.cin))
    status = {c: IN_NEED for c in need} | {c: CP_PLAN for c in plan}
    status |= {c: LOOKED_AFTER for c in looked_after}
    held = {s: d for s, d in CENSUS_DAYS.items() if d <= on}
    latest = max(held, key=held.__getitem__)
    year_before = D(on.year - 1, on.month, on.day)
    out: dict[str, dict[str, object]] = {}
    for child in sorted(status):
        dob = raw.birth.get(child)
        if dob is None or not of_compulsory_school_age(dob, on):
            continue
        upns = raw.upns.get(child, set())
        # Every row of the child's pupils in the censuses held, by enrolment.
        enrolments: dict[tuple[str, str], Enrolment] = {}
        on_roll_now = False
        for season, day in held.items():
            for r in raw.census[season]:
                if r.upn not in upns:
                    continue
                rec = enrolments.setdefault((r.laestab, r.enrolment), Enrolment(None, r.entry, day))
                if r.leaving is not None and r.leaving <= on:
                    rec.left = _later(rec.left, r.leaving)
                rec.seen = max(rec.seen, day)
                if r.on_roll:
                    rec.roll_day = _later(rec.roll_day, day)
                    on_roll_now |= season == latest
        if on_roll_now:
            continue
        school: str | None = None
        leaving: dt.date | None = None
        left_no_next = False
        if enrolments:

            def last_seen(item: tuple[tuple[str, str], Enrolment]) -> tuple[int, str, str]:
                (laestab, enrolment), rec = item
                return (-(rec.left or rec.seen).toordinal(), laestab, enrolment)

            last_key, last = min(enrolments.items(), key=last_seen)
            school, leaving = last_key[0], last.left
            if leaving is not None and leaving > year_before:
                left_no_next = not any(
                    key != last_key
                    and (
                        (rec.entry is not None and rec.entry >= leaving)
                        or (rec.roll_day is not None and rec.roll_day >= leaving)
                    )
                    for key, rec in enrolments.items()
                )
        age = on.year - dob.year - ((dob.month, dob.day) > (on.month, on.day))
        out[child] = row(
            status[child],
            dob,
            age,
            LEFT_NO_NEXT_SCHOOL if left_no_next else ON_NO_ROLL,
            school,
            raw.school_name.get(school) if school else None,
            leaving,
            linked=bool(upns),
        )
    return out


@pytest.fixture(scope="module")
def raw(synthetic_la: SyntheticLA) -> RawFiles:
    return read_raw(synthetic_la.folder)


@pytest.fixture(scope="module")
def lists(synthetic_la: SyntheticLA) -> dict[dt.date, dict[str, dict[str, object]]]:
    with Warehouse.open(synthetic_la.warehouse, read_only=True) as store:
        return {on: listed(store.ibis, on) for on in DATES}


def test_list_equals_a_calculation_from_the_raw_files(
    raw: RawFiles, lists: dict[dt.date, dict[str, dict[str, object]]]
) -> None:
    for on in DATES:
        expected = expected_list(raw, on)
        got = lists[on]
        assert got == expected, (on, sorted(set(got) ^ set(expected)))
        # Not vacuous: both reasons, linked and unlinked children.
        assert {r["reason"] for r in got.values()} == {ON_NO_ROLL, LEFT_NO_NEXT_SCHOOL}, on
        assert {r["linked"] for r in got.values()} == {True, False}, on


def test_every_leaver_with_no_next_school_is_found(
    synthetic_la: SyntheticLA,
    raw: RawFiles,
    lists: dict[dt.date, dict[str, dict[str, object]]],
) -> None:
    """Every leaver in truth/ with a social worker and of compulsory school age on the date,
    who left before the latest census day held (so the census shows them gone), is listed;
    where a census held records the leaving, with the truth's school and leaving date."""
    truth = _csv(synthetic_la.folder / "truth/no_next_school.csv")
    assert len(truth) > 100
    found_in_all = 0
    for on in DATES:
        social_worker = _open_on(raw.care, on) | _open_on(raw.cp, on) | _open_on(raw.cin, on)
        latest_day = max(d for d in CENSUS_DAYS.values() if d <= on)
        due = 0
        for leaver in truth:
            leaving = dt.date.fromisoformat(leaver["leaving_date"])
            child = leaver["la_child_id"]
            dob = raw.birth.get(child)
            if not (child in social_worker and dob and of_compulsory_school_age(dob, on)):
                continue
            if leaving > latest_day:
                continue  # on roll on the latest census day: not yet seen to have left
            due += 1
            assert child in lists[on], (on, child)
            found = lists[on][child]
            if found["leaving_date"] is not None:
                assert (found["last_laestab"], found["leaving_date"]) == (
                    leaver["laestab"],
                    leaving,
                )
            if on == DATES[-1]:  # every census of the year is held: every leaving is seen
                assert (found["last_laestab"], found["leaving_date"]) == (
                    leaver["laestab"],
                    leaving,
                )
                in_year = leaving > D(on.year - 1, on.month, on.day)
                assert found["reason"] == (LEFT_NO_NEXT_SCHOOL if in_year else ON_NO_ROLL)
                found_in_all += 1
        assert due >= 8, on  # not vacuous
    assert found_in_all >= 20
