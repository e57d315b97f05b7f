"""Flattened school census tables, one CSV per table and term: ``YYYY_TERM_TABLE.csv``.

Column sets change from year to year (fixtures ``school-census/schema``): only the columns a
canonical table needs are required, the rest are read when present. Pupil rows key on
``pupilonrolltableid`` (on roll) or ``pupilnolongeronrolltableid`` (left), which stays the same
for an enrolment in every term (data contracts §1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cwsw.domain.attendance_codes import CODES_BY_KIND
from cwsw.domain.calendar import census_term
from cwsw.domain.upn import clean_upn
from cwsw.formats.common import (
    BATCH_ROWS,
    NORMALISED_WHITE_SPACE,
    Collector,
    ReadResult,
    Sink,
)
from cwsw.formats.errors import FormatError
from cwsw.formats.fast_csv import MAX_CACHED, Cells, CellSource, Parsed, Where

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
_ABSENCE_TYPES = {
    code: ("present" if kind == "approved" else kind)
    for kind, codes in CODES_BY_KIND.items()
    for code in codes
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
        return census_term(self.year, self.term)


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
    summed from the codes (DfE school attendance guidance; docs/domain.md §3, legacy codes
    included).
    None for a code that is not in any list.
    """
    if code is None:
        return None
    return _ABSENCE_TYPES.get(code.strip().upper())


class _AbsenceCodes(dict[str, tuple[str | None, str | None]]):
    """(code, absence type) by raw cell; an unknown code is reported at each of its rows."""

    def __init__(self, values: Collector, where: Where) -> None:
        super().__init__()
        self._values = values
        self._where = where

    def __missing__(self, cell: str) -> tuple[str | None, str | None]:
        code = cell.strip() or None
        kind = absence_type(code)
        location = f"row {self._where.number}"
        if code is not None and kind is None:
            self._values.add(location, "attendancereason", code, "unknown_attendance_code")
        elif code is not None and len(code) != len(cell):  # reported at every row: not cached
            self._values.corrected(location, "attendancereason", cell, NORMALISED_WHITE_SPACE)
        elif len(self) < MAX_CACHED:
            self[cell] = (code, kind)
        return code, kind


class _Trimmed(dict[str, str | None]):
    """A text column's values by raw cell, trimmed (blank: None), each distinct one once; one
    with spaces around it is reported at every row holding it (so never cached)."""

    def __init__(self, values: Collector, field: str, where: Where) -> None:
        super().__init__()
        self._values = values
        self._field = field
        self._where = where

    def __missing__(self, cell: str) -> str | None:
        text = cell.strip()
        if text and len(text) != len(cell):
            location = f"row {self._where.number}"
            self._values.corrected(location, self._field, cell, NORMALISED_WHITE_SPACE)
        elif len(self) < MAX_CACHED:
            self[cell] = text or None
        return text or None


class _Parsed(Parsed):
    """``Parsed``, where a value whose parse made a finding (rejected, or read corrected:
    ``m`` for M, ``136.0``) is never cached, so that the finding is made at every row holding
    it; the other values are parsed once, as before."""

    def __init__(
        self, parse: Callable[[str, str, str], Any], field: str, where: Where, values: Collector
    ) -> None:
        super().__init__(parse, field, where)
        self._values = values
        self._made = values.findings

    def __missing__(self, cell: str) -> Any:
        text = cell.strip()
        if not text:
            self[cell] = None
            return None
        made = len(self._made)
        location = f"row {self._where.number}"
        value = self._parse(text, location, self._field)
        if len(text) != len(cell) and value is not None:
            self._values.corrected(location, self._field, cell, NORMALISED_WHITE_SPACE)
        if len(self._made) == made and len(self) < MAX_CACHED:
            self[cell] = value
        return value


