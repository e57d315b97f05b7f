"""What a reader reports: a fatal ``FormatError``, or ``Finding``s about records and values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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


@dataclass(frozen=True)
class Finding:
    """One data-quality observation, located precisely enough to fix it at source."""

    file: str
    location: str  # XML element path and line, or CSV "row N" (the header is row 1)
    field: str
    value: str | None
    rule: str
    severity: Severity
