"""CIN census XML returns (DfE children in need census), streamed with lxml iterparse.

One ``Child`` element is parsed at a time and then freed, so a national-scale file stays in
constant memory. Structure: ``Message/Header/CollectionDetails/Year`` and
``Message/Children/Child`` with ``ChildIdentifiers``, ``ChildCharacteristics`` (ethnicity,
``Disabilities``) and one ``CINdetails`` per episode holding ``Assessments`` (with
``FactorsIdentifiedAtAssessment``), ``CINPlanDates``, ``Section47``, ``ChildProtectionPlans``
(with ``Reviews``) and, from 2026/27, ``PreProceedingsandFGDM`` (DOMAIN.md §3; the XSDs in
``../shared/fixtures/cin-census/xsd``).

Problems are classified as the issue asks: a file that cannot be read raises ``FormatError``
(fatal); a child without ``LAchildID`` or listed twice is kept with a record-level finding; a
value that fails its type or code list is nulled with a value-level finding (the raw UPN is kept
in ``upn_raw``).
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from queue import Queue
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from cwsw.formats.common import (
    Collector,
    Columns,
    ReadResult,
    Row,
    Sink,
    child_id,
    parse_date,
    parse_flag,
    parse_integer,
)
from cwsw.formats.errors import Finding, FormatError, findings_from_table, findings_table
from cwsw.linkage.upn import clean_upn

FORMAT = "cin_census"
TABLES = (
    "cin_child",
    "cin_disability",
    "cin_episode",
    "cin_assessment",
    "cin_assessment_factor",
    "cin_plan",
    "cin_s47",
    "cp_plan",
    "cp_review",
    "cin_pre_proceedings",
)

# GenderCurrent (to 2023/24) and Sex (from 2024/25) both become M/F/U; real files mix the two
# code sets under either element name (DOMAIN.md §3), so both are accepted in either.
SEX_CODES = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}
PRIMARY_NEED = frozenset(f"N{n}" for n in range(10))
# RC9 was added in 2023 (DOMAIN.md §3); earlier years' files using it get a finding.
CLOSURE_REASON = frozenset(f"RC{n}" for n in range(1, 10))
RC9_FROM = 2023
UPN_UNKNOWN = frozenset(f"UN{n}" for n in range(1, 11))
# The XSD's referralsourcetype, written as one string to keep the list readable.
REFERRAL_SOURCE = frozenset("1A 1B 1C 1D 2A 2B 3A 3B 3C 3D 3E 3F 4 5A 5B 5C 5D 6 7 8 9 10".split())  # noqa: SIM905
ABUSE_CATEGORY = frozenset(["NEG", "PHY", "SAB", "EMO", "MUL"])
# The XSD's disabilitytype.
DISABILITY = frozenset("NONE MOB HAND PC INC COMM LD HEAR VIS BEH CON AUT DDA".split())  # noqa: SIM905

_FILE_YEAR = re.compile(r"(20\d{2})")


def _local(tag: object) -> str:
    """Element name without a namespace (some suppliers add one); comments have no name."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _strip_namespaces(element: etree._Element) -> None:
    """Give a namespaced child's elements their local names, so lookups need no namespace."""
    for item in element.iter():
        if isinstance(item.tag, str) and item.tag[:1] == "{":
            item.tag = _local(item.tag)


def root_element(path: Path) -> tuple[str | None, int | None]:
    """The root element's name and line, or (None, None) when there is none to find."""
    try:
        with path.open("rb") as handle:
            for _event, element in etree.iterparse(handle, events=("start",)):
                return _local(element.tag), element.sourceline
    except (etree.XMLSyntaxError, OSError):
        return None, None
    return None, None


