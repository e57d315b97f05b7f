"""Shared pieces of the readers: the read result, value parsers and the CSV row source."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cwsw.domain.upn import clean_upn, normalise_id
from cwsw.formats.errors import (
    FINDING_SCHEMA,
    Finding,
    FindingSummary,
    FormatError,
    Severity,
    findings_from_table,
)

Row = dict[str, Any]
# A column is a list of Python values, or an Arrow array from a reading process.
Columns = dict[str, Any]
# Receives a batch of rows (``ReadResult.tables``) before the reader clears them.
Sink = Callable[["ReadResult"], None]
BATCH_ROWS = 50_000
# Findings of one field and rule, column-wise: severity, rule, field, locations, values.
_Block = tuple[Severity, str, str, list[str], list[str | None]]

# What was corrected to read a value: an information finding with the value as written, so
# the council learns what to fix at source (the value read is the corrected one). The same
# rules in every reader (the CIN census and SSDA903 readers make them too).
INFORMATION: Severity = "information"
NORMALISED_UPN = "normalised_upn"  # a UPN in lower case
NORMALISED_CHILD_ID = "normalised_child_id"  # an LA child ID as 123.0, in lower case
NORMALISED_ID = "normalised_id"  # a school's LAESTAB or URN as 8801234.0
NORMALISED_CODE = "normalised_code"  # a code in the wrong case (k3 for K3)
NORMALISED_FLAG = "normalised_flag"  # a yes/no written true / false or 1.0 (0 / 1 expected)
NORMALISED_NUMBER = "normalised_number"  # a whole number written 136.0
NORMALISED_WHITE_SPACE = "normalised_white_space"  # spaces around a value, trimmed
# Yes/no as the standards write it (DfE's yesnotype, the data contracts).
_STANDARD_FLAGS = frozenset({"0", "1"})


@dataclass
class ReadResult:
    """Everything read from one file: rows per canonical table (without ``load_id``).

    Without a ``sink`` every row stays in ``tables``. With one, a reader hands over its rows
    in batches (``maybe_flush``) so that a national-scale file is read in bounded memory;
    ``counts`` then says how many rows of each table were read in all, and ``summary`` the
    findings handed over with them (``findings`` holds those not yet handed over).
    """

    file: Path
    format: str
    period: str | None
    tables: dict[str, list[Row]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Information for the user that is not a data-quality problem (e.g. a table not used yet).
    messages: list[str] = field(default_factory=list)
    # What a newer file supersedes: the same dataset for the same period (default: format).
    dataset: str | None = None
    sink: Sink | None = None
    # Batches a reader built column by column (table → column → values), for the sink.
    columns: dict[str, list[Columns]] = field(default_factory=dict)
    flushed: dict[str, int] = field(default_factory=dict)
    summary: FindingSummary = field(default_factory=FindingSummary)
    # Batches of findings held as Arrow (``FINDING_SCHEMA``) for the sink, which takes them
    # before ``findings`` (a reader that makes both adds the tables' findings first).
    finding_tables: list[pa.Table] = field(default_factory=list)
    # The part of the file the buffered findings come from (reading processes; file order).
    part: int = 0
    _buffered: int = 0

    def rows(self, table: str) -> list[Row]:
        return self.tables.setdefault(table, [])

    def add_columns(self, table: str, columns: Columns) -> None:
        """A batch of ``table`` built column by column (all columns of one length).

        With a sink it is handed over as columns (no row dicts are built); without one it
        joins ``tables`` as rows, so small reads look the same whichever way they were built.
        """
        if self.sink is None:
            names = list(columns)
            lists = [v.to_pylist() if isinstance(v, pa.Array) else v for v in columns.values()]
            self.rows(table).extend(
                dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)
            )
            return
        self.rows(table)  # the table is known, even when this batch is empty
        self.columns.setdefault(table, []).append(columns)
        self._buffered += _length(columns)

    def add_findings_table(self, table: pa.Table) -> None:
        """A batch of findings as Arrow (``FINDING_SCHEMA``), in file order after those held.

        With a sink it is handed over as it is; without one its rows join ``findings``.
        """
        if self.sink is None:
            self.findings.extend(findings_from_table(table, str(self.file)))
        elif table.num_rows:
            self.finding_tables.append(table)

    @property
    def counts(self) -> dict[str, int]:
        """Rows read per canonical table, flushed or not."""
        names = list(self.flushed) + [t for t in self.tables if t not in self.flushed]
        return {
            t: self.flushed.get(t, 0)
            + len(self.tables.get(t, ()))
            + sum(_length(c) for c in self.columns.get(t, ()))
            for t in names
        }

    def maybe_flush(self, added: int = 1) -> None:
        """Called by readers as they add rows: hands a full batch to the sink."""
        self._buffered += added
        if self.sink is not None and self._buffered >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand every buffered row and finding to the sink and forget them, keeping counts
        (no-op without a sink)."""
        if self.sink is None:
            return
        self.sink(self)
        for table in self.finding_tables:
            self.summary.add_table(table, str(self.file), self.part)
        self.finding_tables.clear()
        self.summary.add(self.findings, self.part)
        self.findings.clear()  # in place: the reader's Collector holds this list
        for table, rows in self.tables.items():
            batches = self.columns.pop(table, [])
            read = len(rows) + sum(_length(c) for c in batches)
            self.flushed[table] = self.flushed.get(table, 0) + read
            rows.clear()
        self._buffered = 0


