"""One pass of the CIN census reader over a file, or over one part of it: the walk of each
``Child``, its rows, and the findings about them.

The file is streamed with lxml iterparse: one ``Child`` element is parsed at a time and then
freed, so a national-scale file stays in constant memory. Each child is walked once into raw
rows (by the compiled walk, ``cwsw.formats._cin_walk``, or by ``_Reader._child``, the Python
reference it is tested against), which are converted a batch and a column at a time against
``spec`` and the code lists of the file's collection year (``codes``, from DfE's schema of
each year; docs/domain.md §3).

Problems are classified as the issue asks: a file that cannot be read, or is another DfE
return (``dfe_collections``), raises ``FormatError`` (fatal); a child without ``LAchildID`` or
listed twice is kept with a record-level finding, as is a header whose ``Year``,
``ReferenceDate`` and file name disagree; a value that fails its type is nulled with a
value-level finding (the raw UPN is kept in ``upn_raw``), and a code not in its list for the
year is kept as written with one; a value the reader changed to read it (case, padding,
``true`` for ``1``, ``10.0`` for ``10``, an LA child ID's ``.0``) is an information finding,
so the council learns what to fix at source. Findings inside a child name its LAchildID.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from cwsw.domain.calendar import reference_date
from cwsw.domain.upn import clean_upn
from cwsw.formats.cin_census.codes import codes_ever, codes_in_year, elements_not_in_year
from cwsw.formats.cin_census.parts import Part, PartFile
from cwsw.formats.cin_census.spec import (
    CHILD_LEAVES,
    EPISODE_GROUP,
    EPISODE_LEAVES,
    FORMAT,
    ITEM_KEYS,
    ITEMS,
    MODULES,
    SEX_CODES,
    SEX_ELEMENTS,
    SHARED_LEAF,
    SPECS,
    TABLES,
    Kind,
)
from cwsw.formats.cin_census.walk import PADDED, columns_of, compiled_columns, compiled_walker
from cwsw.formats.common import (
    INFORMATION,
    NORMALISED_CHILD_ID,
    NORMALISED_CODE,
    NORMALISED_FLAG,
    NORMALISED_NUMBER,
    NORMALISED_UPN,
    NORMALISED_WHITE_SPACE,
    Collector,
    Columns,
    ReadResult,
    Row,
    Sink,
    blocks_table,
    child_id,
    parse_date,
    parse_flag,
    parse_integer,
)
from cwsw.formats.dfe_collections import MESSAGE, XmlHeader, identify
from cwsw.formats.errors import FormatError, Severity
from cwsw.formats.xmltools import local_name, strip_namespaces

# Rows of a child are buffered raw, then converted a batch at a time, column by column.
BATCH_CHILDREN = 5_000
# The collection year in a file's name: ``2023``, or the year ``2022-23`` (``2022_23``,
# ``202223``) whose 31 March is in 2023. The last one in the name counts.
_NAMED_YEAR = re.compile(r"(?<!\d)(20\d{2})(?:[-_ ]?(\d{2}))?(?!\d)")
# A code's judgement: the value kept, and the rule and severity of its finding (None: none).
_Judged = tuple[str | None, str | None, Severity]
_FLAGS = frozenset({"0", "1"})  # DfE's yes/no (the schemas' yesnotype)
# Kinds whose schema type collapses white space (xs:date, xs:integer): padding is no fault.
_COLLAPSED = frozenset({"date", "integer"})


@dataclass
class Summary:
    """What one pass learnt besides rows: the header's year and each child's LAchildID."""

    year: int | None = None
    year_text: str | None = None
    year_line: int | None = None
    # (child number, LAchildID, line of ChildIdentifiers) for every child read
    ids: list[tuple[int, str | None, int]] = field(default_factory=list)


def new_result(path: Path, sink: Sink | None) -> tuple[ReadResult, XmlHeader]:
    """The result a read of ``path`` fills, and the file's header.

    ``FormatError`` if its root is not ``Message``, or its header says it is another DfE
    return (an SEN2 or workforce return shares the ``<Message>`` shape): it is never read as
    an empty CIN census.
    """
    result = ReadResult(file=path, format=FORMAT, period=None, sink=sink)
    for table in TABLES:  # a CIN census fills every table, even when a module is absent
        result.rows(table)
    found = identify(path)
    header = found.header
    if header.root is not None and header.root != MESSAGE:
        raise FormatError(
            path,
            f"root element is <{header.root}>, a CIN census starts with <Message>",
            header.root_line,
        )
    refusal = found.refusal
    if refusal is not None:
        raise FormatError(path, refusal, found.line)
    return result, header


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


def finish(path: Path, result: ReadResult, summary: Summary, header: XmlHeader) -> ReadResult:
    """The checks on the whole file once every child is read (by one process or several):
    its collection year, each child's LAchildID, and the header's ``Year``,
    ``ReferenceDate`` and the year in the file's name against each other."""
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
    result.period = str(summary.year)
    _check_years(values, path, summary, header)
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


