"""Flattened school census tables, one CSV per table and term: ``YYYY_TERM_TABLE.csv``.

Column sets change from year to year (fixtures ``school-census/schema``): only the columns a
canonical table needs are required, the rest are read when present. Pupil rows key on
``pupilonrolltableid`` (on roll) or ``pupilnolongeronrolltableid`` (left), which stays the same
for an enrolment in every term (data contracts §1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cwsw.formats.common import Collector, CsvSource, ReadResult, Row, Sink, clean_text
from cwsw.formats.errors import FormatError

FORMAT = "school_census"
TERMS = ("autumn", "spring", "summer")
FILE_NAME = re.compile(r"^(\d{4})_(autumn|spring|summer)_([a-z0-9]+)$", re.IGNORECASE)

# Tables in the school census schema (2015–2026) that cwsw does not use yet.
UNUSED_TABLES = frozenset(
    [
        "addresses",
        "addressesoffroll",
        "addressesonroll",
        "annualsessiondetailsoffroll",
        "annualsessiondetailsonroll",
        "approvisiondetailoffroll",
        "approvisiondetailonroll",
        "childcare",
        "classes",
        "fundingbasisitems",
        "learnerfamoffroll",
        "learnerfamonroll",
        "learnersupportoffroll",
        "learnersupportonroll",
        "learningaimsoffroll",
        "learningaimsonroll",
        "levels",
        "nationalitiesoffroll",
        "nationalitiesonroll",
        "programmeaimsoffroll",
        "programmeaimsonroll",
        "provisions",
        "school",
        "schoolarrangedapdetailoffroll",
        "schoolarrangedapdetailonroll",
        "schoolcensus",
        "workplaceentityoffroll",
        "workplaceentityonroll",
    ]
)
SEX_CODES = {"M": "M", "F": "F", "U": "U", "1": "M", "2": "F", "0": "U", "9": "U"}
# 2021 renamed the fixed-period exclusion FIXD to suspension SUSP: keep one code downstream.
EXCLUSION_CATEGORY = {"PERM": "PERM", "SUSP": "SUSP", "FIXD": "SUSP", "LNCH": "LNCH"}
_CODES = {
    "present": "/ \\ L",
    # approved educational activity counts as present
    "approved": "K V P W B",
    "authorised": "C C1 C2 E I M J1 R S T H J",
    "unauthorised": "G N O U",
    "not_counted": "D Q X Z # Y Y1 Y2 Y3 Y4 Y5 Y6 Y7",
}
_ABSENCE_TYPES = {
    code: ("present" if kind == "approved" else kind)
    for kind, codes in _CODES.items()
    for code in codes.split()
}
ON_ROLL_ID = "pupilonrolltableid"
OFF_ROLL_ID = "pupilnolongeronrolltableid"
# Before 2020/21 the session count was called absencesessions.
SESSIONS = ("sessions", "absencesessions")


@dataclass(frozen=True)
class CensusFile:
    """What a file name says: ``2025_spring_pupilonroll.csv``."""

    year: int
    term: str
    table: str

    @property
    def census_term(self) -> str:
        return f"{self.year}_{self.term}"


def parse_file_name(path: Path) -> CensusFile | None:
    match = FILE_NAME.match(path.stem)
    if not match:
        return None
    return CensusFile(int(match[1]), match[2].lower(), match[3].lower())


@dataclass(frozen=True)
class _Kind:
    canonical: str
    on_roll: bool
    block: str | None = None


def _kind(table: str) -> _Kind | None:
    if table in ("pupilonroll", "pupilnolongeronroll"):
        return _Kind("pupil_enrolment", table == "pupilonroll")
    for prefix, block in (
        ("termlysessiondetails", "termly"),
        ("summerhalfterm2sessiondetails", "summer_ht2"),
    ):
        if table in (f"{prefix}onroll", f"{prefix}offroll"):
            return _Kind("pupil_absence", table.endswith("onroll"), block)
    if table in ("termlyexclusionsonroll", "termlyexclusionsoffroll"):
        return _Kind("pupil_exclusion", table.endswith("onroll"))
    # FSM periods are only ever listed for pupils on roll; the name varies by year.
    if table in ("fsmperiod", "fsmperiods", "fsmperiodonroll", "fsmperiodsonroll"):
        return _Kind("pupil_fsm", True)
    if table in ("senneeds", "senneedsonroll"):
        return _Kind("pupil_sen_need", True)
    return None


def is_known_table(table: str) -> bool:
    return _kind(table) is not None or table in UNUSED_TABLES


def absence_type(code: str | None) -> str | None:
    """``authorised``, ``unauthorised``, ``present`` or ``not_counted`` for an attendance code.

    From 2025 the census dropped the per-pupil authorised / unauthorised totals, so they are
    summed from the codes (DfE school attendance guidance; DOMAIN.md §3, legacy codes included).
    None for a code that is not in any list.
    """
    if code is None:
        return None
    return _ABSENCE_TYPES.get(code.strip().upper())


def read_school_census(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """Read one flattened school census table into its canonical table.

    A table cwsw does not use yet comes back with no rows and an information message.
    """
    path = Path(path)
    named = parse_file_name(path)
    if named is None:
        raise FormatError(
            path, "expected a file named YYYY_TERM_TABLE.csv, e.g. 2025_spring_pupilonroll.csv"
        )
    result = ReadResult(
        path, FORMAT, named.census_term, sink=sink, dataset=f"{FORMAT}_{named.table}"
    )
    kind = _kind(named.table)
    if kind is None:
        if named.table in UNUSED_TABLES:
            result.messages.append(
                f"{path.name}: school census table {named.table!r} is not used yet; skipped"
            )
            return result
        raise FormatError(path, f"unknown school census table {named.table!r}")
    values = Collector(path, result.findings)
    id_column = ON_ROLL_ID if kind.on_roll else OFF_ROLL_ID
    rows = result.rows(kind.canonical)
    if kind.canonical == "pupil_enrolment":
        required: tuple[str | tuple[str, ...], ...] = (id_column, "NativeId", "upn", "dob", "sex")
    elif kind.canonical == "pupil_absence":
        required = (id_column, "NativeId", SESSIONS, "attendancereason")
    elif kind.canonical == "pupil_exclusion":
        required = (id_column, "NativeId", "startdate", "category", "sessions")
    elif kind.canonical == "pupil_sen_need":
        required = (id_column, "NativeId", "sentype")
    else:
        required = (id_column, "NativeId", "fsmstartdate", "fsmenddate")
    for row in CsvSource(path, required).rows():
        where = row.location
        enrolment_id = clean_text(row.get(id_column.lower()))
        if enrolment_id is None:
            values.add(where, id_column, None, "missing_enrolment_id", "record")
        key: Row = {
            "census_term": named.census_term,
            "laestab": clean_text(row.get("nativeid")),
            "enrolment_id": enrolment_id,
        }
        if kind.canonical == "pupil_enrolment":
            upn_raw = row.get("upn")
            rows.append(
                key
                | {
                    "on_roll": kind.on_roll,
                    "upn": values.upn(upn_raw, where, "upn"),
                    "upn_raw": upn_raw,
                    "former_upn": values.upn(row.get("formerupn"), where, "formerupn"),
                    "forename": clean_text(row.get("forename")),
                    "surname": clean_text(row.get("surname")),
                    "birth_date": values.date(row.get("dob"), where, "dob", "census"),
                    "sex": values.mapped(row.get("sex"), SEX_CODES, where, "sex"),
                    "ethnicity": clean_text(row.get("ethnicity")),
                    "nc_year": clean_text(row.get("ncyearactual") or row.get("ncyearleaving")),
                    "enrol_status": clean_text(row.get("enrolstatus")),
                    "sen_provision": clean_text(row.get("senprovision")),
                    "entry_date": values.date(row.get("entrydate"), where, "entrydate", "census"),
                    "leaving_date": values.date(
                        row.get("leavingdate"), where, "leavingdate", "census"
                    ),
                    "sessions_possible": values.integer(
                        row.get("termlysessionspossible"), where, "termlysessionspossible"
                    ),
                    "summer_ht2_sessions_possible": values.integer(
                        row.get("summerhalfterm2sessionspossible"),
                        where,
                        "summerhalfterm2sessionspossible",
                    ),
                    # The totals the census carried until 2024 (absent from 2025 on).
                    "sessions_authorised": values.integer(
                        row.get("termlysessionsauthorised"), where, "termlysessionsauthorised"
                    ),
                    "sessions_unauthorised": values.integer(
                        row.get("termlysessionsunauthorised"), where, "termlysessionsunauthorised"
                    ),
                }
            )
        elif kind.canonical == "pupil_absence":
            code = clean_text(row.get("attendancereason"))
            kind_of = absence_type(code)
            if code is not None and kind_of is None:
                values.add(where, "attendancereason", code, "unknown_attendance_code")
            rows.append(
                key
                | {
                    "block": kind.block,
                    "attendance_code": code,
                    "sessions": values.integer(row.get(*SESSIONS), where, "sessions"),
                    "absence_type": kind_of,
                }
            )
        elif kind.canonical == "pupil_exclusion":
            rows.append(
                key
                | {
                    "start_date": values.date(row.get("startdate"), where, "startdate", "census"),
                    "category": values.mapped(
                        row.get("category"), EXCLUSION_CATEGORY, where, "category"
                    ),
                    "sessions": values.integer(row.get("sessions"), where, "sessions"),
                }
            )
        elif kind.canonical == "pupil_sen_need":
            rows.append(
                key
                | {
                    "sen_type_rank": values.integer(row.get("sentyperank"), where, "sentyperank"),
                    "sen_type": clean_text(row.get("sentype")),
                }
            )
        else:
            rows.append(
                key
                | {
                    "start_date": values.date(
                        row.get("fsmstartdate"), where, "fsmstartdate", "census"
                    ),
                    "end_date": values.date(row.get("fsmenddate"), where, "fsmenddate", "census"),
                }
            )
        result.maybe_flush()
    result.flush()
    return result
