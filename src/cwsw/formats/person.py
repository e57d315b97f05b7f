"""Case management system person extract (data contracts §2.4): the names linkage needs."""

from __future__ import annotations

from pathlib import Path

from cwsw.formats.common import Collector, CsvSource, ReadResult, Sink, child_id, clean_text

FORMAT = "person_extract"
REQUIRED = ("la_child_id", "forename", "surname", "date_of_birth", "sex", "upn", "postcode")
SEX_CODES = {"M": "M", "F": "F", "U": "U"}


def read_person_extract(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """``person_extract.csv`` → ``person``."""
    path = Path(path)
    values = Collector(path)
    rows = []
    for row in CsvSource(path, REQUIRED).rows():
        where = row.location
        la_child_id = child_id(row.get("la_child_id"))
        if la_child_id is None:
            values.add(where, "la_child_id", None, "missing_child_id", "record")
        upn_raw = row.get("upn")
        postcode = clean_text(row.get("postcode"))
        rows.append(
            {
                "la_child_id": la_child_id,
                "forename": clean_text(row.get("forename")),
                "surname": clean_text(row.get("surname")),
                "birth_date": values.date(row.get("date_of_birth"), where, "date_of_birth"),
                "sex": values.mapped(row.get("sex"), SEX_CODES, where, "sex"),
                "upn": values.upn(upn_raw, where, "upn"),
                "upn_raw": upn_raw,
                # One spacing convention so that postcodes compare equal across sources.
                "postcode": " ".join(postcode.upper().split()) if postcode else None,
            }
        )
    result = ReadResult(path, FORMAT, None, {"person": rows}, values.findings)
    result.sink = sink
    result.flush()
    return result
