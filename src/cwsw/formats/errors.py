"""What a reader reports: a fatal ``FormatError``, or ``Finding``s about records and values."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

# fatal: the file is rejected; record: a record is suspect; value: one value was nulled.
Severity = Literal["fatal", "record", "value"]


class FormatError(Exception):
    """A file cwsw cannot read at all (not XML, wrong root, truncated, missing columns).

    Always names the file, and the line when it is known, so the user can find the fault.
    """

    def __init__(self, file: Path | str, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.message = message
        self.line = line
        where = f"{self.file}, line {line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


class Finding(NamedTuple):
    """One data-quality observation, located precisely enough to fix it at source.

    A named tuple rather than a dataclass: a national file can hold millions, made, pickled
    between reading processes and stored, and a tuple is several times cheaper at each step.
    """

    file: str
    location: str  # XML element path and line, or CSV "row N" (the header is row 1)
    field: str
    value: str | None
    rule: str
    severity: Severity