def read_cin_census(
    path: Path | str, sink: Sink | None = None, workers: int | None = None
) -> ReadResult:
    """Read a CIN census XML file into ``cin_child``, ``cin_episode`` and the module tables.

    Raises ``FormatError`` (naming the file and line) for a file that is not XML, has the
    wrong root, is truncated or has no collection year; nothing partial is kept (the loader
    rolls back whatever batches a ``sink`` had received).

    A large file is read by ``workers`` processes (default: ``CWSW_INGEST_WORKERS``, else one
    per core, at most two, from ``PARALLEL_FROM_BYTES``), each taking every n-th child; the
    rows and findings are the same as one process reads, whatever the number.
    """
    path = Path(path)
    result = ReadResult(file=path, format=FORMAT, period=None, sink=sink)
    for table in TABLES:  # a CIN census fills every table, even when a module is absent
        result.rows(table)
    values = Collector(path, result.findings)
    root, root_line = root_element(path)
    if root is not None and root != "Message":
        raise FormatError(
            path, f"root element is <{root}>, a CIN census starts with <Message>", root_line
        )
    count = _worker_count(path) if workers is None else workers
    parts = _split(path, count) if count > 1 else []
    if len(parts) > 1:
        try:
            summary = _read_in_parallel(path, result, parts)
        except RereadInOneProcess:
            if sink is not None:
                raise  # the caller rolls back what the sink took, then reads again
            return read_cin_census(path, workers=1)
    else:
        summary = _read_part(path, result, None)
    if summary.year is None:
        raise FormatError(
            path,
            f"no valid Header/CollectionDetails/Year (found {summary.year_text!r})",
            summary.year_line,
        )
    # Findings are in document order, however many processes read the file: each batch's are
    # sorted as it is converted, and parts are read in file order.
    _check_child_ids(values, summary.ids)
    result.flush()
    year_text = str(summary.year)
    result.period = year_text
    named = _FILE_YEAR.findall(path.stem)
    if named and named[-1] != year_text:
        values.add(
            f"Header/CollectionDetails/Year (line {summary.year_line})",
            "Year",
            year_text,
            f"file_name_year_{named[-1]}",
            "record",
        )
    return result


# Below this size a second process costs more to start than it saves.
PARALLEL_FROM_BYTES = 64 * 2**20
MAX_WORKERS = 2


def _worker_count(path: Path) -> int:
    configured = os.environ.get("CWSW_INGEST_WORKERS", "")
    if configured.strip():
        return max(1, int(configured))
    try:
        size = path.stat().st_size
    except OSError:
        return 1
    return min(MAX_WORKERS, os.cpu_count() or 1) if size >= PARALLEL_FROM_BYTES else 1


class RereadInOneProcess(Exception):
    """The parts of a file read in parallel did not fit together (a misleading cut, or a fault
    to be located as one process meets it): whatever they handed to a sink must be rolled
    back, and the file read again with ``workers=1``."""


@dataclass
class _Summary:
    """What one pass learnt besides rows: the header's year and each child's LAchildID."""

    year: int | None = None
    year_text: str | None = None
    year_line: int | None = None
    # (child number, LAchildID, line of ChildIdentifiers) for every child read
    ids: list[tuple[int, str | None, int]] = field(default_factory=list)


@dataclass(frozen=True)
class _Part:
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


class _PartFile:
    """A read-only file-like view of a ``_Part``'s three byte ranges, in order."""

    def __init__(self, path: Path, part: _Part) -> None:
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


def _read_part(path: Path, result: ReadResult, part: _Part | None) -> _Summary:
    """Read the whole file, or one ``_Part`` of it, into ``result``."""
    offset = 0 if part is None else part.lines_before
    reader = _Reader(path, result, 0 if part is None else part.children_before, offset)
    handle: _PartFile | BinaryIO = path.open("rb") if part is None else _PartFile(path, part)
    try:
        reader.parse(handle)
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno else None
        raise FormatError(path, f"not well-formed XML: {error.msg}", line) from None
    except OSError as error:
        raise FormatError(path, f"cannot read the file: {error}") from None
    finally:
        handle.close()
    if reader.year is not None:
        reader.convert()
    return reader.summary


