"""Case management system person extract (data contracts §2.4): the names linkage needs."""

from __future__ import annotations

from pathlib import Path

from cwsw.formats.common import Collector, CsvSource, ReadResult, Sink, clean_text

FORMAT = "person_extract"
REQUIRED = ("la_child_id", "forename", "surname", "date_of_birth", "sex", "upn", "postcode")
SEX_CODES = {"M": "M", "F": "F", "U": "U"}
# A postcode read in another case or spacing than written (``sw1a  1aa``).
NORMALISED_POSTCODE = "normalised_postcode"


def read_person_extract(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """``person_extract.csv`` → ``person``."""
    path = Path(path)
    values = Collector(path)
    rows = []
    for row in CsvSource(path, REQUIRED, collector=values).rows():
        where = row.location
        la_child_id = values.child_id(row.get("la_child_id"), where, "la_child_id")
        if la_child_id is None:
            values.add(where, "la_child_id", None, "missing_child_id", "record")
        upn_raw = row.get("upn")
        postcode = clean_text(row.get("postcode"))
        # One spacing convention so that postcodes compare equal across sources.
        postcode_read = " ".join(postcode.upper().split()) if postcode else None
        if postcode_read != postcode:
            values.corrected(where, "postcode", postcode, NORMALISED_POSTCODE)
        rows.append(
            {
                "la_child_id": la_child_id,
                "forename": clean_text(row.get("forename")),
                "surname": clean_text(row.get("surname")),
                "birth_date": values.date(row.get("date_of_birth"), where, "date_of_birth"),
                "sex": values.mapped(row.get("sex"), SEX_CODES, where, "sex"),
                "upn": values.upn(upn_raw, where, "upn"),
                "upn_raw": upn_raw,
                "postcode": postcode_read,
            }
        )
    result = ReadResult(path, FORMAT, None, {"person": rows}, values.findings)
    result.sink = sink
    result.flush()
    return result