def _length(columns: Columns) -> int:
    return len(next(iter(columns.values()), ()))


class Collector:
    """Parses values for one file and records a Finding for every value it has to null, and
    an information finding for every value it had to correct to read (``NORMALISED_*``).

    Readers that convert each distinct value once (``column``, the date cache, the school
    census's caches) decide "corrected?" once per distinct value too, and locate only the rows
    holding a corrected one.
    """

    def __init__(
        self, file: Path, findings: list[Finding] | None = None, *, as_tables: bool = False
    ) -> None:
        self.file = file
        self._file = str(file)
        # Usually the ReadResult's own list, so findings are never copied or lost.
        self.findings: list[Finding] = findings if findings is not None else []
        # ``as_tables``: findings are kept column-wise instead, in blocks of one field and
        # rule, until ``finding_table`` takes them (no object per finding: a national CIN
        # census has millions).
        self._blocks: list[_Block] | None = [] if as_tables else None
        # Parsed dates by (style, raw text), and whether the text was padded: a return holds
        # a few thousand distinct dates in millions of values, so each is parsed once (a large
        # part of a national file's cost).
        self._dates: dict[tuple[str, str], tuple[date | None, bool]] = {}

    def add(
        self,
        location: str,
        field: str,
        value: str | None,
        rule: str,
        severity: Severity = "value",
    ) -> None:
        """Record a finding; one equal to the finding just recorded is not recorded again (a
        reader that reports a correction the Collector reported too makes it once)."""
        if self._blocks is not None:
            block: _Block = (severity, rule, field, [location], [value])
            if not self._blocks or self._blocks[-1] != block:
                self._blocks.append(block)
        else:
            finding = Finding(self._file, location, field, value, rule, severity)
            findings = self.findings
            if not findings or findings[-1] != finding:
                findings.append(finding)

    def corrected(self, location: str, field: str, value: str | None, rule: str) -> None:
        """An information finding: ``value`` (as written) was read corrected under ``rule``."""
        self.add(location, field, value, rule, INFORMATION)

    def finding_table(self) -> pa.Table:
        """The findings kept column-wise since the last call (``as_tables``), in the order
        they were found, as a ``FINDING_SCHEMA`` table."""
        if self._blocks is None:
            raise ValueError("this Collector keeps its findings as a list (as_tables=False)")
        blocks, self._blocks = self._blocks, []
        return blocks_table(blocks)

    def column(
        self,
        raws: list[str | None],
        locations: list[str],
        field: str,
        convert: Callable[[str], Any],
        rule: str,
        normalised: Callable[[str, Any], str | None] | None = None,
    ) -> pa.Array:
        """A column's raw values converted, as Arrow, each distinct value once (national
        files repeat a few thousand dates and codes millions of times); a value that
        ``convert`` turns into None is nulled and reported with its location under ``rule``.

        ``normalised(raw, value)``, when given, names the correction a distinct value needed
        (a ``NORMALISED_*`` rule, or None): each row holding one gets an information finding.
        """
        encoded = pa.array(raws, pa.string()).dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        converted = [convert(raw) for raw in distinct]
        out = pa.array(converted).take(encoded.indices)  # a null raw stays null
        failed = [n for n, value in enumerate(converted) if value is None]
        self._at_rows(encoded.indices, failed, raws, locations, field, rule, "value")
        if normalised is not None:
            why = [
                None if value is None else normalised(raw, value)
                for raw, value in zip(distinct, converted, strict=True)
            ]
            for name in sorted({r for r in why if r is not None}):
                changed = [n for n, r in enumerate(why) if r == name]
                self._at_rows(encoded.indices, changed, raws, locations, field, name, INFORMATION)
        return out

    def _at_rows(
        self,
        indices: pa.Array,
        distinct: list[int],
        raws: list[str | None],
        locations: list[str],
        field: str,
        rule: str,
        severity: Severity,
    ) -> None:
        """A finding at every row whose value is one of the ``distinct`` (dictionary
        positions), in row order."""
        if not distinct:
            return
        mask = pc.is_in(indices, value_set=pa.array(distinct, indices.type))
        rows = pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()
        if self._blocks is not None:
            self._blocks.append(
                (severity, rule, field, [locations[i] for i in rows], [raws[i] for i in rows])
            )
        else:
            for i in rows:
                self.add(locations[i], field, raws[i], rule, severity)

    def date(self, raw: str | None, location: str, field: str, style: str = "iso") -> date | None:
        if raw is None:
            return None
        key = (style, raw)
        try:
            parsed, padded = self._dates[key]
        except KeyError:
            parsed = parse_date(raw, style)
            padded = parsed is not None and len(raw) != len(raw.strip())
            self._dates[key] = parsed, padded
        if parsed is None:
            self.add(location, field, raw, "invalid_date")
        elif padded:
            self.corrected(location, field, raw, NORMALISED_WHITE_SPACE)
        return parsed

    def code(
        self, raw: str | None, allowed: frozenset[str], location: str, field: str
    ) -> str | None:
        if raw is None:
            return None
        if raw in allowed:  # the common case: already clean
            return raw
        code = raw.strip().upper()
        if code in allowed:
            self.corrected(location, field, raw, _case_or_space(raw, code))
            return code
        self.add(location, field, raw, "invalid_code")
        return None

    def mapped(
        self, raw: str | None, mapping: dict[str, str], location: str, field: str
    ) -> str | None:
        """``raw``'s value in ``mapping`` (keyed in upper case); a value written in another
        case than its key (and than the value it maps to) is read with a finding."""
        if raw is None:
            return None
        key = raw.strip().upper()
        value = mapping.get(key)
        if value is None:
            self.add(location, field, raw, "invalid_code")
        elif key != raw and value != raw:  # "primary" for "Primary" (or PRIMARY)
            self.corrected(location, field, raw, _case_or_space(raw, key))
        return value

    def flag(self, raw: str | None, location: str, field: str) -> bool | None:
        """Yes/no fields arrive as 0/1 and as true/false (docs/domain.md §3); the standards
        write 0/1, so any other form is read with a finding."""
        if raw is None:
            return None
        value = parse_flag(raw)
        if value is None:
            self.add(location, field, raw, "invalid_flag")
        elif raw not in _STANDARD_FLAGS:
            padded = raw.strip() in _STANDARD_FLAGS
            rule = NORMALISED_WHITE_SPACE if padded else NORMALISED_FLAG
            self.corrected(location, field, raw, rule)
        return value

    def integer(
        self, raw: str | None, location: str, field: str, *, as_float: bool = False
    ) -> int | None:
        """Counts written by spreadsheets and pandas as ``136.0`` are whole numbers, read with
        a finding, unless the format writes its counts so (``as_float``: the flattened school
        census, whose own extracts write ``142.0``)."""
        if raw is None:
            return None
        number = parse_integer(raw)
        if number is None:
            self.add(location, field, raw, "invalid_integer")
        elif str(number) != raw and not (as_float and raw.endswith(".0")):
            text = raw.strip()
            rule = NORMALISED_WHITE_SPACE if str(number) == text else NORMALISED_NUMBER
            self.corrected(location, field, raw, rule)
        return number

    def decimal(self, raw: str | None, location: str, field: str) -> float | None:
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError:
            self.add(location, field, raw, "invalid_number")
            return None

    def upn(self, raw: str | None, location: str, field: str) -> str | None:
        """The valid UPN or None; a value that fails the check is reported, never dropped,
        and one read corrected (lower case, padding) is reported as written."""
        if raw is None:
            return None
        upn = clean_upn(raw)
        if upn is None:
            self.add(location, field, raw, "invalid_upn")
        elif upn != raw:
            self.corrected(location, field, raw, _upn_correction(raw, upn))
        return upn

    def identifier(
        self, raw: str | None, location: str, field: str, rule: str = NORMALISED_ID
    ) -> str | None:
        """An ID (``normalise_id``: trimmed, upper-cased, a spreadsheet's ``.0`` dropped);
        one read corrected is reported under ``rule`` (padding alone as white space)."""
        value = normalise_id(raw)
        if value is not None and value != raw:
            assert raw is not None
            text = raw.strip()
            self.corrected(location, field, raw, NORMALISED_WHITE_SPACE if value == text else rule)
        return value

    def child_id(self, raw: str | None, location: str, field: str) -> str | None:
        """An LA child ID as :func:`child_id` reads it, a correction reported."""
        return self.identifier(raw, location, field, NORMALISED_CHILD_ID)

    def text(self, raw: str | None, location: str, field: str) -> str | None:
        """:func:`clean_text`, padding reported."""
        value = clean_text(raw)
        if value is not None and value != raw:
            self.corrected(location, field, raw, NORMALISED_WHITE_SPACE)
        return value