# A child's start tag, unprefixed (a file with prefixed elements is read in one process).
_CHILD_START = re.compile(rb"<Child[\s>]")
_CHILD_END = b"</Child>"
_CHUNK = 16 * 2**20


def _split(path: Path, parts: int) -> list[_Part]:
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
        found: list[_Part] = []
        children = lines = 0
        for n, (start, end) in enumerate(itertools.pairwise(cuts)):
            found.append(_Part(head, start, end, tail, children, lines))
            if n < len(cuts) - 2:  # what the parts after this one need to know
                more_children, more_lines = _count(handle, start, end)
                children, lines = children + more_children, lines + more_lines
        return found


_WINDOW = 1 << 20


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


def _check_child_ids(values: Collector, ids: list[tuple[int, str | None, int]]) -> None:
    """A child without LAchildID, or listed again, is kept with a record-level finding."""
    seen: set[str] = set()
    for number, la_child_id, line in sorted(ids, key=itemgetter(0)):
        where = f"Child[{number}]/ChildIdentifiers (line {line})"
        if la_child_id is None:
            values.add(where, "LAchildID", None, "missing_child_id", "record")
        elif la_child_id in seen:
            values.add(where, "LAchildID", la_child_id, "duplicate_child_id", "record")
        else:
            seen.add(la_child_id)


def _read_in_parallel(path: Path, result: ReadResult, parts: list[_Part]) -> _Summary:
    """Worker processes parse the parts side by side; this process hands their batches to
    the sink as they come, so memory stays bounded and a failure anywhere leaves the loader
    to roll everything back.

    Workers are plain ``python -m`` subprocesses speaking pickle over their stdout (not
    ``multiprocessing``, whose spawn re-imports the caller's main script).
    """
    inbox: Queue[tuple[int, tuple[Any, ...]]] = Queue(maxsize=2 * len(parts))
    module = "cwsw.formats.cin_census_worker"
    processes = []
    for part in parts:
        numbers = [str(n) for n in dataclasses.astuple(part)]
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(path), *numbers], stdout=subprocess.PIPE
        )
        processes.append(process)
    threads = [
        threading.Thread(target=_relay, args=(index, process, inbox), daemon=True)
        for index, process in enumerate(processes)
    ]
    for thread in threads:
        thread.start()
    summary = _Summary()
    findings: list[list[Finding]] = [[] for _ in parts]  # each part's, in its order
    errors: list[tuple[str, str]] = []
    try:
        finished = 0
        while finished < len(parts):
            index, message = inbox.get()
            kind = message[0]
            if kind == "batch":
                _, batch, found = message
                # With a sink, each part's findings go with its batch (the summary keeps
                # file order); without one they wait to be joined in file order at the end.
                if result.sink is not None:
                    result.add_findings_table(found)
                else:
                    findings[index].extend(findings_from_table(found, str(path)))
                for table, columns in batch.items():
                    result.add_columns(table, columns)
                result.part = index
                result.flush()
            elif kind == "done":
                finished += 1
                done: _Summary = message[1]
                summary.year, summary.year_text = done.year, done.year_text
                summary.year_line = done.year_line
                summary.ids.extend(done.ids)
            elif kind == "error":
                finished += 1
                errors.append(("error", message[1]))
            else:
                raise RuntimeError(f"{path}: a reading process stopped (exit code {message[1]})")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    if errors:
        # A fault: located exactly as one process meets it, by reading in one process.
        raise RereadInOneProcess(f"{path}: {errors[0][1]}")
    read = sorted(entry[0] for entry in summary.ids)
    if read != list(range(1, len(read) + 1)):
        raise RereadInOneProcess(f"{path}: the parts did not cover every child once")
    for found in findings:
        result.findings.extend(found)
    result.part = len(parts)  # what this process finds next comes after every part
    return summary


