"""The cut of a large CIN census file into parts, one per reading process.

Each part is a run of whole ``Child`` elements, read as a well-formed document of its own: the
file's prolog and header, the run, and the file's closing tags (``PartFile``). The cut is made
from the bytes alone, in bounded memory; ``runtime`` checks afterwards that the parts read
fitted together (and otherwise reads the file again in one process), so what is read never
depends on where the cut fell (docs/adr/0003-cin-census-reading-at-national-scale.md).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class Part:
    """A run of whole children for one reading process: the bytes before the first child
    (declaration, root, header), then ``start``–``end``, then the bytes after the last child
    (closing tags), which together are a well-formed document.
    """

    head: int  # offset of the first child: bytes [0, head) are the prolog and header
    start: int
    end: int
    tail: int  # offset just after the last child's end tag
    children_before: int  # children in the file before ``start``
    lines_before: int  # line breaks between ``head`` and ``start``


class PartFile:
    """A read-only file-like view of a ``Part``'s three byte ranges, in order."""

    def __init__(self, path: Path, part: Part) -> None:
        self._handle = path.open("rb")
        size = path.stat().st_size
        self._ranges = [(0, part.head), (part.start, part.end), (part.tail, size)]

    def read(self, size: int = -1) -> bytes:
        while self._ranges:
            start, end = self._ranges[0]
            if start >= end:
                self._ranges.pop(0)
                continue
            want = end - start if size < 0 else min(size, end - start)
            self._handle.seek(start)
            data = self._handle.read(want)
            if not data:
                self._ranges.pop(0)
                continue
            self._ranges[0] = (start + len(data), end)
            return data
        return b""

    def close(self) -> None:
        self._handle.close()


# A child's start tag, unprefixed (a file with prefixed elements is read in one process).
_CHILD_START = re.compile(rb"<Child[\s>]")
_CHILD_END = b"</Child>"
_CHUNK = 16 * 2**20
_WINDOW = 1 << 20


def split(path: Path, parts: int) -> list[Part]:
    """Cut the file into ``parts`` runs of whole children, or [] to read it in one process.

    A cut goes where a ``<Child>`` start tag directly follows a ``</Child>`` end tag. The
    children and line breaks before each cut are counted from the bytes (two passes over all
    but the last part, read in chunks: memory stays small). A comment or CDATA section holding
    such tags could mislead the count or the cut; the parts then disagree
    (``RereadInOneProcess``) and the file is read again in one process, so what is read never
    depends on the cut.
    """
    with path.open("rb") as handle:
        size = path.stat().st_size
        window = handle.read(_WINDOW)
        first = _CHILD_START.search(window)  # the prolog and header are small
        handle.seek(max(0, size - _WINDOW))
        last = handle.read(_WINDOW).rfind(_CHILD_END)  # and so are the closing tags
        if first is None or last < 0:
            return []
        head, tail = first.start(), max(0, size - _WINDOW) + last + len(_CHILD_END)
        cuts = [head]
        for k in range(1, parts):
            target = max(head + (tail - head) * k // parts, cuts[-1] + 1)
            cut = _next_cut(handle, target, tail)
            if cut is None:
                break
            cuts.append(cut)
        if len(cuts) < 2:
            return []
        cuts.append(tail)
        found: list[Part] = []
        children = lines = 0
        for n, (start, end) in enumerate(itertools.pairwise(cuts)):
            found.append(Part(head, start, end, tail, children, lines))
            if n < len(cuts) - 2:  # what the parts after this one need to know
                more_children, more_lines = _count(handle, start, end)
                children, lines = children + more_children, lines + more_lines
        return found


def _next_cut(handle: BinaryIO, start: int, stop: int) -> int | None:
    """The first child start tag at or after ``start`` that directly follows an end tag."""
    position = start
    while position < stop:
        handle.seek(max(0, position - 256))
        window = handle.read(_WINDOW + 256)
        offset = max(0, position - 256)
        for match in _CHILD_START.finditer(window, position - offset):
            at = offset + match.start()
            if at >= stop:
                return None
            if window[max(0, match.start() - 256) : match.start()].rstrip().endswith(_CHILD_END):
                return at
        position = offset + len(window) - 16  # tags across the window's edge: look again
        if not window:
            return None
    return None


def _count(handle: BinaryIO, start: int, end: int) -> tuple[int, int]:
    """Child end tags and line breaks in bytes ``start``–``end``, read in chunks."""
    children = lines = 0
    handle.seek(start)
    position, carry = start, b""
    while position < end:
        chunk = handle.read(min(_CHUNK, end - position))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        # ``carry`` (shorter than the tag) holds no whole tag: this counts each tag once,
        # including one that runs across the edge of two chunks.
        children += (carry + chunk).count(_CHILD_END)
        carry = chunk[1 - len(_CHILD_END) :]
        position += len(chunk)
    return children, lines