def _case_or_space(raw: str, corrected: str) -> str:
    """The rule of a code read corrected: white space if trimming alone corrects it."""
    return NORMALISED_WHITE_SPACE if raw.strip() == corrected else NORMALISED_CODE


def _upn_correction(raw: str, upn: str) -> str:
    """The rule of a UPN read corrected: white space if trimming alone corrects it, else its
    case (or a byte-order mark, which only a file's first value can carry)."""
    return NORMALISED_WHITE_SPACE if raw.strip() == upn else NORMALISED_UPN


# 1.0 / 0.0: a flag column that went through a spreadsheet or pandas.
_FLAGS = {"1": True, "0": False, "true": True, "false": False, "1.0": True, "0.0": False}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# The school census's flattened extracts write ``2020-Apr-25 00:00:00``.
_CENSUS = re.compile(r"^(\d{4})-([A-Za-z]{3})-(\d{1,2})(?: 00:00:00)?$")


def blocks_table(blocks: Sequence[_Block]) -> pa.Table:
    """Blocks of findings (severity, rule, field, locations, values) as a ``FINDING_SCHEMA``
    table, in the order they were found."""
    columns: dict[str, list[Any]] = {name: [] for name in FINDING_SCHEMA.names}
    for severity, rule, name, locations, values in blocks:
        columns["severity"].extend([severity] * len(locations))
        columns["rule"].extend([rule] * len(locations))
        columns["field"].extend([name] * len(locations))
        columns["location"].extend(locations)
        columns["value"].extend(values)
    return pa.Table.from_pydict(columns, schema=FINDING_SCHEMA)