def named_year(path: Path) -> int | None:
    """The collection year a file's name gives (``CIN_Census_2024.xml``: 2024;
    ``cin_2022-23.xml``: 2023), or None."""
    found = _NAMED_YEAR.findall(path.stem)
    if not found:
        return None
    start, end = found[-1]
    if end and int(end) == (int(start) + 1) % 100:  # an academic year, 2022-23
        return int(start) + 1
    return int(start)


def _check_years(values: Collector, path: Path, summary: Summary, header: XmlHeader) -> None:
    """The header's ``Year``, its ``ReferenceDate`` (31 March of that year: DfE's CIN census
    guide, "the census reference date"; docs/domain.md §2) and the year in the file's name,
    each pair checked once: a mismatch is a record-level finding located at the element and
    line, naming the other side, so the council can tell which of the three is wrong."""
    year = summary.year
    assert year is not None
    year_at = f"Header/CollectionDetails/Year (line {summary.year_line})"
    reference = header.reference_date
    reference_at = f"Header/CollectionDetails/ReferenceDate (line {reference.line})"
    named = named_year(path)
    on = None
    if reference.text is not None:
        on = parse_date(reference.text)
        if on is None:
            values.add(reference_at, "ReferenceDate", reference.text, "invalid_date")
        elif on != reference_date(year):
            where = f"{reference_at} against Year {year}"
            values.add(
                where,
                "ReferenceDate",
                reference.text,
                "reference_date_differs_from_year",
                "record",
            )
    if named is not None and named != year:
        where = f"{year_at} against {named} in the file name"
        values.add(where, "Year", summary.year_text, "year_differs_from_file_name", "record")
    if named is not None and on is not None and on != reference_date(named):
        where = f"{reference_at} against {named} in the file name"
        values.add(
            where,
            "ReferenceDate",
            reference.text,
            "reference_date_differs_from_file_name",
            "record",
        )


