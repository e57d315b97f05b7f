"""Flattened school census tables for the three census terms of ``end_year``.

Absence is collected a term in arrears (data-contracts §1): spring carries the autumn term,
summer the spring term, autumn the summer term's two halves. Leavers appear in the next census's
``pupilnolongeronroll`` with the absence of the term they left in. Column headers are exactly
those of the sample extracts (``census_headers``); 2025 autumn drops the columns the 2025 schema
diff removed (per-pupil authorised / unauthorised totals).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cwsw.synth.dates import NO_DATE, DateFormatter, day
from cwsw.synth.world import World
from cwsw.synth.writers.census_headers import HEADERS
from cwsw.synth.writers.csvio import write_csv

Obj = npt.NDArray[np.object_]

REMOVED_2025_AUTUMN = frozenset(
    {
        "termlysessionsauthorised",
        "termlysessionsunauthorised",
        "summerhalfterm2sessionsauthorised",
        "summerhalfterm2sessionsunauthorised",
        "summerhalfterm2sessionseducational",
        "summerhalfterm2sessionsexceptional",
    }
)
_SAMPLE = {"spring": "2025_spring", "summer": "2025_summer", "autumn": "2024_autumn"}
TABLES = {
    "spring": (
        "pupilonroll", "pupilnolongeronroll", "termlysessiondetailsonroll",
        "termlysessiondetailsoffroll", "termlyexclusionsonroll", "termlyexclusionsoffroll",
        "fsmperiod", "senneeds",
    ),
    "summer": (
        "pupilonroll", "pupilnolongeronroll", "termlysessiondetailsonroll",
        "termlysessiondetailsoffroll", "termlyexclusionsonroll", "termlyexclusionsoffroll",
        "fsmperiod",
    ),
    "autumn": (
        "pupilonroll", "pupilnolongeronroll", "termlysessiondetailsonroll",
        "termlysessiondetailsoffroll", "summerhalfterm2sessiondetailsonroll",
        "summerhalfterm2sessiondetailsoffroll", "termlyexclusionsonroll",
        "termlyexclusionsoffroll", "fsmperiodsonroll",
    ),
}  # fmt: skip


def header(term: str, table: str) -> tuple[str, ...]:
    cols = HEADERS[f"{_SAMPLE[term]}_{table}"]
    if term == "autumn":
        cols = tuple(c for c in cols if c not in REMOVED_2025_AUTUMN)
    return cols


def _hex(rng: np.random.Generator, n: int) -> Obj:
    return np.array([f"{v:08x}" for v in rng.integers(0, 16**8, n, dtype=np.int64)], dtype=object)


def _f(values: npt.NDArray[np.int64], blank_zero: bool = False) -> Obj:
    """Numbers as the extracts write them (``134.0``)."""
    out = np.array([f"{int(v)}.0" for v in values], dtype=object)
    if blank_zero:
        out[values == 0] = ""
    return out


def _seq(keys: npt.NDArray[np.int64]) -> Obj:
    """1, 2, ... within runs of equal keys (rows are sorted by key)."""
    n = len(keys)
    first = np.ones(n, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return np.array([str(v) for v in np.arange(n) - start + 1], dtype=object)


def write_all(world: World, rng: np.random.Generator) -> None:
    cal = world.calendar
    edu = world.education
    en = edu.enrolments
    c = world.children
    y = cal.end_year
    fmt = DateFormatter(day(y - 40, 1, 1), day(y + 2, 12, 31), "census")
    blocks = {"spring": (0,), "summer": (1,), "autumn": (2, 3)}
    left_in = {
        "spring": (day(y - 1, 9, 1), day(y - 1, 12, 31)),
        "summer": (day(y, 1, 1), cal.summer1[0] - 1),
        "autumn": (cal.summer1[0], day(y, 8, 31)),
    }
    laestab = world.schools.laestab[en.school]
    for term in ("spring", "summer", "autumn"):
        cday = cal.census_days[term]
        on = np.flatnonzero((en.entry <= cday) & (en.leave > cday))
        lo, hi = left_in[term]
        off = np.flatnonzero((en.leave >= lo) & (en.leave <= hi) & (en.entry < en.leave))
        source = _hex(rng, len(en))  # this census's source id per enrolment
        nc_shift = 1 if term == "autumn" else 0
        for status, rows in (("on", on), ("off", off)):
            p = en.pupil[rows]
            cols: dict[str, Obj] = {}
            idcol = "pupilonrolltableid" if status == "on" else "pupilnolongeronrolltableid"
            cols[idcol] = en.table_id[rows]
            cols["NativeId"] = laestab[rows]
            cols["dob"] = fmt(c.birth[p])
            cols["surname"] = c.surname[p]
            cols["forename"] = c.forename[p]
            cols["middlenames"] = edu.middle_name[p]
            cols["preferredsurname"] = c.surname[p]
            cols["upn"] = c.upn[p]
            cols["formerupn"] = c.former_upn[p]
            nc = en.nc[rows] + (nc_shift if status == "on" else 0)
            uln = edu.uln[p].copy()
            uln[nc < 10] = ""
            cols["uniquelearnernumber"] = uln
            cols["sex"] = c.sex[p]
            cols["entrydate"] = fmt(en.entry[rows])
            cols[f"{'pupilonroll' if status == 'on' else 'pupilnolongeronroll'}orderseqcolumn"] = (
                np.full(len(rows), "1", dtype=object)
            )
            cols["sourceid"] = source[rows]
            cols["schoolcensustableid"] = _hex(rng, len(rows))
            cols["parttime"] = np.full(len(rows), "False", dtype=object)
            b = blocks[term]
            cols["termlysessionspossible"] = _f(en.possible[rows, b[0]], blank_zero=True)
            if term == "autumn":
                cols["summerhalfterm2sessionspossible"] = _f(en.possible[rows, 3], blank_zero=True)
            cols["ethnicity"] = c.ethnicity[p]
            cols["language"] = np.full(len(rows), "ENG", dtype=object)
            cols["moveonrollflag"] = np.full(len(rows), "", dtype=object)
            if status == "on":
                cols["enrolstatus"] = np.full(len(rows), "C", dtype=object)
                cols["senprovision"] = en.sen[rows]
                cols["ncyearactual"] = np.array(
                    ["R" if v == 0 else str(v) for v in nc], dtype=object
                )
                cols["schoollunchtaken"] = np.full(len(rows), "True", dtype=object)
            else:
                cols["leavingdate"] = fmt(en.leave[rows])
                cols["ncyearleaving"] = np.array(
                    ["R" if v == 0 else str(v) for v in nc], dtype=object
                )
            table = "pupilonroll" if status == "on" else "pupilnolongeronroll"
            _write(world, term, table, cols)
            _sessions(world, rng, term, status, rows, source, laestab)
            _exclusions(world, rng, term, status, rows, source, laestab, fmt)
        _fsm(world, rng, term, on, source, laestab, fmt, cday)
        if term == "spring":
            _sen_needs(world, rng, on, source, laestab)


def _write(world: World, term: str, table: str, cols: dict[str, Obj]) -> None:
    rel = f"school_census/{world.calendar.end_year}_{term}_{table}.csv"
    bom = world.faults.hit("bom")
    if bom:
        world.faults.record(rel, 0, "", "", "bom", "", "\\ufeff")
    write_csv(world.path(rel), header(term, table), cols, bom=bom)


def _sessions(
    world: World,
    rng: np.random.Generator,
    term: str,
    status: str,
    rows: npt.NDArray[np.int64],
    source: Obj,
    laestab: Obj,
) -> None:
    ab = world.education.absence
    en = world.education.enrolments
    member = np.zeros(len(en), dtype=bool)
    member[rows] = True
    parts = {"spring": [(0, "termly")], "summer": [(1, "termly")]}.get(
        term, [(2, "termly"), (3, "summerhalfterm2")]
    )
    for block, prefix in parts:
        sel = np.flatnonzero((ab.block == block) & member[ab.enrolment])
        e = ab.enrolment[sel]
        table = f"{prefix}sessiondetails{status}roll"
        idcol = "pupilonrolltableid" if status == "on" else "pupilnolongeronrolltableid"
        cols: dict[str, Obj] = {
            idcol: en.table_id[e],
            "NativeId": laestab[e],
            f"{table}tableid": _hex(rng, len(e)),
            f"{table}orderseqcolumn": _seq(e),
            "sourceid": source[e],
            "sessions": _f(ab.sessions[sel]),
            "attendancereason": ab.code[sel],
        }
        _write(world, term, table, cols)


def _exclusions(
    world: World,
    rng: np.random.Generator,
    term: str,
    status: str,
    rows: npt.NDArray[np.int64],
    source: Obj,
    laestab: Obj,
    fmt: DateFormatter,
) -> None:
    ex = world.education.exclusions
    en = world.education.enrolments
    cal = world.calendar
    lo, hi = {
        "spring": cal.autumn,
        "summer": cal.spring,
        "autumn": (cal.summer1[0], cal.summer2[1]),
    }[term]
    member = np.zeros(len(en), dtype=bool)
    member[rows] = True
    sel = np.flatnonzero((ex.start >= lo) & (ex.start <= hi) & member[ex.enrolment])
    sel = sel[np.lexsort((ex.start[sel], ex.enrolment[sel]))]
    e = ex.enrolment[sel]
    table = f"termlyexclusions{status}roll"
    idcol = "pupilonrolltableid" if status == "on" else "pupilnolongeronrolltableid"
    sessions = _f(ex.sessions[sel], blank_zero=True)
    cols: dict[str, Obj] = {
        idcol: en.table_id[e],
        "NativeId": laestab[e],
        f"{table}tableid": _hex(rng, len(e)),
        f"{table}orderseqcolumn": _seq(e),
        "sourceid": source[e],
        "startdate": fmt(ex.start[sel]),
        "sessions": sessions,
        "reason1": ex.reason[sel],
        "category": ex.category[sel],
        "senprovision": en.sen[e],
    }
    _write(world, term, table, cols)


def _fsm(
    world: World,
    rng: np.random.Generator,
    term: str,
    on: npt.NDArray[np.int64],
    source: Obj,
    laestab: Obj,
    fmt: DateFormatter,
    cday: int,
) -> None:
    edu = world.education
    en = edu.enrolments
    p = en.pupil[on]
    entry = en.entry[on]
    cur = edu.fsm_start[p]
    cur_ok = cur <= cday
    past = edu.fsm_past[p]
    past_end = past + 365
    past_ok = (past < NO_DATE) & (past_end > entry)
    e = np.concatenate([on[past_ok], on[cur_ok]])
    start = np.concatenate(
        [np.maximum(past[past_ok], entry[past_ok]), np.maximum(cur[cur_ok], entry[cur_ok])]
    )
    end = np.concatenate([past_end[past_ok], np.full(cur_ok.sum(), NO_DATE, dtype=np.int64)])
    order = np.lexsort((start, e))
    e, start, end = e[order], start[order], end[order]
    table = "fsmperiodsonroll" if term == "autumn" else "fsmperiod"
    cols: dict[str, Obj] = {
        "pupilonrolltableid": en.table_id[e],
        "NativeId": laestab[e],
        f"{table}tableid": _hex(rng, len(e)),
        f"{table}orderseqcolumn": _seq(e),
        "sourceid": source[e],
        "fsmstartdate": fmt(start),
        "fsmenddate": fmt(end),
        "ukcountry": np.full(len(e), "ENG", dtype=object),
    }
    _write(world, term, table, cols)


def _sen_needs(
    world: World, rng: np.random.Generator, on: npt.NDArray[np.int64], source: Obj, laestab: Obj
) -> None:
    en = world.education.enrolments
    needs = world.education.sen_needs
    e_rows: list[int] = []
    rank: list[str] = []
    kind: list[str] = []
    for i in on:
        if en.sen[i] == "N":
            continue
        for r, need in enumerate(needs.get(int(en.pupil[i]), ()), start=1):
            e_rows.append(int(i))
            rank.append(f"{r}.0")
            kind.append(need)
    e = np.array(e_rows, dtype=np.int64)
    cols: dict[str, Obj] = {
        "pupilonrolltableid": en.table_id[e],
        "NativeId": laestab[e],
        "senneedstableid": _hex(rng, len(e)),
        "senneedsorderseqcolumn": _seq(e),
        "sourceid": source[e],
        "sentyperank": np.array(rank, dtype=object),
        "sentype": np.array(kind, dtype=object),
    }
    _write(world, "spring", "senneeds", cols)