def parse_flag(raw: str) -> bool | None:
    """Yes/no as 0/1 or true/false (docs/domain.md §3), or None."""
    value = _FLAGS.get(raw)
    return _FLAGS.get(raw.strip().lower()) if value is None else value


def parse_integer(raw: str) -> int | None:
    """A whole number, also as a spreadsheet's ``136.0``, or None."""
    try:
        number = float(raw)
    except ValueError:
        return None
    if number != number or not number.is_integer():
        return None
    return int(number)


def parse_date(raw: str, style: str = "iso") -> date | None:
    """Parse a date in the format the source dictates: ``iso``, ``dmy`` or ``census``.

    ``census`` also accepts ISO, so a tidied extract still reads.
    """
    text = raw.strip()
    # Fast path for the commonest shape; fromisoformat alone would also take 20230501.
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and style != "dmy":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        if style == "dmy":
            match = _DMY.match(text)
            if match:
                return date(int(match[3]), int(match[2]), int(match[1]))
            return None
        if style == "census":
            match = _CENSUS.match(text)
            if match:
                month = _MONTHS.get(match[2].lower())
                return date(int(match[1]), month, int(match[3])) if month else None
        match = _ISO.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # e.g. 2023-02-30
        return None
    return None


def clean_text(raw: str | None) -> str | None:
    """Trim; blank becomes None."""
    if raw is None:
        return None
    text = raw.strip()
    return text or None


