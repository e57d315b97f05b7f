"""KS2 and KS4 results (data contracts §2.1–2.2): NPD/EES-style names, one row per pupil."""

from __future__ import annotations

import re
from pathlib import Path

from cwsw.formats.common import Collector, CsvRow, CsvSource, ReadResult, Sink, clean_text
from cwsw.formats.errors import FormatError

KS2_FLAGS = ("ks2_read_exp", "ks2_writ_exp", "ks2_mat_exp", "ks2_rwm_exp")
KS2_REQUIRED = ("upn", "laestab", "year", *KS2_FLAGS)
KS4_REQUIRED = ("upn", "laestab", "year", "att8", "p8score", "l2basics_94", "l2basics_95")
FILE_NAME = re.compile(r"^(ks2|ks4)_(\d{4})$", re.IGNORECASE)


def _file_year(path: Path, stage: str) -> int:
    match = FILE_NAME.match(path.stem)
    if not match or match[1].lower() != stage:
        raise FormatError(path, f"expected a file named {stage}_YYYY.csv")
    return int(match[2])


def _common(row: CsvRow, values: Collector, file_year: int) -> dict[str, object]:
    where = row.location
    upn_raw = row.get("upn")
    year = values.integer(row.get("year"), where, "year")
    if year is not None and year != file_year:
        values.add(where, "year", row.get("year"), f"year_differs_from_file_name_{file_year}")
    return {
        "upn": values.upn(upn_raw, where, "upn"),
        "upn_raw": upn_raw,
        "laestab": clean_text(row.get("laestab")),
        "year": year,
    }


def read_ks2(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """``ks2_YYYY.csv`` → ``ks2_result``."""
    path = Path(path)
    file_year = _file_year(path, "ks2")
    values = Collector(path)
    rows = []
    for row in CsvSource(path, KS2_REQUIRED, collector=values).rows():
        flags = {name: values.flag(row.get(name), row.location, name) for name in KS2_FLAGS}
        rows.append(_common(row, values, file_year) | flags)
    result = ReadResult(path, "ks2", str(file_year), {"ks2_result": rows}, values.findings)
    result.sink = sink
    result.flush()
    return result


def read_ks4(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """``ks4_YYYY.csv`` → ``ks4_result``."""
    path = Path(path)
    file_year = _file_year(path, "ks4")
    values = Collector(path)
    rows = []
    for row in CsvSource(path, KS4_REQUIRED, collector=values).rows():
        where = row.location
        att8 = values.decimal(row.get("att8"), where, "att8")
        if att8 is not None and not 0 <= att8 <= 90:
            values.add(where, "att8", row.get("att8"), "out_of_range_0_90")
            att8 = None
        rows.append(
            _common(row, values, file_year)
            | {
                "att8": att8,
                "p8score": values.decimal(row.get("p8score"), where, "p8score"),
                "l2basics_94": values.flag(row.get("l2basics_94"), where, "l2basics_94"),
                "l2basics_95": values.flag(row.get("l2basics_95"), where, "l2basics_95"),
            }
        )
    result = ReadResult(path, "ks4", str(file_year), {"ks4_result": rows}, values.findings)
    result.sink = sink
    result.flush()
    return result