class _Reader:
    """The state of one pass over a file.

    Each ``Child`` is walked once in document order: a group element opens a row of its table
    and each leaf fills the open row of the table it belongs to (every leaf name but one
    belongs to one group), so no element is visited twice. Values are converted later, a
    batch and a column at a time, which is what makes a national-size file fast: each
    distinct value of a column is parsed or judged once, and only the rows that fail or were
    changed are visited one by one, to report them.
    """

    def __init__(self, path: Path, result: ReadResult, children: int, lines: int) -> None:
        self.path = path
        # Findings column-wise: a national file has millions (the benchmark's, 1.4 million).
        self.values = Collector(path, as_tables=True)
        self.result = result
        self.summary = Summary()
        self.children = children  # before the first one this reader sees (another part's)
        self.lines = lines  # added to a child's lines: the line breaks of earlier parts
        # table → raw rows (leaf name → trimmed text, plus keys and ``_at``, its location);
        # and under PADDED, (row, leaf, text as written) for each text the walk trimmed
        self.raw: dict[str, list[Any]] = {name: [] for name in TABLES}
        self.raw[PADDED] = []
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
        self._judged: dict[tuple[str, str], _Judged] = {}
        # The conversion's findings, a block per field and rule (severity, rule, field,
        # locations, values), joined to the Collector's at each batch: a national file can
        # have a million of one rule (``true`` for every ``1``), too many to make one by one.
        self._blocks: list[tuple[Severity, str, str, list[str], list[str | None]]] = []

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
        A leaf outside any open group of its kind has no entry and is passed over. A text
        with white space around it is stored trimmed, and noted under PADDED.
        """
        number = self.children
        path = f"Child[{number}]"
        raw, modules, items = self.raw, MODULES, ITEMS
        padded = raw[PADDED]
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
                    target[tag] = _trimmed(element.text, target, tag, padded)
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
                written = element.text
                text = written.strip() if written is not None else None
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
                if written is not None and len(text) != len(written):
                    padded.append((item, tag, written))
            elif tag == SHARED_LEAF:  # in CINdetails and in Section47: the parent decides
                parent = element.getparent()
                in_episode = parent is not None and parent.tag == EPISODE_GROUP
                target = open_rows.get("cin_episode" if in_episode else "cin_s47")
                if target is not None and tag not in target:
                    target[tag] = _trimmed(element.text, target, tag, padded)
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

        The batch's findings, found column by column, are put in document order, and each
        one inside a child is given the child's LAchildID.
        """
        for table in TABLES:
            rows = self.raw[table]
            columns = self._columns(table, rows) if rows else {}
            if columns or self.result.sink is None:
                self.result.add_columns(table, columns)
            self.raw[table] = []
        self._report_padding(self.raw[PADDED])
        self.raw[PADDED] = []
        ids = self.summary.ids
        children = ids[len(ids) - self.buffered_children :]
        self.buffered_children = 0
        found = self.values.finding_table()
        if self._blocks:
            found = pa.concat_tables([found, blocks_table(self._blocks)])
            self._blocks = []
        self.result.add_findings_table(_named_in_document_order(found, children))

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
            keys.extend(("_at", "LAchildID", *SEX_ELEMENTS))
        raw = dict(zip(keys, self.extract(rows, tuple(keys)), strict=True))
        locations = raw[at_key]
        columns: Columns = {"collection_year": [self.year] * len(rows)}
        columns["la_child_id"] = raw["la_child_id"]
        for seq in ("episode_seq", "assessment_seq", "plan_seq"):
            if seq in raw:
                columns[seq] = raw[seq]
        # Elements the year's schema does not declare (CINPlanDates before 2022, Sex before
        # 2025, GenderCurrent after 2024) are read all the same, with a finding each.
        absent = elements_not_in_year(self.year or 0)
        group = _GROUPS.get(table)
        if group in absent:
            self._not_in_year([group] * len(rows), locations, group, group=True)
        for column, leaf, kind in specs:
            if leaf in absent and group not in absent:
                self._not_in_year(raw[leaf], locations, leaf)
            columns[column] = self._convert(raw[leaf], locations, leaf, kind)
        for tag, (_, _, column, kind, _) in items:
            if tag in absent:
                self._not_in_year(raw[tag], locations, tag)
            columns[column] = self._convert(raw[tag], locations, tag, kind)
            if table == "cin_disability":
                columns["disability_raw"] = raw[tag]
        if table == "cin_child":
            for element in SEX_ELEMENTS:
                if element in absent:
                    self._not_in_year(raw[element], locations, element)
            columns["sex"] = self._sex(raw["Sex"], raw["GenderCurrent"], locations)
            self._child_ids(raw["LAchildID"], raw["la_child_id"], locations)
            columns["record"] = raw["_at"]
        elif table == "cin_episode":
            columns["record"] = locations
        return columns

    def _convert(self, raws: list[str | None], locations: list[str], field: str, kind: Kind) -> Any:
        """A list, or an Arrow array where values had to be converted."""
        if kind == "code":
            return self._codes(raws, locations, field)
        if kind == "text":
            return list(raws)
        rule = {"date": "invalid_date", "flag": "invalid_flag", "integer": "invalid_integer"}
        return self.values.column(
            raws,
            locations,
            field,
            self.converters[kind],
            rule.get(kind, f"invalid_{kind}"),
            normalised=_CORRECTIONS.get(kind),
        )

    def _child_ids(
        self, raws: list[str | None], ids: list[str | None], locations: list[str]
    ) -> None:
        """An information finding at each LAchildID read as something else than it is written
        (``123.0``, lower case), so the IDs join across returns. Compared as Arrow, so a
        national file's million distinct IDs cost no Python each."""
        written, read = pa.array(raws, pa.string()), pa.array(ids, pa.string())
        changed = pc.fill_null(pc.not_equal(read, written), False)
        rows = pc.indices_nonzero(changed).to_pylist()
        at, values = [locations[i] for i in rows], [raws[i] for i in rows]
        self._block(INFORMATION, NORMALISED_CHILD_ID, "LAchildID", at, values)

    def _codes(self, raws: list[str | None], locations: list[str], element: str) -> pa.Array:
        """``element``'s codes checked against its list for the year, each distinct value
        once; a value that fails is kept as written, with a finding at each row."""
        encoded = pa.array(raws, pa.string()).dictionary_encode()
        judged = [self._judge(element, raw) for raw in encoded.dictionary.to_pylist()]
        out = pa.array([value for value, _, _ in judged], pa.string()).take(encoded.indices)
        self._report_codes(judged, encoded.indices, lambda i: (element, raws[i]), locations)
        return out

    def _sex(
        self, sex: list[str | None], gender: list[str | None], locations: list[str]
    ) -> pa.Array:
        """Sex from ``Sex`` (2024/25 on) or ``GenderCurrent``, either code set in either, as
        M / F / U; a code of the other set is read with a finding, one of neither is nulled."""
        sexes, genders = pa.array(sex, pa.string()), pa.array(gender, pa.string())
        encoded = pc.coalesce(sexes, genders).dictionary_encode()
        judged = [self._judge("Sex", raw) for raw in encoded.dictionary.to_pylist()]
        out = pa.array([value for value, _, _ in judged], pa.string()).take(encoded.indices)

        def found(i: int) -> tuple[str, str | None]:
            return ("Sex", sex[i]) if sex[i] is not None else ("GenderCurrent", gender[i])

        self._report_codes(judged, encoded.indices, found, locations)
        return out

    def _judge(self, element: str, raw: str) -> _Judged:
        """What a code is worth in the file's year: valid as written; valid once upper-cased
        (``normalised_code``, information); a code of another year (``code_not_valid_in_year``)
        or of none (``invalid_code``), kept as written. Sex is mapped to M / F / U from
        either element's codes, and nulled when it is in neither."""
        key = (element, raw)
        known = self._judged.get(key)
        if known is not None:
            return known
        year = self.year or 0
        if element == "Sex":
            valid = codes_in_year("Sex", year) | codes_in_year("GenderCurrent", year)
            ever = codes_ever("Sex") | codes_ever("GenderCurrent")
        else:
            valid, ever = codes_in_year(element, year), codes_ever(element)
        code = raw.strip().upper()
        value: str | None = code
        rule: str | None = None
        severity: Severity = "value"
        if raw in valid:
            value = raw
        elif code in valid:
            rule, severity = NORMALISED_CODE, INFORMATION
        elif code in ever:
            rule = "code_not_valid_in_year"
        else:
            value, rule = raw, "invalid_code"
        if element == "Sex":
            value = None if rule == "invalid_code" else SEX_CODES.get(code)
        judged = self._judged[key] = (value, rule, severity)
        return judged

    def _report_codes(
        self,
        judged: list[_Judged],
        indices: pa.Array,
        found: Callable[[int], tuple[str, str | None]],
        locations: list[str],
    ) -> None:
        """A finding at every row holding a distinct value whose judgement has one."""
        for n, (_, rule, severity) in enumerate(judged):
            if rule is None:
                continue
            rows = pc.indices_nonzero(pc.fill_null(pc.equal(indices, n), False)).to_pylist()
            by_element: dict[str, tuple[list[str], list[str | None]]] = {}
            for i in rows:
                element, written = found(i)
                at, values = by_element.setdefault(element, ([], []))
                at.append(locations[i])
                values.append(written)
            for element, (at, values) in by_element.items():
                self._block(severity, rule, element, at, values)

    def _not_in_year(
        self, raws: list[str | None], locations: list[str], element: str, group: bool = False
    ) -> None:
        """A finding at each row holding ``element`` (a leaf's value, or a ``group``'s row) in
        a year whose schema does not declare it; the value is read all the same."""
        present = pc.indices_nonzero(pc.is_valid(pa.array(raws, pa.string()))).to_pylist()
        if present:
            values = [None] * len(present) if group else [raws[i] for i in present]
            at = [locations[i] for i in present]
            self._block("value", "element_not_in_year", element, at, values)

    def _block(
        self,
        severity: Severity,
        rule: str,
        field: str,
        locations: list[str],
        values: list[str | None],
    ) -> None:
        if locations:
            self._blocks.append((severity, rule, field, locations, values))

    def _report_padding(self, padded: list[tuple[Row, str, str]]) -> None:
        """An information finding at each text the walk trimmed, where the schema's type keeps
        white space (codes, flags, UPNs, IDs: a padded value fails the schema; a date's or a
        count's white space is the schema's own to collapse)."""
        for row, tag, written in padded:
            if _KINDS.get(tag) in _COLLAPSED:
                continue
            location = row["_ids_at"] if "_ids_at" in row else row["_at"]
            self.values.add(location, tag, written, NORMALISED_WHITE_SPACE, INFORMATION)