def child_id(raw: str | None) -> str | None:
    """LA child IDs go through the same normalisation in every source so that they join."""
    return normalise_id(raw)


# No real return has a line this long; a longer one is not CSV (and must not fill memory).
MAX_LINE = 1 << 20

# The text encoding of CSV files: UTF-8 (a byte order mark allowed) unless the user names
# another (``cwsw ingest --encoding cp1252``); ``detect.read_file`` sets it around a read, so
# every reader's ``CsvSource`` takes it without being told.
UTF_8 = "utf-8"
_CSV_ENCODING: ContextVar[str] = ContextVar("csv_encoding", default=UTF_8)


def csv_codec(name: str) -> str:
    """``name``'s codec as Python names it, if cwsw can read CSV in it (a line ends in the byte
    ``\\n``, as in UTF-8, Windows-1252 or Latin-1); raises ``LookupError`` (unknown) or
    ``ValueError`` (UTF-16 and the like)."""
    codec = codecs.lookup(name).name
    if "\n,".encode(codec) != b"\n,":
        raise ValueError(f"{name} is not an encoding cwsw reads CSV in")
    return codec


@contextmanager
def csv_encoding(name: str | None) -> Iterator[str]:
    """Read CSV files in ``name`` (None: as before) within the block; yields the codec."""
    token = _CSV_ENCODING.set(csv_codec(name)) if name else None
    try:
        yield _CSV_ENCODING.get()
    finally:
        if token is not None:
            _CSV_ENCODING.reset(token)


def not_decoded(path: Path, codec: str, error: UnicodeDecodeError, line: int) -> FormatError:
    """The fatal error of a line that is not text in ``codec``: it says how to read it."""
    named = "UTF-8" if codec == UTF_8 else codec
    return FormatError(
        path,
        f"not {named} text ({error.reason} at byte {error.start + 1}): give the file's "
        "encoding with --encoding (cp1252 for a file saved by Excel on Windows)",
        line,
    )


def bounded_lines(
    path: Path, handle: Any, number: int = 0, encoding: str | None = None
) -> Iterator[str]:
    """The lines of a binary handle as text, one at a time, from its current position (the
    lines before it being ``number``), in ``encoding`` (default: the one set by
    :func:`csv_encoding`, UTF-8).

    Each line is decoded on its own so that a byte that is not UTF-8 is reported on its line,
    and a line longer than ``MAX_LINE`` is refused before it is held whole.
    """
    codec = csv_codec(encoding) if encoding else _CSV_ENCODING.get()
    first = "utf-8-sig" if codec == UTF_8 else codec
    while True:
        line = handle.readline(MAX_LINE)
        if not line:
            return
        number += 1
        if len(line) >= MAX_LINE and not line.endswith((b"\n", b"\r")):
            raise FormatError(path, f"line longer than {MAX_LINE:,} bytes: not a CSV", number)
        try:
            text = line.decode(first if number == 1 else codec)
        except UnicodeDecodeError as error:
            raise not_decoded(path, codec, error, number) from None
        yield text


