"""Which reader a file needs, from its name and place (data contracts §1) and its content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cwsw.formats import attainment, attendance, school_census, ssda903
from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.common import CsvSource, ReadResult, Sink
from cwsw.formats.errors import FormatError
from cwsw.formats.establishments import read_establishments
from cwsw.formats.person import read_person_extract
from cwsw.formats.xmltools import root_element


@dataclass(frozen=True)
class Detected:
    """A file's format and how to read it; ``reader`` is None for a known table not used yet.

    A reader is called as ``reader(path, sink=...)``.
    """

    format: str
    reader: Callable[..., ReadResult] | None
    note: str | None = None


def _by_header(path: Path) -> Detected | None:
    """Fall back on the columns when a CSV is not named as the contract says."""
    columns = set(CsvSource(path).header())
    if {"child", "decom", "rne"} <= columns:
        return Detected("ssda903_episodes", partial(ssda903.read_ssda903_table, stem="episodes"))
    if {"child", "sex", "dob", "upn"} <= columns:
        return Detected("ssda903_header", partial(ssda903.read_ssda903_table, stem="header"))
    if {"la_child_id", "forename", "surname"} <= columns:
        return Detected("person_extract", read_person_extract)
    if {"laestab", "urn", "phase"} <= columns:
        return Detected("establishments", read_establishments)
    if {"upn", "date", "session", "code"} <= columns:
        return Detected(attendance.FORMAT, attendance.read_attendance)
    return None


def detect(path: Path) -> Detected | None:
    """The format of ``path``, or None when cwsw does not read it."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".xml":
        root, _ = root_element(path)
        if root == "Message" or "cin" in name:
            # A broken file named like a CIN census goes to its reader for a located error.
            return Detected("cin_census", read_cin_census)
        if (root is not None and root.upper().startswith("EXPSSDA903")) or (
            root is None and "903" in name
        ):
            return Detected("ssda903_xml", ssda903.read_ssda903_xml)
        return None
    if suffix != ".csv":
        return None
    stem = path.stem.lower()
    if stem == "header" or stem == "episodes":
        return Detected(f"ssda903_{stem}", partial(ssda903.read_ssda903_table, stem=stem))
    folders = {path.parent.name.lower(), path.parent.parent.name.lower()}
    siblings = path.with_name("episodes.csv").exists() or path.with_name("header.csv").exists()
    if stem in ssda903.OTHER_TABLES and ("ssda903" in folders or siblings):
        return Detected(f"ssda903_{stem}", partial(ssda903.read_ssda903_table, stem=stem))
    if stem == "person_extract":
        return Detected("person_extract", read_person_extract)
    if stem == "establishments":
        return Detected("establishments", read_establishments)
    if attendance.is_attendance_file(path):
        return Detected(attendance.FORMAT, attendance.read_attendance)
    if attainment.FILE_NAME.match(stem):
        stage = stem[:3]
        return Detected(stage, attainment.read_ks2 if stage == "ks2" else attainment.read_ks4)
    census = school_census.parse_file_name(path)
    if census is not None and school_census.is_known_table(census.table):
        return Detected("school_census", school_census.read_school_census)
    return _by_header(path)


def read_file(
    path: Path | str, sink: Sink | None = None, detected: Detected | None = None
) -> ReadResult:
    """Detect and read one file; raises ``FormatError`` for a file cwsw cannot read.

    With a ``sink`` the rows are handed over in batches as they are read (bounded memory).
    """
    path = Path(path)
    detected = detected or detect(path)
    if detected is None:
        raise FormatError(path, "not a file cwsw reads (see docs/data-contracts.md §1)")
    if detected.reader is None:
        result = ReadResult(path, detected.format, None)
        result.messages.append(f"{path.name}: {detected.note}; skipped")
        return result
    result = detected.reader(path, sink=sink)
    if result.dataset is None:
        result.dataset = result.format
    return result
