"""SSDA903 looked-after-children return, CSV tables (``header.csv`` and ``episodes.csv``).

Dates are ``dd/mm/yyyy``. ``CHILD`` is the LA child ID shared with the CIN census, and
spreadsheets often turn it into ``123.0``. The files carry no year: it comes from the folder
``ssda903/YYYY/`` (data contracts §1) or from the caller.
"""

from __future__ import annotations

import re
from pathlib import Path

from cwsw.formats.common import Collector, CsvSource, ReadResult, child_id, clean_text
from cwsw.formats.errors import FormatError

HEADER_COLUMNS = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN")
EPISODE_COLUMNS = ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "DEC", "REC")
# The other tables of the return: recognised, not used yet.
OTHER_TABLES = frozenset(
    [
        "reviews",
        "uasc",
        "oc2",
        "oc3",
        "ad1",
        "missing",
        "placed_for_adoption",
        "previous_permanence",
        "sw_episodes",
    ]
)
SEX_CODES = {"1": "M", "2": "F", "M": "M", "F": "F"}
# The UPN field holds a reason code UN1–UN10 when there is no UPN: not an error.
_UPN_REASON = re.compile(r"^UN([1-9]|10)$")


def collection_year_from_path(path: Path) -> int | None:
    """The year of a file in ``ssda903/YYYY/``, else None."""
    parent = path.parent.name
    return int(parent) if re.fullmatch(r"(19|20)\d{2}", parent) else None


def _year(path: Path, collection_year: int | None) -> int:
    year = collection_year if collection_year is not None else collection_year_from_path(path)
    if year is None:
        raise FormatError(
            path,
            "collection year unknown: put the file in a folder ssda903/YYYY/ "
            "(the year ending 31 March YYYY) or pass the year",
        )
    return year


def read_ssda903_header(path: Path | str, collection_year: int | None = None) -> ReadResult:
    """``header.csv`` → ``cla_child`` (one row per looked-after child)."""
    path = Path(path)
    year = _year(path, collection_year)
    values = Collector(path)
    rows = []
    for row in CsvSource(path, HEADER_COLUMNS).rows():
        where = row.location
        upn_raw = row.get("upn")
        is_reason = upn_raw is not None and _UPN_REASON.match(upn_raw.strip().upper())
        la_child_id = child_id(row.get("child"))
        if la_child_id is None:
            values.add(where, "CHILD", None, "missing_child_id", "record")
        rows.append(
            {
                "collection_year": year,
                "la_child_id": la_child_id,
                "upn": None if is_reason else values.upn(upn_raw, where, "UPN"),
                "upn_raw": upn_raw,
                "sex": values.mapped(row.get("sex"), SEX_CODES, where, "SEX"),
                "birth_date": values.date(row.get("dob"), where, "DOB", "dmy"),
                "ethnicity": clean_text(row.get("ethnic")),
            }
        )
    return ReadResult(path, "ssda903_header", str(year), {"cla_child": rows}, values.findings)


def read_ssda903_episodes(path: Path | str, collection_year: int | None = None) -> ReadResult:
    """``episodes.csv`` → ``cla_episode``."""
    path = Path(path)
    year = _year(path, collection_year)
    values = Collector(path)
    rows = []
    for row in CsvSource(path, EPISODE_COLUMNS).rows():
        where = row.location
        la_child_id = child_id(row.get("child"))
        if la_child_id is None:
            values.add(where, "CHILD", None, "missing_child_id", "record")
        rows.append(
            {
                "collection_year": year,
                "la_child_id": la_child_id,
                "start_date": values.date(row.get("decom"), where, "DECOM", "dmy"),
                "reason_new_episode": clean_text(row.get("rne")),
                "legal_status": clean_text(row.get("ls")),
                "cin_code": clean_text(row.get("cin")),
                "placement": clean_text(row.get("place")),
                "end_date": values.date(row.get("dec"), where, "DEC", "dmy"),
                "reason_end": clean_text(row.get("rec")),
            }
        )
    return ReadResult(path, "ssda903_episodes", str(year), {"cla_episode": rows}, values.findings)