def read_school_census(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """Read one flattened school census table into its canonical table.

    A table cwsw does not use yet comes back with no rows and an information message. Rows go
    to ``sink`` in batches as they are read, so a national file (millions of pupils) is read
    in bounded memory.
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
    id_column = ON_ROLL_ID if kind.on_roll else OFF_ROLL_ID
    table = _Table(path, named.census_term, kind, id_column, result)
    if kind.canonical == "pupil_enrolment":
        table.enrolments()
    elif kind.canonical == "pupil_absence":
        table.absences()
    elif kind.canonical == "pupil_exclusion":
        table.exclusions()
    elif kind.canonical == "pupil_sen_need":
        table.sen_needs()
    else:
        table.fsm_periods()
    result.flush()
    return result


class _Table:
    """The reading of one file into its canonical table, row by row.

    Each row's findings come in the order of its fields; the key fields (term, LAESTAB,
    enrolment) lead every row.
    """

    def __init__(
        self, path: Path, term: str, kind: _Kind, id_column: str, result: ReadResult
    ) -> None:
        self.path = path
        self.term = term
        self.kind = kind
        self.id_column = id_column
        self.result = result
        self.values = Collector(path, result.findings)
        self.where = Where()
        self.rows = result.rows(kind.canonical)
        self._census_date = partial(self.values.date, style="census")

    def _records(
        self, required: tuple[str | tuple[str, ...], ...], *optional: str
    ) -> Iterator[Cells]:
        """The cells of the required columns then the optional ones, row by row.

        Also keeps ``where`` on the row, reports a missing enrolment ID and hands full batches
        to the sink.
        """
        where = self.where
        values = self.values
        id_column = self.id_column
        maybe_flush = self.result.maybe_flush
        pending = 0
        for number, cells in CellSource(self.path, required).cells(required + optional):
            where.number = number
            key = cells[0].strip()
            if not key:
                values.add(f"row {number}", id_column, None, "missing_enrolment_id", "record")
            elif len(key) != len(cells[0]):
                values.corrected(f"row {number}", id_column, cells[0], NORMALISED_WHITE_SPACE)
            yield cells
            pending += 1
            if pending == BATCH_ROWS:
                maybe_flush(pending)
                pending = 0
        maybe_flush(pending)

    def _texts(self, field: str) -> _Trimmed:
        return _Trimmed(self.values, field, self.where)

    def _dates(self, field: str) -> Parsed:
        return _Parsed(self._census_date, field, self.where, self.values)

    def _integers(self, field: str) -> Parsed:
        # The census's extracts write counts as 142.0 (fixtures school-census/samples).
        return _Parsed(partial(self.values.integer, as_float=True), field, self.where, self.values)

    def _mapped(self, mapping: dict[str, str], field: str) -> Parsed:
        mapped = self.values.mapped

        def parse(raw: str, at: str, name: str) -> str | None:
            return mapped(raw, mapping, at, name)

        return _Parsed(parse, field, self.where, self.values)

    def _upn(self, raw: str, field: str) -> str | None:
        """The valid UPN of a trimmed cell (``Collector.upn``: a lower-case one is read with a
        finding)."""
        if not raw:
            return None
        upn = clean_upn(raw)
        if upn == raw:  # the common case: nothing to report
            return upn
        return self.values.upn(raw, f"row {self.where.number}", field)

    def _padded(self, *cells: tuple[str, str]) -> None:
        """An information finding at each (field, cell) with spaces around a value."""
        for field, cell in cells:
            if cell.strip() and cell.strip() != cell:
                location = f"row {self.where.number}"
                self.values.corrected(location, field, cell, NORMALISED_WHITE_SPACE)

    def enrolments(self) -> None:
        dob, entry, leaving = map(self._dates, ("dob", "entrydate", "leavingdate"))
        sex = self._mapped(SEX_CODES, "sex")
        possible, ht2_possible, authorised, unauthorised = map(
            self._integers,
            (
                "termlysessionspossible",
                "summerhalfterm2sessionspossible",
                "termlysessionsauthorised",
                "termlysessionsunauthorised",
            ),
        )
        # Codes and school numbers repeat: each distinct one is trimmed (and judged) once.
        laestabs, ethnicities = self._texts("NativeId"), self._texts("ethnicity")
        nc_actuals, nc_leavings, enrol_statuses, sen_provisions = map(
            self._texts, ("ncyearactual", "ncyearleaving", "enrolstatus", "senprovision")
        )
        on_roll = self.kind.on_roll
        term = self.term
        append = self.rows.append
        upn_of = self._upn
        required = (self.id_column, "NativeId", "upn", "dob", "sex")
        for (
            enrolment,
            laestab,
            upn_cell,
            c_dob,
            c_sex,
            former,
            forename,
            surname,
            ethnicity,
            nc_actual,
            nc_leaving,
            enrol_status,
            sen,
            c_entry,
            c_leaving,
            c_possible,
            c_ht2,
            c_authorised,
            c_unauthorised,
        ) in self._records(
            required,
            "formerupn",
            "forename",
            "surname",
            "ethnicity",
            "ncyearactual",
            "ncyearleaving",
            "enrolstatus",
            "senprovision",
            "entrydate",
            "leavingdate",
            "termlysessionspossible",
            "summerhalfterm2sessionspossible",
            "termlysessionsauthorised",
            "termlysessionsunauthorised",
        ):
            # UPNs and names hardly repeat: trimmed here, the padded ones found by length.
            upn_raw, former_upn = upn_cell.strip(), former.strip()
            first, last = forename.strip(), surname.strip()
            if (
                len(upn_raw) != len(upn_cell)
                or len(former_upn) != len(former)
                or len(first) != len(forename)
                or len(last) != len(surname)
            ):
                self._padded(
                    ("upn", upn_cell),
                    ("formerupn", former),
                    ("forename", forename),
                    ("surname", surname),
                )
            append(
                {
                    "census_term": term,
                    "laestab": laestabs[laestab],
                    "enrolment_id": enrolment.strip() or None,
                    "on_roll": on_roll,
                    "upn": upn_of(upn_raw, "upn"),
                    "upn_raw": upn_raw or None,
                    "former_upn": upn_of(former_upn, "formerupn"),
                    "forename": first or None,
                    "surname": last or None,
                    "birth_date": dob[c_dob],
                    "sex": sex[c_sex],
                    "ethnicity": ethnicities[ethnicity],
                    "nc_year": nc_actuals[nc_actual] or nc_leavings[nc_leaving],
                    "enrol_status": enrol_statuses[enrol_status],
                    "sen_provision": sen_provisions[sen],
                    "entry_date": entry[c_entry],
                    "leaving_date": leaving[c_leaving],
                    "sessions_possible": possible[c_possible],
                    "summer_ht2_sessions_possible": ht2_possible[c_ht2],
                    # The totals the census carried until 2024 (absent from 2025 on).
                    "sessions_authorised": authorised[c_authorised],
                    "sessions_unauthorised": unauthorised[c_unauthorised],
                }
            )

    def absences(self) -> None:
        laestabs = self._texts("NativeId")
        codes = _AbsenceCodes(self.values, self.where)
        sessions = self._integers("sessions")
        term = self.term
        block = self.kind.block
        append = self.rows.append
        required = (self.id_column, "NativeId", SESSIONS, "attendancereason")
        for enrolment, laestab, c_sessions, c_code in self._records(required):
            code, kind_of = codes[c_code]
            append(
                {
                    "census_term": term,
                    "laestab": laestabs[laestab],
                    "enrolment_id": enrolment.strip() or None,
                    "block": block,
                    "attendance_code": code,
                    "sessions": sessions[c_sessions],
                    "absence_type": kind_of,
                }
            )

    def exclusions(self) -> None:
        laestabs = self._texts("NativeId")
        start = self._dates("startdate")
        category = self._mapped(EXCLUSION_CATEGORY, "category")
        sessions = self._integers("sessions")
        term = self.term
        append = self.rows.append
        required = (self.id_column, "NativeId", "startdate", "category", "sessions")
        for enrolment, laestab, c_start, c_category, c_sessions in self._records(required):
            append(
                {
                    "census_term": term,
                    "laestab": laestabs[laestab],
                    "enrolment_id": enrolment.strip() or None,
                    "start_date": start[c_start],
                    "category": category[c_category],
                    "sessions": sessions[c_sessions],
                }
            )

    def sen_needs(self) -> None:
        laestabs, sen_types = self._texts("NativeId"), self._texts("sentype")
        rank = self._integers("sentyperank")
        term = self.term
        append = self.rows.append
        required = (self.id_column, "NativeId", "sentype")
        for enrolment, laestab, sen_type, c_rank in self._records(required, "sentyperank"):
            append(
                {
                    "census_term": term,
                    "laestab": laestabs[laestab],
                    "enrolment_id": enrolment.strip() or None,
                    "sen_type_rank": rank[c_rank],
                    "sen_type": sen_types[sen_type],
                }
            )

    def fsm_periods(self) -> None:
        laestabs = self._texts("NativeId")
        start, end = map(self._dates, ("fsmstartdate", "fsmenddate"))
        term = self.term
        append = self.rows.append
        required = (self.id_column, "NativeId", "fsmstartdate", "fsmenddate")
        for enrolment, laestab, c_start, c_end in self._records(required):
            append(
                {
                    "census_term": term,
                    "laestab": laestabs[laestab],
                    "enrolment_id": enrolment.strip() or None,
                    "start_date": start[c_start],
                    "end_date": end[c_end],
                }
            )
