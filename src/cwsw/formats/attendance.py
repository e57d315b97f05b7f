"""Daily or weekly attendance (data contracts §2.5): one row per pupil, date and session.

The feed a local authority gets under statutory school attendance data sharing (since 2024),
with the pupil's CIN / CP / CLA / SEN / FSM flags. The file is streamed: rows go to the sink
in batches, so a year of sessions for a whole authority is read in bounded memory.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from cwsw.domain.calendar import academic_year_start
from cwsw.formats.common import Collector, CsvSource, ReadResult, Sink, clean_text
from cwsw.formats.school_census import absence_type

FORMAT = "attendance"
TABLE = "pupil_attendance_session"
FILE_NAME = re.compile(r"^attendance(_.*)?$", re.IGNORECASE)
REQUIRED: tuple[str | tuple[str, ...], ...] = ("upn", ("laestab", "urn"), "date", "session", "code")
SESSIONS = {"AM": "AM", "PM": "PM"}
# SEN provision as in the school census: no SEN, SEN support, EHC plan.
SEN_PROVISION = {"N": "N", "K": "K", "E": "E"}
# cla first; lac is the older name for looked-after children.
FLAGS = {"cin": ("cin",), "cp": ("cp",), "cla": ("cla", "lac"), "fsm": ("fsm",)}
# Y and N as well as the 0/1 and true/false every flag accepts (docs/domain.md §3): all the
# forms of this feed's contract (data contracts §2.5), so none is reported as corrected.
_YES_NO = {"y": "1", "yes": "1", "n": "0", "no": "0", "true": "1", "false": "0"}
# The codes the 2024 regulations replaced (J by J1, Y by Y1–Y7; H was withdrawn). They still
# classify (``absence_type``) but are not expected in a register kept from 19 August 2024.
LEGACY_CODES = frozenset(["H", "J", "Y"])
NEW_CODES_FROM = date(2024, 8, 19)


def is_attendance_file(path: Path) -> bool:
    """``attendance.csv`` or ``attendance_*.csv`` (any case)."""
    return path.suffix.lower() == ".csv" and FILE_NAME.match(path.stem) is not None


def _flag(values: Collector, raw: str | None, where: str, field: str) -> bool | None:
    if raw is None:
        return None
    return values.flag(_YES_NO.get(raw.lower(), raw), where, field)


def _code(
    values: Collector, raw: str | None, mapping: dict[str, str], where: str, field: str
) -> str | None:
    """A code of this feed: case-insensitive by its contract, so ``am`` is read as AM with no
    finding (``Collector.mapped`` would report it); one not in ``mapping`` is nulled."""
    if raw is None:
        return None
    value = mapping.get(raw.upper())
    if value is None:
        values.add(where, field, raw, "invalid_code")
    return value


def read_attendance(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """``attendance_*.csv`` → ``pupil_attendance_session``.

    The period is the dates the file covers, ``FIRST/LAST`` (ISO 8601 interval), so a newer
    file covering the same dates supersedes an older one. Without a valid date it is None.
    """
    path = Path(path)
    result = ReadResult(path, FORMAT, None, sink=sink, dataset=FORMAT)
    values = Collector(path, result.findings)
    rows = result.rows(TABLE)
    # Findings name the column the file has: cla or lac, laestab or urn.
    header = set(CsvSource(path).header())
    flag_columns = {
        name: next((c for c in columns if c in header), columns[0])
        for name, columns in FLAGS.items()
    }
    school_field = "laestab" if "laestab" in header else "urn"
    first: date | None = None
    last: date | None = None
    for row in CsvSource(path, REQUIRED, collector=values).rows():
        where = row.location
        upn_raw = row.get("upn")
        if upn_raw is None:
            values.add(where, "upn", None, "missing_upn", "record")
        laestab = values.identifier(row.get("laestab"), where, "laestab")
        urn = values.identifier(row.get("urn"), where, "urn")
        if laestab is None and urn is None:
            values.add(where, school_field, None, "missing_school", "record")
        raw_date = row.get("date")
        if raw_date is None:
            values.add(where, "date", None, "missing_date", "record")
        day = values.date(raw_date, where, "date")
        if day is not None:
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
        if row.get("session") is None:
            values.add(where, "session", None, "missing_session", "record")
        code = clean_text(row.get("code"))
        kind = absence_type(code)
        if code is None:
            values.add(where, "code", None, "missing_attendance_code", "record")
        elif kind is None:
            values.add(where, "code", code, "unknown_attendance_code")
        else:
            code = code.upper()
            if code in LEGACY_CODES and day is not None and day >= NEW_CODES_FROM:
                values.add(where, "code", code, "legacy_attendance_code")
        rows.append(
            {
                "upn": values.upn(upn_raw, where, "upn"),
                "upn_raw": upn_raw,
                "laestab": laestab,
                "urn": urn,
                "session_date": day,
                "session": _code(values, row.get("session"), SESSIONS, where, "session"),
                "attendance_code": code,
                "absence_type": kind,
                **{
                    name: _flag(values, row.get(column), where, column)
                    for name, column in flag_columns.items()
                },
                "sen_provision": _code(values, row.get("sen"), SEN_PROVISION, where, "sen"),
                "record": where,
            }
        )
        result.maybe_flush()
    result.flush()
    if first is not None and last is not None:
        result.period = f"{first.isoformat()}/{last.isoformat()}"
        if academic_year_start(first) != academic_year_start(last):
            values.add("file", "date", result.period, "period_spans_academic_years", "record")
    return result