def _relay(
    index: int, process: subprocess.Popen[bytes], inbox: Queue[tuple[int, tuple[Any, ...]]]
) -> None:
    """Pass one worker's messages on; a worker that ends without "done" is reported."""
    assert process.stdout is not None
    last = ""
    try:
        while True:
            message = pickle.load(process.stdout)
            last = message[0]
            inbox.put((index, message))
            if last in ("done", "error"):
                return
    except (EOFError, OSError, pickle.UnpicklingError):
        pass
    if last not in ("done", "error"):
        inbox.put((index, ("stopped", process.wait())))


def _in_document_order(findings: pa.Table) -> pa.Table:
    """A batch's findings (found column by column) sorted, stably, by the number of the
    child each is in (``Child[n]/...``; 0 outside any child)."""
    if findings.num_rows < 2:
        return findings
    number = pc.struct_field(pc.extract_regex(findings["location"], _CHILD_NUMBER), "n")
    order = pc.fill_null(pc.cast(number, pa.int64()), 0)
    return findings.take(pc.sort_indices(order))  # Arrow's sort is stable


_CHILD_NUMBER = r"^Child\[(?P<n>[0-9]+)\]"


def work(path: str, part: _Part, out: BinaryIO) -> None:
    """One reading process: its part of the file, sent as pickled Arrow column batches."""
    _die_with_parent()
    file = Path(path)

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    def sink(batch: ReadResult) -> None:
        tables = {
            table: {name: _arrow(values) for name, values in columns.items()}
            for table, batches in batch.columns.items()
            for columns in batches
        }
        # The reader keeps its findings as Arrow (``Collector(as_tables=True)``); any held as
        # a list come after them, as ``ReadResult`` orders them.
        found = pa.concat_tables([*batch.finding_tables, findings_table(batch.findings)])
        send(("batch", tables, found))

    result = ReadResult(file=file, format=FORMAT, period=None, sink=sink)
    try:
        summary = _read_part(file, result, part)
        result.flush()
    except FormatError as error:
        send(("error", error.message))
        return
    send(("done", summary))


def _arrow(values: Any) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values)


