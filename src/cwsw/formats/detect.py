"""Which reader a file needs, from its name and place (data contracts §1) and its content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from cwsw.formats import attainment, attendance, dfe_collections, school_census, ssda903
from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.common import CsvSource, ReadResult, Sink, csv_encoding
from cwsw.formats.errors import Finding, FormatError, Severity
from cwsw.formats.establishments import read_establishments
from cwsw.formats.person import read_person_extract


@dataclass(frozen=True)
class Detected:
    """A file's format and how to read it; ``reader`` is None for a known table not used yet.

    A reader is called as ``reader(path, sink=...)``.
    """

    format: str
    reader: Callable[..., ReadResult] | None
    note: str | None = None


def _by_header(path: Path) -> Detected | None:
    """Fall back on the columns when a CSV is not named as the contract says (SSDA903 tables
    are told by their columns first, in ``_detect``)."""
    columns = set(CsvSource(path).header())
    if {"la_child_id", "forename", "surname"} <= columns:
        return Detected("person_extract", read_person_extract)
    if {"laestab", "urn", "phase"} <= columns:
        return Detected("establishments", read_establishments)
    if {"upn", "date", "session", "code"} <= columns:
        return Detected(attendance.FORMAT, attendance.read_attendance)
    return None


# The finding that says which encoding a CSV file was read in, when the user named one.
CSV_ENCODING_RULE = "csv_encoding"
CSV_ENCODING_SEVERITY: Severity = "information"


def detect(path: Path, *, encoding: str | None = None) -> Detected | None:
    """The format of ``path``, or None when cwsw does not read it; a CSV file's header is read
    in ``encoding`` (None: UTF-8, see ``common.csv_encoding``)."""
    with csv_encoding(encoding):
        return _detect(path)


def _detect(path: Path) -> Detected | None:
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".xml":
        # A DfE return by its Header/CollectionDetails/Collection (SSDA903 by its root), not
        # its name: another collection (SEN2, the workforce census...) is refused by name,
        # never read as an empty CIN census.
        found = dfe_collections.identify(path)
        if found.reads == dfe_collections.CIN_CENSUS:
            return Detected("cin_census", read_cin_census)
        if found.reads == dfe_collections.SSDA903_XML:
            return Detected("ssda903_xml", ssda903.read_ssda903_xml)
        refusal = found.refusal
        if refusal is not None:  # read, it fails in one line naming the return
            refused = partial(dfe_collections.refuse, message=refusal, line=found.line)
            return Detected(found.format, refused, refusal)
        root = found.header.root
        if root == dfe_collections.MESSAGE or "cin" in name:
            # Broken before its header could be read, or named like a CIN census: its reader
            # says where the fault is.
            return Detected("cin_census", read_cin_census)
        if root is None and "903" in name:
            return Detected("ssda903_xml", ssda903.read_ssda903_xml)
        return None
    if suffix != ".csv":
        return None
    stem = path.stem.lower()
    # An SSDA903 table by its columns, whatever its name; else by its name as councils and
    # the sector's pipelines write it (``SSDA903_2025_prevperm.csv``).
    table = ssda903.table_of(path)
    if table == ssda903.DOLO:
        return Detected("ssda903_dolo", None, "an SSDA903 DoLO table, which cwsw does not read")
    if table is not None and table != ssda903.UNRECOGNISED:
        return Detected(f"ssda903_{table}", partial(ssda903.read_ssda903_table, stem=table))
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
    by_header = _by_header(path)
    if by_header is None and table == ssda903.UNRECOGNISED:
        # Filed as SSDA903 but no table of it: fails with a located error, never skipped,
        # so a folder of such files cannot look loaded.
        return Detected("ssda903", ssda903.read_unrecognised)
    return by_header


def given_year(detected: Detected, year: int | None) -> Detected:
    """``detected`` told the collection year the user gave (``cwsw ingest --year``), which
    SSDA903 files need when neither their folder nor their name carries one; the readers of
    other files, which say their own period, are unchanged."""
    if year is None or detected.reader is None or not detected.format.startswith("ssda903"):
        return detected
    return replace(detected, reader=partial(detected.reader, collection_year=year))


def read_file(
    path: Path | str,
    sink: Sink | None = None,
    detected: Detected | None = None,
    *,
    encoding: str | None = None,
) -> ReadResult:
    """Detect and read one file; raises ``FormatError`` for a file cwsw cannot read.

    With a ``sink`` the rows are handed over in batches as they are read (bounded memory).
    A CSV file is read in ``encoding`` (None: UTF-8, a byte order mark allowed); one the user
    named is said in an information finding, so the quality report shows how it was read.
    """
    path = Path(path)
    with csv_encoding(encoding) as codec:
        result = _read_file(path, sink, detected or detect(path))
    if encoding and path.suffix.lower() == ".csv" and result.format is not None:
        # Located "read as <codec>": reports show locations, not values.
        where = f"read as {codec}"
        result.findings.append(
            Finding(str(path), where, "encoding", codec, CSV_ENCODING_RULE, CSV_ENCODING_SEVERITY)
        )
    return result


def _read_file(path: Path, sink: Sink | None, detected: Detected | None) -> ReadResult:
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
