"""One pass of the CIN census reader over a file, or over one part of it: the walk of each
``Child``, its rows, and the findings about them.

The file is streamed with lxml iterparse: one ``Child`` element is parsed at a time and then
freed, so a national-scale file stays in constant memory. Each child is walked once into raw
rows (by the compiled walk, ``cwsw.formats._cin_walk``, or by ``_Reader._child``, the Python
reference it is tested against), which are converted a batch and a column at a time against
``spec`` (DfE's schema for each collection year, docs/domain.md §3).

Problems are classified as the issue asks: a file that cannot be read raises ``FormatError``
(fatal); a child without ``LAchildID`` or listed twice is kept with a record-level finding; a
value that fails its type or code list is nulled with a value-level finding (the raw UPN is kept
in ``upn_raw``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from cwsw.domain.upn import clean_upn
from cwsw.formats.cin_census.parts import Part, PartFile
from cwsw.formats.cin_census.spec import (
    CHILD_LEAVES,
    EPISODE_GROUP,
    EPISODE_LEAVES,
    FORMAT,
    ITEM_KEYS,
    ITEMS,
    MODULES,
    RC9_FROM,
    SEX_CODES,
    SHARED_LEAF,
    SPECS,
    TABLES,
    Kind,
)
from cwsw.formats.cin_census.walk import columns_of, compiled_columns, compiled_walker
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
from cwsw.formats.errors import FormatError
from cwsw.formats.xmltools import local_name, root_element, strip_namespaces

# Rows of a child are buffered raw, then converted a batch at a time, column by column.
BATCH_CHILDREN = 5_000
_FILE_YEAR = re.compile(r"(20\d{2})")


@dataclass
class Summary:
    """What one pass learnt besides rows: the header's year and each child's LAchildID."""

    year: int | None = None
    year_text: str | None = None
    year_line: int | None = None
    # (child number, LAchildID, line of ChildIdentifiers) for every child read
    ids: list[tuple[int, str | None, int]] = field(default_factory=list)


def new_result(path: Path, sink: Sink | None) -> ReadResult:
    """The result a read of ``path`` fills; ``FormatError`` if its root is not ``Message``."""
    result = ReadResult(file=path, format=FORMAT, period=None, sink=sink)
    for table in TABLES:  # a CIN census fills every table, even when a module is absent
        result.rows(table)
    root, root_line = root_element(path)
    if root is not None and root != "Message":
        raise FormatError(
            path, f"root element is <{root}>, a CIN census starts with <Message>", root_line
        )
    return result


def read_part(path: Path, result: ReadResult, part: Part | None) -> Summary:
    """Read the whole file, or one ``Part`` of it, into ``result``."""
    offset = 0 if part is None else part.lines_before
    reader = _Reader(path, result, 0 if part is None else part.children_before, offset)
    handle: PartFile | BinaryIO = path.open("rb") if part is None else PartFile(path, part)
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


def finish(path: Path, result: ReadResult, summary: Summary) -> ReadResult:
    """The checks on the whole file once every child is read (by one process or several):
    its collection year, each child's LAchildID, and the year in its name."""
    if summary.year is None:
        raise FormatError(
            path,
            f"no valid Header/CollectionDetails/Year (found {summary.year_text!r})",
            summary.year_line,
        )
    values = Collector(path, result.findings)
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
        self.summary = Summary()
        self.children = children  # before the first one this reader sees (another part's)
        self.lines = lines  # added to a child's lines: the line breaks of earlier parts
        # table → raw rows (leaf name → trimmed text, plus keys and ``_at``, its location)
        self.raw: dict[str, list[Row]] = {name: [] for name in TABLES}
        self.buffered_children = 0
        # Raw rows to columns: in C where the walk is compiled (the same lists either way).
        # One choice for the pass: the compiled walk and its column extraction, or both in
        # Python (the same rows and columns either way).
        self.walker = compiled_walker()
        self.extract = columns_of if self.walker is None else compiled_columns()
        self.converters: dict[str, Callable[[str], object]] = {
            "date": parse_date,
            "flag": parse_flag,
            "integer": parse_integer,
            "upn": clean_upn,
        }

    def parse(self, handle: BinaryIO | PartFile) -> None:
        walker = self.walker
        tags = ("{*}Child", "{*}Year")
        events = etree.iterparse(
            handle, events=("end",), tag=tags, remove_comments=True, remove_pis=True
        )
        for _event, element in events:
            tag = element.tag
            if tag != "Child" and local_name(tag) != "Child":
                parent = element.getparent()
                if parent is not None and local_name(parent.tag) == "CollectionDetails":
                    self._set_year(element)
                continue
            if tag != "Child":
                strip_namespaces(element)
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
        """RC9 is valid from RC9_FROM (``spec.YEAR_CHANGES``): before then it is reported and
        nulled."""
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


def _in_document_order(findings: pa.Table) -> pa.Table:
    """A batch's findings (found column by column) sorted, stably, by the number of the
    child each is in (``Child[n]/...``; 0 outside any child)."""
    if findings.num_rows < 2:
        return findings
    number = pc.struct_field(pc.extract_regex(findings["location"], _CHILD_NUMBER), "n")
    order = pc.fill_null(pc.cast(number, pa.int64()), 0)
    return findings.take(pc.sort_indices(order))  # Arrow's sort is stable


_CHILD_NUMBER = r"^Child\[(?P<n>[0-9]+)\]"


def _line(element: etree._Element) -> int:
    line = element.sourceline
    return line if isinstance(line, int) else 0


def _code(allowed: frozenset[str], raw: str) -> str | None:
    if raw in allowed:
        return raw
    code = raw.strip().upper()
    return code if code in allowed else None