def _die_with_parent() -> None:
    """On Linux, ask for SIGKILL when the parent dies, so a killed ingest leaves no reader."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# How each leaf is read: (column, element, kind). ``kind`` names a converter, or is a code
# list (a frozenset) a value must be in. The XSDs' types and code lists, kept as data.
Kind = str | frozenset[str]
Spec = tuple[tuple[str, str, Kind], ...]
CHILD: Spec = (
    ("upn", "UPN", "upn"),
    ("upn_raw", "UPN", "text"),
    ("former_upn", "FormerUPN", "upn"),
    ("upn_unknown", "UPNunknown", UPN_UNKNOWN),
    ("birth_date", "PersonBirthDate", "date"),
    ("expected_birth_date", "ExpectedPersonBirthDate", "date"),
    ("ethnicity", "Ethnicity", "text"),
    ("death_date", "PersonDeathDate", "date"),
)
EPISODE: Spec = (
    ("referral_date", "CINreferralDate", "date"),
    ("referral_source", "ReferralSource", REFERRAL_SOURCE),
    ("primary_need", "PrimaryNeedCode", PRIMARY_NEED),
    ("closure_date", "CINclosureDate", "date"),
    ("closure_reason", "ReasonForClosure", CLOSURE_REASON),
    ("referral_nfa", "ReferralNFA", "flag"),
    ("icpc_date", "DateOfInitialCPC", "date"),
)
# The groups inside a CINdetails episode: element → (table, sequence column or None, leaves).
MODULES: dict[str, tuple[str, str | None, Spec]] = {
    "Assessments": (
        "cin_assessment",
        "assessment_seq",
        (
            ("start_date", "AssessmentActualStartDate", "date"),
            ("internal_review_date", "AssessmentInternalReviewDate", "date"),
            ("authorisation_date", "AssessmentAuthorisationDate", "date"),
        ),
    ),
    "CINPlanDates": (
        "cin_plan",
        None,
        (("start_date", "CINPlanStartDate", "date"), ("end_date", "CINPlanEndDate", "date")),
    ),
    "Section47": (
        "cin_s47",
        None,
        (
            ("start_date", "S47ActualStartDate", "date"),
            ("icpc_target", "InitialCPCtarget", "date"),
            ("icpc_date", "DateOfInitialCPC", "date"),
            ("icpc_not_required", "ICPCnotRequired", "flag"),
        ),
    ),
    "ChildProtectionPlans": (
        "cp_plan",
        "plan_seq",
        (
            ("start_date", "CPPstartDate", "date"),
            ("end_date", "CPPendDate", "date"),
            ("initial_category", "InitialCategoryOfAbuse", ABUSE_CATEGORY),
            ("latest_category", "LatestCategoryOfAbuse", ABUSE_CATEGORY),
            ("previous_plans", "NumberOfPreviousCPP", "integer"),
        ),
    ),
    "PreProceedingsandFGDM": (
        "cin_pre_proceedings",
        None,
        (
            ("start_date", "PPStartDate", "date"),
            ("letter_before_proceedings_date", "LBPSentDate", "date"),
            ("fgdm_offered", "FGDMMeetingOffer", "flag"),
            ("fgdm_facilitated", "FGDMMeetingFac", "flag"),
            ("initial_meeting_date", "InitialPPMeetingDate", "date"),
            ("review_meetings", "ReviewMeetingsCount", "integer"),
            ("step_decision_date", "StepDecisionDate", "date"),
            ("outcome", "PPOutcome", "text"),
            ("court_application_date", "CourtAppDate", "date"),
            ("letter_initial_cp_date", "LetterInitCPDate", "date"),
        ),
    ),
}
# Repeated leaves that each make a row: item element → (its group, table, column, kind, parent
# table whose current row the item belongs to).
ITEMS: dict[str, tuple[str, str, str, Kind, str]] = {
    "Disability": ("Disabilities", "cin_disability", "disability", DISABILITY, "cin_child"),
    "AssessmentFactors": (
        "FactorsIdentifiedAtAssessment",
        "cin_assessment_factor",
        "factor",
        "upper",
        "cin_assessment",
    ),
    "CPPreviewDate": ("Reviews", "cp_review", "review_date", "date", "cp_plan"),
}
# The keys an item row takes from the row it belongs to.
ITEM_KEYS = {
    "cin_child": (),
    "cin_assessment": ("episode_seq", "assessment_seq"),
    "cp_plan": ("episode_seq", "plan_seq"),
}
SPECS: dict[str, Spec] = {"cin_child": CHILD, "cin_episode": EPISODE} | {
    table: spec for table, _, spec in MODULES.values()
}
# The episode group.
EPISODE_GROUP = "CINdetails"
# Leaf element → the table whose current row it belongs to. DateOfInitialCPC is the one leaf
# in two groups (CINdetails and Section47): its parent decides.
SHARED_LEAF = "DateOfInitialCPC"
# The leaves of a child's own groups, and of an episode (but the shared one).
CHILD_LEAVES = frozenset(leaf for _, leaf, _ in CHILD) | {"LAchildID", "Sex", "GenderCurrent"}
EPISODE_LEAVES = frozenset(leaf for _, leaf, _ in EPISODE if leaf != SHARED_LEAF)
# Rows of a child are buffered raw, then converted a batch at a time, column by column.
BATCH_CHILDREN = 5_000


class _Reader:
    """The state of one pass over a file.

    Each ``Child`` is walked once in document order: a group element opens a row of its table
    and each leaf fills the open row of the table it belongs to (every leaf name but one
    belongs to one group), so no element is visited twice. Values are converted later, a
    batch and a column at a time, which is what makes a national-size file fast.
    """

    def __init__(self, path: Path, result: ReadResult, children: int, lines: int) -> None:
        self.path = path
        # Findings column-wise: a national file has millions (the benchmark's, 1.4 million).
        self.values = Collector(path, as_tables=True)
        self.result = result
        self.summary = _Summary()
        self.children = children  # before the first one this reader sees (another part's)
        self.lines = lines  # added to a child's lines: the line breaks of earlier parts
        # table → raw rows (leaf name → trimmed text, plus keys and ``_at``, its location)
        self.raw: dict[str, list[Row]] = {name: [] for name in TABLES}
        self.buffered_children = 0
        # Raw rows to columns: in C where the walk is compiled (the same lists either way).
        # One choice for the pass: the compiled walk and its column extraction, or both in
        # Python (the same rows and columns either way).
        self.walker = _compiled_walker()
        self.extract = _columns_of if self.walker is None else _cin_walk_columns()
        self.converters: dict[str, Callable[[str], object]] = {
            "date": parse_date,
            "flag": parse_flag,
            "integer": parse_integer,
            "upn": clean_upn,
        }

    def parse(self, handle: BinaryIO | _PartFile) -> None:
        walker = self.walker
        tags = ("{*}Child", "{*}Year")
        events = etree.iterparse(
            handle, events=("end",), tag=tags, remove_comments=True, remove_pis=True
        )
        for _event, element in events:
            tag = element.tag
            if tag != "Child" and _local(tag) != "Child":
                parent = element.getparent()
                if parent is not None and _local(parent.tag) == "CollectionDetails":
                    self._set_year(element)
                continue
            if tag != "Child":
                _strip_namespaces(element)
            self.children += 1
            if walker is None:
                self._child(element)
            else:
                walker.walk(element, self.children, self.lines, self.raw, self.summary.ids)
            self.buffered_children += 1
            # Free the parsed child and its predecessors: constant memory.
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
            if self.buffered_children >= BATCH_CHILDREN and self.year is not None:
                self.convert()
                self.result.flush()

    @property
    def year(self) -> int | None:
        return self.summary.year

    def _set_year(self, element: etree._Element) -> None:
        text = element.text.strip() if element.text else None
        line = element.sourceline
        summary = self.summary
        summary.year_text, summary.year_line = text, line if isinstance(line, int) else None
        if text is not None and len(text) == 4 and text.isdigit():
            summary.year = int(text)

    def _child(self, child: etree._Element) -> None:
        """Walk one Child in document order into raw rows.

        ``filling`` maps each leaf name to the row it belongs in now: the child's own leaves
        to the child's row, an episode's to the open episode, a module's to the open module.
        A leaf outside any open group of its kind has no entry and is passed over.
        """
        number = self.children
        path = f"Child[{number}]"
        raw, modules, items = self.raw, MODULES, ITEMS
        lines = self.lines
        row: Row = {"_at": f"{path} (line {_line(child) + lines})", "_ids_at": None}
        mine = [row]  # this child's rows, to be given its LAchildID at the end
        child_leaves = dict.fromkeys(CHILD_LEAVES, row)
        filling: dict[str, Row] = child_leaves
        open_rows: dict[str, Row] = {"cin_child": row}
        episode: Row | None = None
        episodes = 0
        counts: dict[str, int] = {}
        ids_line = _line(child) + lines
        for element in child.iterdescendants():
            tag = element.tag
            target = filling.get(tag)
            if target is not None:
                # (a leaf name holding elements has only blank text: it reads as absent)
                if tag not in target:
                    text = element.text
                    target[tag] = (text.strip() or None) if text is not None else None
            elif tag == EPISODE_GROUP:
                if not len(element):
                    continue
                episodes += 1
                at = f"{path}/CINdetails[{episodes}] (line {_line(element) + lines})"
                episode = {
                    "episode_seq": episodes,
                    "_at": at,
                    "_path": f"{path}/CINdetails[{episodes}]",
                }
                raw["cin_episode"].append(episode)
                mine.append(episode)
                open_rows = {"cin_child": row, "cin_episode": episode}
                filling = child_leaves | dict.fromkeys(EPISODE_LEAVES, episode)
                counts = {}
            elif tag in modules:
                if episode is None or not len(element):
                    continue
                table, seq_column, spec = modules[tag]
                n = counts[tag] = counts.get(tag, 0) + 1
                at = f"{episode['_path']}/{tag}[{n}] (line {_line(element) + lines})"
                module: Row = {"episode_seq": episodes, "_at": at}
                if seq_column is not None:
                    module[seq_column] = n
                raw[table].append(module)
                mine.append(module)
                open_rows[table] = module
                for _, leaf, _ in spec:
                    if leaf != SHARED_LEAF:
                        filling[leaf] = module
            elif tag in items:
                group, table, _, _, parent_table = items[tag]
                owner = open_rows.get(parent_table)
                text = element.text
                text = text.strip() if text is not None else None
                if owner is None or not text or len(element):
                    continue
                parent = element.getparent()
                if parent is None or parent.tag != group:
                    continue
                item = {key: owner[key] for key in ITEM_KEYS[parent_table]}
                item[tag] = text
                if parent_table == "cin_child":
                    line = _line(element) + lines
                    item["_at"] = f"{path}/ChildCharacteristics/{group} (line {line})"
                else:
                    item["_at"] = owner["_at"]
                raw[table].append(item)
                mine.append(item)
            elif tag == SHARED_LEAF:  # in CINdetails and in Section47: the parent decides
                parent = element.getparent()
                in_episode = parent is not None and parent.tag == EPISODE_GROUP
                target = open_rows.get("cin_episode" if in_episode else "cin_s47")
                if target is not None and tag not in target:
                    text = element.text
                    target[tag] = (text.strip() or None) if text is not None else None
            elif tag == "ChildIdentifiers" and row["_ids_at"] is None:
                ids_line = _line(element) + lines
                row["_ids_at"] = f"{path}/ChildIdentifiers (line {ids_line})"
        if row["_ids_at"] is None:
            row["_ids_at"] = f"{path}/ChildIdentifiers (line {ids_line})"
        # Missing and repeated IDs are checked once all children are read (_check_child_ids).
        la_child_id = child_id(row.get("LAchildID"))
        self.summary.ids.append((number, la_child_id, ids_line))
        for each in mine:
            each["la_child_id"] = la_child_id
        raw["cin_child"].append(row)

    def convert(self) -> None:
        """Convert the buffered raw rows, a column at a time, and hand them to the result.

        The batch's findings, found column by column, are put in document order.
        """
        for table in TABLES:
            rows = self.raw[table]
            columns = self._columns(table, rows) if rows else {}
            if columns or self.result.sink is None:
                self.result.add_columns(table, columns)
            self.raw[table] = []
        self.buffered_children = 0
        self.result.add_findings_table(_in_document_order(self.values.finding_table()))

    def _columns(self, table: str, rows: list[Row]) -> Columns:
        at_key = "_ids_at" if table == "cin_child" else "_at"
        keys = ["la_child_id", at_key]
        if table not in ("cin_child", "cin_disability"):
            keys.append("episode_seq")
        keys.extend(seq for seq in ("assessment_seq", "plan_seq") if seq in rows[0])
        specs = SPECS.get(table, ())
        items = [(tag, item) for tag, item in ITEMS.items() if item[1] == table]
        keys.extend(leaf for _, leaf, _ in specs)
        keys.extend(tag for tag, _ in items)
        if table == "cin_child":
            keys.extend(("_at", "Sex", "GenderCurrent"))
        raw = dict(zip(keys, self.extract(rows, tuple(keys)), strict=True))
        locations = raw[at_key]
        columns: Columns = {"collection_year": [self.year] * len(rows)}
        columns["la_child_id"] = raw["la_child_id"]
        for seq in ("episode_seq", "assessment_seq", "plan_seq"):
            if seq in raw:
                columns[seq] = raw[seq]
        for column, leaf, kind in specs:
            columns[column] = self._convert(raw[leaf], locations, leaf, kind)
        for tag, (_, _, column, kind, _) in items:
            columns[column] = self._convert(raw[tag], locations, tag, kind)
            if table == "cin_disability":
                columns["disability_raw"] = raw[tag]
        if table == "cin_child":
            columns["sex"] = self._sex(raw["Sex"], raw["GenderCurrent"], locations)
            columns["record"] = raw["_at"]
        elif table == "cin_episode":
            columns["closure_reason"] = self._rc9(
                columns["closure_reason"], raw["ReasonForClosure"], locations
            )
            columns["record"] = locations
        return columns

    def _convert(self, raws: list[str | None], locations: list[str], field: str, kind: Kind) -> Any:
        """A list, or an Arrow array where values had to be converted."""
        values = self.values
        if isinstance(kind, frozenset):
            return values.column(raws, locations, field, partial(_code, kind), "invalid_code")
        if kind == "text":
            return list(raws)
        if kind == "upper":
            return [None if raw is None else raw.upper() for raw in raws]
        rule = {"date": "invalid_date", "flag": "invalid_flag", "integer": "invalid_integer"}
        return values.column(
            raws, locations, field, self.converters[kind], rule.get(kind, f"invalid_{kind}")
        )

    def _sex(
        self, sex: list[str | None], gender: list[str | None], locations: list[str]
    ) -> list[object]:
        """Sex from ``Sex`` (2024/25 on) or ``GenderCurrent``, either code set in either."""
        out: list[object] = []
        mapped = self.values.mapped
        for new, old, location in zip(sex, gender, locations, strict=True):
            if new is not None:
                out.append(mapped(new, SEX_CODES, location, "Sex"))
            else:
                out.append(mapped(old, SEX_CODES, location, "GenderCurrent"))
        return out

    def _rc9(self, reasons: Any, raws: list[str | None], locations: list[str]) -> Any:
        """RC9 was added in 2023 (DOMAIN.md §3): before then it is reported and nulled."""
        if self.year is None or self.year >= RC9_FROM:
            return reasons
        out = reasons.to_pylist() if isinstance(reasons, pa.Array) else list(reasons)
        if "RC9" not in out:
            return reasons
        for i, reason in enumerate(out):
            if reason == "RC9":
                rule = f"code_not_valid_before_{RC9_FROM}"
                self.values.add(locations[i], "ReasonForClosure", raws[i], rule)
                out[i] = None
        return out


# CWSW_CIN_WALK=python reads with ``_Reader._child`` even where the compiled walk is built.
WALK_VARIABLE = "CWSW_CIN_WALK"


def walk_in_use() -> str:
    """Which walk reads each child: "compiled" (``_cin_walk``, built by ``make env``) or
    "python" (``_Reader._child``: the reference, and the fallback where it is not built)."""
    return "python" if _compiled_walker() is None else "compiled"


def _compiled_walker() -> Any:
    """The compiled walk over this module's spec, or None for the Python walk."""
    if os.environ.get(WALK_VARIABLE, "").strip().lower() == "python":
        return None
    try:
        from cwsw.formats import _cin_walk
    except ImportError:  # not built (or built against another lxml): the Python walk
        return None
    spec = (CHILD_LEAVES, EPISODE_LEAVES, MODULES, ITEMS, ITEM_KEYS, SHARED_LEAF, EPISODE_GROUP)
    return _cin_walk.Walker(*spec, child_id)


def _cin_walk_columns() -> Callable[[list[Row], tuple[str, ...]], list[list[Any]]]:
    from cwsw.formats import _cin_walk

    return _cin_walk.columns


def _columns_of(rows: list[Row], keys: tuple[str, ...]) -> list[list[Any]]:
    """Raw rows as columns (``_cin_walk.columns`` in Python)."""
    return [[row.get(key) for row in rows] for key in keys]


def _line(element: etree._Element) -> int:
    line = element.sourceline
    return line if isinstance(line, int) else 0


def _code(allowed: frozenset[str], raw: str) -> str | None:
    if raw in allowed:
        return raw
    code = raw.strip().upper()
    return code if code in allowed else None