def _upn_corrected(raw: str, upn: str) -> str | None:
    """A UPN read in upper case (the walk has trimmed it; its padding is noted there)."""
    return NORMALISED_UPN if upn != raw else None


def _flag_corrected(raw: str, _value: bool) -> str | None:
    """A yes/no written otherwise than the schema's 0 / 1 (``true``, ``1.0``)."""
    return NORMALISED_FLAG if raw not in _FLAGS else None


def _number_corrected(raw: str, number: int) -> str | None:
    """A count written otherwise than as a whole number (``2.0``)."""
    return NORMALISED_NUMBER if str(number) != raw else None


# What was corrected to read a value, per kind: decided once per distinct value (``column``).
_CORRECTIONS: dict[str, Callable[[str, Any], str | None]] = {
    "upn": _upn_corrected,
    "flag": _flag_corrected,
    "integer": _number_corrected,
}
# The element that opens each module's rows (CINPlanDates → cin_plan), by table.
_GROUPS = {table: tag for tag, (table, _, _) in MODULES.items()}
# Each leaf's and item's kind.
_KINDS: dict[str, Kind] = {leaf: kind for spec in SPECS.values() for _, leaf, kind in spec} | {
    tag: kind for tag, (_, _, _, kind, _) in ITEMS.items()
}


