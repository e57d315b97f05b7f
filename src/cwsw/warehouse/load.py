"""Loading files into the warehouse: atomic per file and idempotent by SHA-256.

A file is read completely before anything is written, then its ``loads`` row and all its rows
go in one transaction, so a bad or interrupted file leaves the warehouse as it was.

A file of the same dataset and period as an earlier load supersedes it, unless it holds no
rows or far fewer than the load it would replace (``CWSW_SUPERSEDE_MIN_RATIO``): such a file
is refused (a return of another collection, an empty or truncated export) unless the user
says ``replace``, so a wrong file never silently empties a year.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from dataclasses import replace as replace_result
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from cwsw.formats.common import Columns, ReadResult, Row
from cwsw.formats.detect import Detected, detect, given_year, read_file
from cwsw.formats.errors import (
    Finding,
    FindingSummary,
    FormatError,
    RereadInOneProcess,
    findings_table,
)
from cwsw.formats.xmltools import root_element
from cwsw.settings import get_settings
from cwsw.warehouse.connection import Warehouse, WarehouseNotOpened
from cwsw.warehouse.schema import TABLES, arrow_schema, ensure_schema
from cwsw.warehouse.staging import Staging

# "refused": read, but not loaded, because it would replace a much bigger load (or, under
# ``check``, a real load would refuse it).
Status = Literal["loaded", "already loaded", "failed", "skipped", "checked", "refused"]
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
    # Counts by rule and the first examples; every finding of a load is in ``load_finding``.
    findings: FindingSummary = field(default_factory=FindingSummary)
    message: str | None = None  # why it failed or was skipped
    load_id: int | None = None
    dataset: str | None = None
    superseded: list[int] = field(default_factory=list)  # earlier loads this one replaced
    # Things the user should know that are not about the file's content (two files of one
    # run holding the same dataset and period).
    warnings: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def findings_by_rule(self) -> dict[str, int]:
        return dict(self.findings.counts)


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
    """Rows of a canonical table as Arrow, typed by the warehouse schema.

    ``from_pylist`` converts in C; a key a row lacks becomes null.
    """
    schema = arrow_schema(table)
    position = schema.get_field_index("load_id")
    data = pa.Table.from_pylist(rows, schema=schema.remove(position))
    load_ids = pa.array(np.full(len(rows), load_id, dtype=np.int32), type=pa.int32())
    return data.add_column(position, schema.field(position), load_ids)


def columns_to_arrow(table: str, columns: Columns, load_id: int) -> pa.Table:
    """A reader's columnar batch as Arrow, typed by the warehouse schema; absent columns null."""
    schema = arrow_schema(table)
    length = len(next(iter(columns.values()), ()))
    arrays = []
    for column in schema:
        if column.name == "load_id":
            arrays.append(pa.array(np.full(length, load_id, dtype=np.int32), type=pa.int32()))
        elif column.name in columns:
            values = columns[column.name]
            if isinstance(values, pa.Array):
                arrays.append(values.cast(column.type))
            else:
                arrays.append(pa.array(values, type=column.type))
        else:
            arrays.append(pa.nulls(length, type=column.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def findings_arrow(findings: list[Finding], load_id: int) -> pa.Table:
    """Findings as rows of ``load_finding``."""
    return finding_table_arrow(findings_table(findings), load_id)


def finding_table_arrow(findings: pa.Table, load_id: int) -> pa.Table:
    """A reader's Arrow batch of findings (``FINDING_SCHEMA``) as rows of ``load_finding``."""
    schema = arrow_schema("load_finding")
    load_ids = pa.array(np.full(findings.num_rows, load_id, dtype=np.int32), type=pa.int32())
    return pa.Table.from_arrays(
        [load_ids if f.name == "load_id" else findings.column(f.name) for f in schema],
        schema=schema,
    )


class _Skipped(Exception):
    """Raised inside a load's transaction to undo it: the file holds nothing to load."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__(result.message)
        self.result = result


class _Refused(_Skipped):
    """Raised inside a load's transaction to undo it: the file would replace a much bigger
    load of the same dataset and period (:meth:`Replaced.refused`)."""


def _failed(path: Path, digest: str, error: FormatError) -> LoadResult:
    location = f"line {error.line}" if error.line else ""
    fatal = Finding(str(path), location, "", None, "unreadable_file", "fatal")
    findings = FindingSummary.of([fatal])
    return LoadResult(path, None, None, digest, "failed", findings=findings, message=str(error))


def _unreadable(
    path: Path, named: bool, digest: str, encoding: str | None = None, year: int | None = None
) -> LoadResult | Detected:
    """How to read the file (an SSDA903 file told the ``year`` the user gave, if any), or a
    LoadResult saying why it will not be read."""
    detected = detect(path, encoding=encoding)
    if detected is None:
        if not named:
            message = f"{path.name}: not a file cwsw reads"
            return LoadResult(path, None, None, digest, "skipped", message=message)
        error = FormatError(path, "not a file cwsw reads (see docs/data-contracts.md §1)")
        if path.suffix.lower() == ".xml":
            root, line = root_element(path)
            if root is not None:
                error = FormatError(
                    path,
                    f"root element is <{root}>: cwsw reads CIN census (<Message>) "
                    "and SSDA903 (<EXPSSDA903>) XML",
                    line,
                )
        return _failed(path, digest, error)
    if detected.reader is None:
        message = f"{path.name}: {detected.note}; skipped"
        return LoadResult(path, detected.format, None, digest, "skipped", message=message)
    return given_year(detected, year)


def _one_process(detected: Detected) -> Detected:
    """The same reader told to read in this process only (see ``RereadInOneProcess``)."""
    assert detected.reader is not None
    return replace_result(detected, reader=partial(detected.reader, workers=1))


def _check_tables(path: Path, tables: Iterable[str]) -> None:
    unknown = set(tables) - set(TABLES)
    if unknown:  # a reader bug, not a user error: fail loudly
        raise ValueError(f"{path}: reader produced unknown tables {sorted(unknown)}")


def _finished(read: ReadResult) -> ReadResult:
    """The read with its last rows and findings handed to its sink (so ``summary`` is whole)."""
    read.flush()
    return read


def _skipped_if_empty(read: ReadResult, digest: str) -> None:
    if not read.counts and read.messages:
        raise _Skipped(
            LoadResult(
                read.file,
                read.format,
                read.period,
                digest,
                "skipped",
                findings=read.summary,
                message="; ".join(read.messages),
            )
        )


def _drop_batch(path: Path, batch: ReadResult) -> None:
    _check_tables(path, batch.tables)


def check(
    paths: Iterable[Path | str],
    progress: Progress | None = None,
    *,
    warehouse: Warehouse | None = None,
    replace: bool = False,
    min_ratio: float | None = None,
    encoding: str | None = None,
    year: int | None = None,
) -> list[LoadResult]:
    """Read every file as ``ingest`` would (CSV files in ``encoding``), writing nothing.

    With a ``warehouse`` (opened read-only is enough), each result also says what a real load
    would do there: supersede which earlier load, or be refused (``replace`` and
    ``min_ratio`` as for :func:`ingest`). Two files of the run holding the same dataset and
    period are warned about either way.
    """
    ratio = _min_ratio(min_ratio)
    files = expand(paths)
    results = []
    for done, (path, named) in enumerate(files):
        if progress:
            progress(f"Checking {path.name}", done, len(files))
        digest = _hash(path)
        if isinstance(digest, LoadResult):
            results.append(digest)
            continue
        detected = _unreadable(path, named, digest, encoding, year)
        if isinstance(detected, LoadResult):
            results.append(detected)
            continue
        try:
            # The sink drops each batch once counted: checking a large file uses little memory.
            sink = partial(_drop_batch, path)
            read_as = partial(read_file, path, sink=sink, encoding=encoding)
            try:
                read = _finished(read_as(detected=detected))
            except RereadInOneProcess:
                read = _finished(read_as(detected=_one_process(detected)))
            _skipped_if_empty(read, digest)
        except FormatError as error:
            results.append(_failed(path, digest, error))
            continue
        except _Skipped as skipped:
            results.append(skipped.result)
            continue
        checked = LoadResult(
            path,
            read.format,
            read.period,
            digest,
            "checked",
            read.counts,
            read.summary,
            dataset=read.dataset,
        )
        if warehouse is not None:
            checked = _foreseen(warehouse, checked, replace, ratio)
        results.append(checked)
    if progress:
        progress("Checked", len(files), len(files))
    return _warn_of_shared_claims(results)


@contextmanager
def foreseeing(path: Path) -> Iterator[tuple[Warehouse | None, str | None]]:
    """The warehouse at ``path`` opened read-only, for :func:`check` to say what a load would
    do there; else None with the reason (there is none yet, or another process holds it):
    the files are then checked alone."""
    if not path.exists():
        yield None, None
        return
    try:
        warehouse = Warehouse.open(path, read_only=True)
    except WarehouseNotOpened as error:
        yield None, f"files checked without comparing them with the warehouse: {error}"
        return
    with warehouse:
        yield warehouse, None


def _previous_load(warehouse: Warehouse, digest: str) -> tuple[str, str | None] | None:
    """The format and period of the earlier load of this content, if any."""
    found = warehouse.execute("SELECT format, period FROM loads WHERE sha256 = ?", [digest])
    return (found[0][0], found[0][1]) if found else None


def _hash(path: Path) -> str | LoadResult:
    try:
        return sha256_of(path)
    except OSError as error:
        message = f"{path}: cannot read the file ({error.strerror or error})"
        fatal = FindingSummary.of([Finding(str(path), "", "", None, "unreadable_file", "fatal")])
        return LoadResult(path, None, None, "", "failed", findings=fatal, message=message)


def _min_ratio(given: float | None) -> float:
    return get_settings().supersede_min_ratio if given is None else given


# What a load holds, named by the first canonical table it writes (see ``Replaced``).
_UNITS = {
    "cin_child": "children",
    "cla_child": "children",
    "cla_episode": "episodes",
    "person": "people",
    "establishment": "schools",
    "pupil_enrolment": "pupil records",
    "ks2_result": "results",
    "ks4_result": "results",
    "pupil_attendance_session": "sessions",
}


@dataclass(frozen=True)
class Replaced:
    """The current loads of a dataset and period that a new file would replace, and what
    each side holds: the rows of ``table``, the first canonical table (in schema order) that
    either writes. For a CIN census that is ``cin_child``, one row per child."""

    load_ids: tuple[int, ...]
    file_names: tuple[str, ...]
    table: str | None
    new: int
    old: int

    @property
    def unit(self) -> str:
        return _UNITS.get(self.table or "", f"rows of {self.table or 'any table'}")

    def refused(self, min_ratio: float) -> bool:
        """Whether replacing would lose most of what is loaded: the new file holds nothing
        where the earlier held something, or less than ``min_ratio`` of it."""
        return self.old > 0 and (self.new == 0 or self.new < min_ratio * self.old)

    def describe(self) -> str:
        """``load 3 (cin_census_2022.xml)``."""
        loads = ", ".join(
            f"{load_id} ({name})"
            for load_id, name in zip(self.load_ids, self.file_names, strict=True)
        )
        return f"load{'s' if len(self.load_ids) > 1 else ''} {loads}"


def _claim(dataset: str | None, period: str | None) -> str:
    return " ".join(part for part in (dataset, period) if part)


def current_loads(
    warehouse: Warehouse, dataset: str, period: str | None, but: int | None = None
) -> list[tuple[int, str]]:
    """The loads of ``dataset`` and ``period`` not superseded (except ``but``), oldest first:
    load id and file name."""
    found = warehouse.execute(
        "SELECT load_id, file_name FROM loads WHERE dataset = ? "
        "AND period IS NOT DISTINCT FROM ? AND superseded_by IS NULL AND load_id <> ? "
        "ORDER BY load_id",
        [dataset, period, -1 if but is None else but],
    )
    return [(int(load_id), str(name)) for load_id, name in found]


def replaced_by(
    warehouse: Warehouse,
    dataset: str,
    period: str | None,
    counts: dict[str, int],
    load_id: int | None = None,
) -> Replaced | None:
    """What a file of ``dataset`` and ``period`` holding ``counts`` rows per table would
    replace (None: nothing). Only counts are read, never values."""
    older = current_loads(warehouse, dataset, period, load_id)
    if not older:
        return None
    ids = tuple(load_id for load_id, _ in older)
    names = tuple(name for _, name in older)
    present = {str(row[0]) for row in warehouse.execute("SELECT table_name FROM duckdb_tables()")}
    marks = ", ".join("?" for _ in ids)
    for table in TABLES:
        if table in ("loads", "load_finding") or table not in present:
            continue
        new = counts.get(table, 0)
        old = int(
            warehouse.execute(
                f'SELECT count(*) FROM "{table}" WHERE load_id IN ({marks})', list(ids)
            )[0][0]
        )
        if new or old:
            return Replaced(ids, names, table, new, old)
    return Replaced(ids, names, None, 0, 0)


def _refusal(path: Path, dataset: str, period: str | None, replaced: Replaced, verb: str) -> str:
    """One line: the file, dataset and period, what each load holds, and the way out."""
    unit = replaced.unit
    holds = f"{replaced.new:,} {unit}" if replaced.new else f"no {unit}"
    return (
        f"{path}: {verb}: it holds {holds} against {replaced.old:,} in the "
        f"{_claim(dataset, period)} {replaced.describe()} it would replace; if it is the "
        "right file, load it with `cwsw ingest --replace`"
    )


def _foreseen(
    warehouse: Warehouse, result: LoadResult, replace: bool, min_ratio: float
) -> LoadResult:
    """A checked file's result, saying what loading it into ``warehouse`` would do."""
    columns = warehouse.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'loads'"
    )
    # A warehouse older than ``loads.dataset`` (issue 3) gains it on its next load only.
    if ("dataset",) not in columns or result.dataset is None:
        return result
    previous = warehouse.execute("SELECT load_id FROM loads WHERE sha256 = ?", [result.sha256])
    if previous:
        return replace_result(
            result, message=f"already loaded (load {previous[0][0]}): loading it changes nothing"
        )
    replaced = replaced_by(warehouse, result.dataset, result.period, result.rows)
    if replaced is None:
        return result
    if not replace and replaced.refused(min_ratio):
        message = _refusal(
            result.file, result.dataset, result.period, replaced, "a load would be refused"
        )
        return replace_result(result, status="refused", message=message)
    return replace_result(
        result,
        message=f"would supersede {replaced.describe()} of {_claim(result.dataset, result.period)}",
    )


def _warn_of_shared_claims(results: list[LoadResult]) -> list[LoadResult]:
    """Warn on each file that holds the same dataset and period as an earlier file of the run:
    a load keeps one file per dataset and period, so one of them replaces (or is refused
    beside) the other."""
    first: dict[tuple[str, str | None], Path] = {}
    for result in results:
        if result.dataset is None or result.status not in ("loaded", "checked", "refused"):
            continue
        key = (result.dataset, result.period)
        if key in first:
            result.warnings.append(
                f"{result.file} holds {_claim(*key)}, as {first[key]} in this run does: "
                "the warehouse keeps one file per dataset and period"
            )
        else:
            first[key] = result.file
    return results


def supersede(warehouse: Warehouse, load_id: int, dataset: str, period: str | None) -> list[int]:
    """Replace earlier loads of the same dataset and period by ``load_id``.

    Their rows leave the canonical tables; their ``loads`` and ``load_finding`` rows stay, with
    ``superseded_by`` saying what replaced them, so the history is explicit.
    """
    older = [
        int(row[0])
        for row in warehouse.execute(
            "SELECT load_id FROM loads WHERE dataset = ? AND period IS NOT DISTINCT FROM ? "
            "AND superseded_by IS NULL AND load_id <> ? ORDER BY load_id",
            [dataset, period, load_id],
        )
    ]
    if not older:
        return []
    marks = ", ".join("?" for _ in older)
    for table in TABLES:
        if table not in ("loads", "load_finding"):
            warehouse.execute(f'DELETE FROM "{table}" WHERE load_id IN ({marks})', older)
    warehouse.execute(
        f"UPDATE loads SET superseded_by = ? WHERE load_id IN ({marks})", [load_id, *older]
    )
    return older


def load_file(
    warehouse: Warehouse,
    path: Path,
    digest: str,
    detected: Detected,
    *,
    replace: bool = False,
    min_ratio: float | None = None,
    encoding: str | None = None,
) -> LoadResult:
    """Read one file straight into the warehouse, all in a single transaction (a CSV file in
    ``encoding``, default UTF-8).

    Rows and findings are staged batch by batch as they are read (bounded memory) and
    inserted once the file has been read whole; a fatal error, a crash or a kill before the
    COMMIT leaves nothing of the file behind. A file that would replace a much bigger load of
    its dataset and period is refused (nothing written) unless ``replace``.
    """
    ratio = _min_ratio(min_ratio)
    with warehouse.transaction(), closing(Staging(warehouse)) as staging:
        # Checked inside the transaction: another process may have loaded it meanwhile.
        previous = _previous_load(warehouse, digest)
        if previous is not None:
            return LoadResult(path, *previous, digest, "already loaded")
        load_id = int(warehouse.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads")[0][0])

        def sink(batch: ReadResult) -> None:
            _check_tables(path, batch.tables)
            for table, rows in batch.tables.items():
                if rows:
                    staging.add(table, to_arrow(table, rows, load_id))
                for columns in batch.columns.get(table, ()):
                    staging.add(table, columns_to_arrow(table, columns, load_id))
            for findings in batch.finding_tables:  # before ``findings``, as ReadResult says
                staging.add("load_finding", finding_table_arrow(findings, load_id))
            if batch.findings:
                staging.add("load_finding", findings_arrow(batch.findings, load_id))

        read = _finished(read_file(path, sink=sink, detected=detected, encoding=encoding))
        _skipped_if_empty(read, digest)
        dataset = read.dataset or read.format
        counts = read.counts
        replaced = replaced_by(warehouse, dataset, read.period, counts)
        if replaced is not None and not replace and replaced.refused(ratio):
            refusal = _refusal(path, dataset, read.period, replaced, "not loaded")
            raise _Refused(
                LoadResult(
                    path,
                    read.format,
                    read.period,
                    digest,
                    "refused",
                    counts,
                    read.summary,
                    refusal,
                    dataset=dataset,
                )
            )
        staging.insert()
        superseded = supersede(warehouse, load_id, dataset, read.period)
        warehouse.execute(
            "INSERT INTO loads (load_id, sha256, file_name, format, period, loaded_at, rows, "
            "dataset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                digest,
                path.name,
                read.format,
                read.period,
                datetime.now(),
                sum(counts.values()),
                dataset,
            ],
        )
    message = None
    if superseded:
        earlier = ", ".join(map(str, superseded))
        message = f"supersedes earlier load(s) {earlier} of {dataset} {read.period}"
    return LoadResult(
        path,
        read.format,
        read.period,
        digest,
        "loaded",
        counts,
        read.summary,
        message,
        load_id,
        dataset,
        superseded,
    )


def ingest(
    warehouse: Warehouse,
    paths: Iterable[Path | str],
    progress: Progress | None = None,
    *,
    replace: bool = False,
    min_ratio: float | None = None,
    encoding: str | None = None,
    year: int | None = None,
) -> list[LoadResult]:
    """Load files and folders (walked recursively) into the warehouse, one file at a time
    (CSV files in ``encoding``, default UTF-8 with or without a byte order mark).

    A file whose SHA-256 is already in ``loads`` is not read again; a file that cannot be read
    is reported as failed and nothing of it is written; a file of the same dataset and period
    as an earlier load supersedes it, unless it holds no rows or fewer than ``min_ratio``
    (default ``CWSW_SUPERSEDE_MIN_RATIO``) of the earlier load's, when it is refused unless
    ``replace``.
    """
    ratio = _min_ratio(min_ratio)
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
        detected = _unreadable(path, named, digest, encoding, year)
        if isinstance(detected, LoadResult):
            results.append(detected)
            continue
        try:
            load = partial(
                load_file,
                warehouse,
                path,
                digest,
                replace=replace,
                min_ratio=ratio,
                encoding=encoding,
            )
            try:
                results.append(load(detected))
            except RereadInOneProcess:  # rolled back: read it again in this process alone
                results.append(load(_one_process(detected)))
        except FormatError as error:
            results.append(_failed(path, digest, error))
        except _Skipped as skipped:
            results.append(skipped.result)
        except Exception as error:  # the transaction rolled back: report, carry on
            results.append(
                LoadResult(
                    path, None, None, digest, "failed", message=f"{path}: load failed: {error}"
                )
            )
    if progress:
        progress("Loaded", len(files), len(files))
    return _warn_of_shared_claims(results)