@dataclass(frozen=True)
class CsvRow:
    number: int  # physical line of the record's start; the header is row 1
    values: dict[str, str | None]  # keyed by lower-cased header

    @property
    def location(self) -> str:
        return f"row {self.number}"

    def get(self, *names: str) -> str | None:
        """The first present column among ``names`` (older names follow newer ones)."""
        for name in names:
            if name in self.values:
                return self.values[name]
        return None


class CsvSource:
    """A CSV file read row by row: BOM tolerated, names and values trimmed, blanks as None.

    Header names are matched case-insensitively; a missing required column is fatal. The text
    is in ``encoding`` (default: the one set by :func:`csv_encoding`, UTF-8). With a
    ``collector``, every value that had spaces around it is reported to it as read corrected
    (``normalised_white_space``, the column named as the header writes it).
    """

    def __init__(
        self,
        path: Path,
        required: Sequence[str | tuple[str, ...]] = (),
        encoding: str | None = None,
        *,
        collector: Collector | None = None,
    ) -> None:
        self.path = path
        self.required = required
        self.encoding = csv_codec(encoding) if encoding else _CSV_ENCODING.get()
        self.collector = collector
        self._written: list[str] = []  # the header's names as written (trimmed)

    def rows(self) -> Iterator[CsvRow]:
        start = 1
        try:
            with self.path.open("rb") as handle:
                reader = csv.reader(bounded_lines(self.path, handle, encoding=self.encoding))
                names = self._header(reader)
                start = reader.line_num + 1
                collector = self.collector
                for record in reader:
                    cells = list(map(str.strip, record))
                    if any(cells):
                        # trailing empty cells (a stray comma) are harmless; data is not
                        if any(cells[len(names) :]):
                            raise FormatError(
                                self.path,
                                f"{len(record)} fields where the header has {len(names)}",
                                start,
                            )
                        if collector is not None and cells != record:  # compared in C
                            self._report_padding(collector, start, record, cells)
                        values = {
                            name: (cell or None) for name, cell in zip(names, cells, strict=False)
                        }
                        yield CsvRow(start, values)
                    start = reader.line_num + 1
        except csv.Error as error:
            raise FormatError(self.path, f"not readable as CSV: {error}", start) from None

    def header(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                lines = bounded_lines(self.path, handle, encoding=self.encoding)
                first = next(csv.reader(lines), [])
        except (csv.Error, FormatError):
            return []
        return [name.replace("\ufeff", "").strip().lower() for name in first]

    def _header(self, reader: Iterator[list[str]]) -> list[str]:
        """The header's names, lower-cased and trimmed, once the required ones are found."""
        try:
            header = next(reader)
        except StopIteration:
            raise FormatError(self.path, "the file is empty: no header row") from None
        self._written = [name.replace("\ufeff", "").strip() for name in header]
        names = [name.lower() for name in self._written]
        self._check_header(names)
        return names

    def _report_padding(
        self, collector: Collector, number: int, record: list[str], cells: list[str]
    ) -> None:
        """An information finding at each value of the row that was trimmed."""
        for written, raw, cell in zip(self._written, record, cells, strict=False):
            if cell and cell != raw:
                collector.corrected(f"row {number}", written, raw, NORMALISED_WHITE_SPACE)

    def _check_header(self, names: list[str]) -> None:
        present = set(names)
        missing = []
        for wanted in self.required:
            options = (wanted,) if isinstance(wanted, str) else wanted
            if not any(option.lower() in present for option in options):
                missing.append(" or ".join(options))
        if missing:
            raise FormatError(
                self.path, f"missing required column(s): {', '.join(missing)}", line=1
            )
