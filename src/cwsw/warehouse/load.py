"""Loading files into the warehouse: atomic per file and idempotent by SHA-256.

A file is read completely before anything is written, then its ``loads`` row and all its rows
go in one transaction, so a bad or interrupted file leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa

from cwsw.formats.common import ReadResult, Row
from cwsw.formats.detect import detect, read_file
from cwsw.formats.errors import Finding, FormatError
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.schema import TABLES, arrow_schema, ensure_schema

Status = Literal["loaded", "already loaded", "failed", "skipped", "checked"]
Progress = Callable[[str, int, int], None]


@dataclass
class LoadResult:
    """What happened to one file."""

    file: Path
    format: str | None
    period: str | None
    sha256: str
    status: Status
    rows: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    message: str | None = None  # why it failed or was skipped

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def expand(paths: Iterable[Path | str]) -> list[tuple[Path, bool]]:
    """Files to consider, each with whether the user named it (rather than its folder).

    Folders are walked recursively; ``truth/`` (the synthetic answers) and hidden files are
    never read.
    """
    found: list[tuple[Path, bool]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                parts = file.relative_to(path).parts
                if (
                    file.is_file()
                    and "truth" not in parts[:-1]
                    and not any(part.startswith(".") for part in parts)
                ):
                    found.append((file, False))
        else:
            found.append((path, True))
    return found


def to_arrow(table: str, rows: list[Row], load_id: int) -> pa.Table:
    """Rows of a canonical table as Arrow, typed by the warehouse schema."""
    schema = arrow_schema(table)
    columns = [
        pa.array([load_id] * len(rows), type=column.type)
        if column.name == "load_id"
        else pa.array([row.get(column.name) for row in rows], type=column.type)
        for column in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _read(path: Path, named: bool, digest: str) -> LoadResult | ReadResult:
    """The file's rows, or a LoadResult saying why there are none to load."""
    if not named and detect(path) is None:
        return LoadResult(
            path, None, None, digest, "skipped", message=f"{path.name}: not a file cwsw reads"
        )
    try:
        read = read_file(path)
    except FormatError as error:
        fatal = Finding(
            str(path),
            f"line {error.line}" if error.line else "",
            "",
            None,
            "unreadable_file",
            "fatal",
        )
        return LoadResult(path, None, None, digest, "failed", findings=[fatal], message=str(error))
    unknown = set(read.tables) - set(TABLES)
    if unknown:  # a reader bug, not a user error: fail loudly
        raise ValueError(f"{path}: reader produced unknown tables {sorted(unknown)}")
    if not read.tables and read.messages:
        return LoadResult(
            path,
            read.format,
            read.period,
            digest,
            "skipped",
            findings=read.findings,
            message="; ".join(read.messages),
        )
    return read


def check(paths: Iterable[Path | str], progress: Progress | None = None) -> list[LoadResult]:
    """Read every file as ``ingest`` would, without touching a warehouse."""
    files = expand(paths)
    results = []
    for done, (path, named) in enumerate(files):
        if progress:
            progress(f"Checking {path.name}", done, len(files))
        digest = _hash(path)
        if isinstance(digest, LoadResult):
            results.append(digest)
            continue
        read = _read(path, named, digest)
        if isinstance(read, LoadResult):
            results.append(read)
            continue
        results.append(
            LoadResult(
                path,
                read.format,
                read.period,
                digest,
                "checked",
                {table: len(rows) for table, rows in read.tables.items()},
                read.findings,
            )
        )
    if progress:
        progress("Checked", len(files), len(files))
    return results


def _previous_load(warehouse: Warehouse, digest: str) -> tuple[str, str | None] | None:
    """The format and period of the earlier load of this content, if any."""
    found = warehouse.execute("SELECT format, period FROM loads WHERE sha256 = ?", [digest])
    return (found[0][0], found[0][1]) if found else None


def _hash(path: Path) -> str | LoadResult:
    try:
        return sha256_of(path)
    except OSError as error:
        message = f"{path}: cannot read the file ({error.strerror or error})"
        fatal = Finding(str(path), "", "", None, "unreadable_file", "fatal")
        return LoadResult(path, None, None, "", "failed", findings=[fatal], message=message)


def load_read(warehouse: Warehouse, read: ReadResult, digest: str) -> LoadResult:
    """Write one file's rows and its ``loads`` row in a single transaction."""
    counts = {table: len(rows) for table, rows in read.tables.items()}
    with warehouse.transaction():
        # Re-checked inside the transaction: another process may have loaded it meanwhile.
        if _previous_load(warehouse, digest) is not None:
            return LoadResult(read.file, read.format, read.period, digest, "already loaded")
        load_id = int(warehouse.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads")[0][0])
        warehouse.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                digest,
                read.file.name,
                read.format,
                read.period,
                datetime.now(),
                sum(counts.values()),
            ],
        )
        for table, rows in read.tables.items():
            warehouse.insert_arrow(table, to_arrow(table, rows, load_id))
    return LoadResult(read.file, read.format, read.period, digest, "loaded", counts, read.findings)


def ingest(
    warehouse: Warehouse, paths: Iterable[Path | str], progress: Progress | None = None
) -> list[LoadResult]:
    """Load files and folders (walked recursively) into the warehouse, one file at a time.

    A file whose SHA-256 is already in ``loads`` is not read again; a file that cannot be read
    is reported as failed and nothing of it is written.
    """
    ensure_schema(warehouse)
    files = expand(paths)
    results = []
    for done, (path, named) in enumerate(files):
        if progress:
            progress(f"Loading {path.name}", done, len(files))
        digest = _hash(path)
        if isinstance(digest, LoadResult):
            results.append(digest)
            continue
        previous = _previous_load(warehouse, digest)
        if previous is not None:
            results.append(LoadResult(path, *previous, digest, "already loaded"))
            continue
        read = _read(path, named, digest)
        if isinstance(read, LoadResult):
            results.append(read)
            continue
        try:
            results.append(load_read(warehouse, read, digest))
        except Exception as error:  # the transaction rolled back: report, carry on
            results.append(
                LoadResult(
                    path,
                    read.format,
                    read.period,
                    digest,
                    "failed",
                    findings=read.findings,
                    message=f"{path}: load failed: {error}",
                )
            )
    if progress:
        progress("Loaded", len(files), len(files))
    return results
