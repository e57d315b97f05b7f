"""The LA's schools, GIAS-style (data contracts §2.3)."""

from __future__ import annotations

from pathlib import Path

from cwsw.formats.common import Collector, CsvSource, ReadResult, Sink, clean_text

FORMAT = "establishments"
REQUIRED = ("laestab", "urn", "establishment_name", "phase")
PHASES = {
    name.upper(): name for name in ("Primary", "Secondary", "Special", "Alternative provision")
}


def read_establishments(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """``establishments.csv`` → ``establishment``."""
    path = Path(path)
    values = Collector(path)
    rows = []
    for row in CsvSource(path, REQUIRED, collector=values).rows():
        where = row.location
        laestab = clean_text(row.get("laestab"))
        if laestab is None:
            values.add(where, "laestab", None, "missing_laestab", "record")
        rows.append(
            {
                "laestab": laestab,
                "urn": clean_text(row.get("urn")),
                "establishment_name": clean_text(row.get("establishment_name")),
                "phase": values.mapped(row.get("phase"), PHASES, where, "phase"),
            }
        )
    result = ReadResult(path, FORMAT, None, {"establishment": rows}, values.findings)
    result.sink = sink
    result.flush()
    return result
