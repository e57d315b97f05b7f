"""Fast reading of large CSV files: only the cells a table needs, each distinct value parsed once.

The rules are those of ``common.CsvSource`` and ``common.bounded_lines`` (BOM, UTF-8, line
length, blank rows, located errors); only the mechanics differ, because a national school
census year is a hundred million lines. Used by the school census reader.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

from cwsw.formats.common import MAX_LINE, UTF_8, CsvSource, bounded_lines
from cwsw.formats.errors import FormatError

# Distinct values each column's parse cache keeps: dates, counts and codes repeat heavily, and
# the bound keeps memory fixed whatever a file holds.
MAX_CACHED = 1 << 16
Cells = tuple[str, ...]


class Where:
    """The row being read, for the findings of the value caches."""

    __slots__ = ("number",)

    def __init__(self) -> None:
        self.number = 0


class Parsed(dict[str, Any]):
    """One column's parsed values by raw cell, each distinct value parsed once.

    A national file holds millions of dates and counts but only thousands of distinct ones.
    ``parse`` is a ``Collector`` method, so the rules are those of every reader; a value it
    rejects is reported at its row (``where``) each time it occurs and never cached.
    """

    def __init__(self, parse: Callable[[str, str, str], Any], field: str, where: Where) -> None:
        super().__init__()
        self._parse = parse
        self._field = field
        self._where = where

    def __missing__(self, cell: str) -> Any:
        text = cell.strip()
        value = self._parse(text, f"row {self._where.number}", self._field) if text else None
        if (value is not None or not text) and len(self) < MAX_CACHED:
            self[cell] = value
        return value


class CellSource(CsvSource):
    """``CsvSource`` yielding only the raw cells of the columns a table needs.

    The same rules (BOM, UTF-8, line length, blank rows skipped, a row with more fields than
    the header fatal, names matched case-insensitively, the last of two equal names winning,
    located errors) without building a dict of every column of every row: at national scale
    that was most of the cost. Each record comes as (row number, cells) in the order of
    ``columns``; a cell is untrimmed, and ``""`` for a column the file lacks or a short row
    does not reach. Of alternative names (a tuple) the first present is read.
    """

    def cells(self, columns: Sequence[str | tuple[str, ...]]) -> Iterator[tuple[int, Cells]]:
        start = 1
        try:
            with self.path.open("rb") as handle:
                reader = csv.reader(_lines(self.path, handle, self.encoding))
                names = self._header(reader)
                width = len(names)
                position = {name: index for index, name in enumerate(names)}  # last wins
                chosen = [_first_present(wanted, position) for wanted in columns]
                # A column the file lacks reads the empty cell appended after the last.
                indices = [width if name is None else position[name] for name in chosen]
                pick = _picker(indices)
                start = reader.line_num + 1
                for record in reader:
                    if len(record) == width and record[0].strip():  # the common case
                        record.append("")
                        yield start, pick(record)
                    elif any(cell.strip() for cell in record):
                        if any(cell.strip() for cell in record[width:]):
                            raise FormatError(
                                self.path,
                                f"{len(record)} fields where the header has {width}",
                                start,
                            )
                        # As in CsvSource: a name the row does not reach is absent.
                        values = dict(zip(names, record, strict=False))
                        yield (
                            start,
                            tuple("" if name is None else values.get(name, "") for name in chosen),
                        )
                    start = reader.line_num + 1
        except csv.Error as error:
            raise FormatError(self.path, f"not readable as CSV: {error}", start) from None


# Bytes read at a time: less than MAX_LINE, so no line of a block can reach MAX_LINE.
BLOCK = 1 << 18


def _lines(path: Path, handle: BinaryIO, encoding: str = UTF_8) -> Iterator[str]:
    """The lines of a binary file as text, under the rules of ``common.bounded_lines``.

    That generator decodes and checks each line in Python: at national scale (a hundred
    million lines a year) a large share of the cost. Here whole lines are read a block at a
    time, each block decoded at once and split on line feeds only (as ``readline``) by
    ``io.StringIO``, in C. A block that does not decode, or that a line of ``MAX_LINE`` bytes
    could reach, is read again from its start line by line with ``bounded_lines``'s checks,
    so that the error (or the long-line quirk) is that of the same line, with the same message.
    """
    return chain.from_iterable(_blocks(path, handle, encoding))


def _blocks(path: Path, handle: BinaryIO, encoding: str) -> Iterator[Iterator[str]]:
    first = "utf-8-sig" if encoding == UTF_8 else encoding
    number = 0  # lines before the block
    offset = 0  # bytes before the block
    carry = b""  # the start of a line that the last read ended in
    while True:
        chunk = handle.read(BLOCK)
        data = carry + chunk if carry else chunk
        if len(data) >= MAX_LINE:  # a line may reach MAX_LINE: the exact checks decide
            yield _checked_lines(path, handle, offset, number, encoding)
            return
        if chunk:
            end = data.rfind(b"\n") + 1
            if end == 0:  # no end of line yet
                carry = data
                continue
            block, carry = data[:end], data[end:]
        elif data:  # the last line, with no end of line
            block, carry = data, b""
        else:
            return
        try:
            text = block.decode(first if number == 0 else encoding)
        except UnicodeDecodeError:
            yield _checked_lines(path, handle, offset, number, encoding)
            return
        yield io.StringIO(text)
        number += block.count(b"\n")
        offset += len(block)


def _checked_lines(
    path: Path, handle: BinaryIO, offset: int, number: int, encoding: str
) -> Iterator[str]:
    """``common.bounded_lines`` from byte ``offset``, the lines numbered after ``number``."""
    handle.seek(offset)
    return bounded_lines(path, handle, number, encoding)


def _first_present(wanted: str | tuple[str, ...], position: dict[str, int]) -> str | None:
    """The first of the names that the header has (None if none: an absent column)."""
    options = (wanted,) if isinstance(wanted, str) else wanted
    return next((name.lower() for name in options if name.lower() in position), None)


def _picker(indices: list[int]) -> Callable[[list[str]], Cells]:
    if len(indices) == 1:
        (index,) = indices
        return lambda record: (record[index],)
    return itemgetter(*indices)