def _trimmed(text: str | None, row: Row, tag: str, padded: list[Any]) -> str | None:
    """A leaf's text as the walks store it: trimmed, None when blank; a text with white space
    around it is noted under PADDED."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        return None
    if len(value) != len(text):
        padded.append((row, tag, text))
    return value


def _named_in_document_order(
    findings: pa.Table, children: list[tuple[int, str | None, int]]
) -> pa.Table:
    """A batch's findings (found column by column) each given the LAchildID of the child it
    is in (``Child[n]/...``, ", LAchildID X"), and sorted, stably, by that child's number (0
    outside any child). ``children`` are the batch's, in order: consecutive numbers."""
    if findings.num_rows == 0:
        return findings
    locations = findings["location"]
    matched = pc.extract_regex(locations, _CHILD_NUMBER)
    number = pc.cast(pc.struct_field(matched, "n"), pa.int64())
    if children:
        ids = pa.array([la_child_id for _, la_child_id, _ in children], pa.string())
        position = pc.subtract(number, children[0][0])
        inside = pc.fill_null(
            pc.and_(pc.greater_equal(position, 0), pc.less(position, len(children))), False
        )
        named = pc.take(ids, pc.if_else(inside, position, 0))
        joined = pc.binary_join_element_wise(locations, ", LAchildID ", named, "")
        location = pc.if_else(inside, pc.coalesce(joined, locations), locations)
        findings = findings.set_column(
            findings.schema.get_field_index("location"), "location", location
        )
    if findings.num_rows < 2:
        return findings
    order = pc.fill_null(number, 0)
    return findings.take(pc.sort_indices(order))  # Arrow's sort is stable


_CHILD_NUMBER = r"^Child\[(?P<n>[0-9]+)\]"


def _line(element: etree._Element) -> int:
    line = element.sourceline
    return line if isinstance(line, int) else 0
