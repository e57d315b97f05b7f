"""SSDA903 looked-after-children return: every table, as CSV files or as the XML form.

**Which table.** A CSV table is known by its columns, whatever its name: each table has
columns no other has (``DECOM`` for episodes, ``ETHNIC`` for the header, ``DUC`` for UASC...),
besides ``CHILD``. A file whose columns say nothing is taken by its name as councils and the
sector's pipelines write it (``header.csv``, ``SSDA903_2025_episodes.csv``,
``SSDA903_2025_placedadoption.csv``, ``prevperm``...), so that a table with a missing column
fails with a located error rather than being passed over.

**Which year.** The files carry no year. It comes from the folder (``ssda903/2025/``), else
the file name (``SSDA903_2025_header.csv``), else the year the user gave (``cwsw ingest
--year``), else the episodes' own dates: the return for the year ending 31 March Y holds
episodes started up to 31 March Y, so the latest ``DECOM`` names the year. An information
finding (``collection_year_source``) says which source gave it; a year guessed from dates is
also a record-level ``collection_year_inferred``.

**Values.** Dates are DfE's ``dd/mm/yyyy``; ISO dates (pooled extracts) are read too, with an
information finding. Every coded column is checked against its list for the collection year
(``ssda903_codes.toml``), each distinct value once; a code that fails is a value-level finding
naming the row, child, column and value, and is kept as written, since the canonical column
is the code itself (sex, mapped to M / F / U, is nulled when it is no code at all). Each
normalisation that changes a value (an ID written ``123.0``, a flag written ``true``, a code
in lower case, an ISO date) is an information finding, so the council learns what to fix at
source. ``CHILD`` (``CHILDID`` in the XML) is the LA child ID shared with the CIN census.
Column sets changed between 2017 and 2026 (``PLACE_PROVIDER``, ``REASON_PLACE_CHANGE``,
``URN``, the social worker table): only the columns a table cannot do without are required.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import etree

from cwsw.formats.common import (
    Collector,
    CsvSource,
    ReadResult,
    Row,
    Sink,
    child_id,
    clean_text,
    parse_date,
    parse_flag,
    parse_integer,
)
from cwsw.formats.errors import FormatError, Severity
from cwsw.formats.ssda903_codes import codes_for_year
from cwsw.formats.xmltools import local_name

# The canonical sex, from the codes of every year (1 / 2 until 2023/24, M / F / U since).
SEX_CODES = {"1": "M", "2": "F", "M": "M", "F": "F", "U": "U"}
# The UPN field holds a reason code UN1–UN10 when there is no UPN: not an error.
_UPN_REASON = re.compile(r"^UN([1-9]|10)$")
# SDQ total difficulties scores run from 0 to 40.
SDQ_RANGE = (0, 40)

# kinds: text, code (checked against the year's list, kept), sex (checked, then M / F / U),
# date (dd/mm/yyyy or ISO), flag (0/1), int, score (int in SDQ_RANGE), id (the child), upn
Column = tuple[str, str, str]  # source column, canonical column, kind


@dataclass(frozen=True)
class Table:
    """One SSDA903 table: its file stem, canonical table, required and known columns."""

    stem: str
    canonical: str
    required: tuple[str, ...]
    columns: tuple[Column, ...]


_CHILD: Column = ("CHILD", "la_child_id", "id")
_DOB: Column = ("DOB", "birth_date", "date")

TABLES: dict[str, Table] = {
    t.stem: t
    for t in [
        Table(
            "header",
            "cla_child",
            ("CHILD", "SEX", "DOB", "ETHNIC", "UPN"),
            (
                _CHILD,
                ("UPN", "upn", "upn"),
                ("SEX", "sex", "sex"),
                _DOB,
                ("ETHNIC", "ethnicity", "code"),
                ("MOTHER", "mother", "flag"),
                ("MC_DOB", "mother_child_birth_date", "date"),
            ),
        ),
        Table(
            "episodes",
            "cla_episode",
            ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "DEC", "REC"),
            (
                _CHILD,
                ("DECOM", "start_date", "date"),
                ("RNE", "reason_new_episode", "code"),
                ("LS", "legal_status", "code"),
                ("CIN", "cin_code", "code"),
                ("PLACE", "placement", "code"),
                ("PLACE_PROVIDER", "placement_provider", "code"),
                ("DEC", "end_date", "date"),
                ("REC", "reason_end", "code"),
                ("REASON_PLACE_CHANGE", "reason_place_change", "code"),
                ("HOME_POST", "home_postcode", "text"),
                ("PL_POST", "placement_postcode", "text"),
                ("URN", "placement_urn", "text"),
            ),
        ),
        Table(
            "reviews",
            "cla_review",
            ("CHILD", "REVIEW"),
            (
                _CHILD,
                _DOB,
                ("REVIEW", "review_date", "date"),
                ("REVIEW_CODE", "review_code", "code"),
            ),
        ),
        Table(
            "uasc",
            "cla_uasc",
            ("CHILD", "DUC"),
            (_CHILD, ("SEX", "sex", "sex"), _DOB, ("DUC", "uasc_end_date", "date")),
        ),
        Table(
            "oc2",
            "cla_outcome_oc2",
            ("CHILD",),
            (
                _CHILD,
                _DOB,
                ("SDQ_SCORE", "sdq_score", "score"),
                ("SDQ_REASON", "sdq_reason", "code"),
                ("CONVICTED", "convicted", "flag"),
                ("HEALTH_CHECK", "health_check", "flag"),
                ("IMMUNISATIONS", "immunisations", "flag"),
                ("TEETH_CHECK", "teeth_check", "flag"),
                ("HEALTH_ASSESSMENT", "health_assessment", "flag"),
                ("SUBSTANCE_MISUSE", "substance_misuse", "flag"),
                ("INTERVENTION_RECEIVED", "intervention_received", "flag"),
                ("INTERVENTION_OFFERED", "intervention_offered", "flag"),
            ),
        ),
        Table(
            "oc3",
            "cla_outcome_oc3",
            ("CHILD",),
            (
                _CHILD,
                _DOB,
                ("IN_TOUCH", "in_touch", "code"),
                ("ACTIV", "activity", "code"),
                ("ACCOM", "accommodation", "code"),
            ),
        ),
        Table(
            "ad1",
            "cla_adoption",
            ("CHILD",),
            (
                _CHILD,
                _DOB,
                ("DATE_INT", "decision_date", "date"),
                ("DATE_MATCH", "match_date", "date"),
                ("FOSTER_CARE", "foster_carer", "flag"),
                ("NB_ADOPTR", "number_of_adopters", "code"),
                ("SEX_ADOPTR", "sex_of_adopters", "code"),
                ("LS_ADOPTR", "legal_status_of_adopters", "code"),
            ),
        ),
        Table(
            "missing",
            "cla_missing",
            ("CHILD", "MIS_START"),
            (
                _CHILD,
                _DOB,
                ("MISSING", "missing_type", "code"),
                ("MIS_START", "start_date", "date"),
                ("MIS_END", "end_date", "date"),
            ),
        ),
        Table(
            "placed_for_adoption",
            "cla_placed_for_adoption",
            ("CHILD", "DATE_PLACED"),
            (
                _CHILD,
                _DOB,
                ("DATE_PLACED", "placed_date", "date"),
                ("DATE_PLACED_CEASED", "ceased_date", "date"),
                ("REASON_PLACED_CEASED", "reason_ceased", "code"),
            ),
        ),
        Table(
            "previous_permanence",
            "cla_previous_permanence",
            ("CHILD", "PREV_PERM"),
            (
                _CHILD,
                _DOB,
                ("PREV_PERM", "previous_permanence", "code"),
                ("LA_PERM", "la_code", "text"),
                # Often partly unknown by design (``zz/zz/2012``): kept as written.
                ("DATE_PERM", "permanence_date", "text"),
            ),
        ),
        Table(
            "sw_episodes",
            "cla_sw_episode",
            ("CHILD", "SW_DECOM"),
            (
                _CHILD,
                _DOB,
                ("SW_ID", "social_worker_id", "text"),
                ("SW_DECOM", "start_date", "date"),
                ("SW_DEC", "end_date", "date"),
                ("SW_REASON", "reason_end", "code"),
            ),
        ),
    ]
}

# The deprivation of liberty orders table (2026/27): recognised, not read yet.
DOLO = "dolo"
# A CSV named or placed as an SSDA903 table whose columns match none.
UNRECOGNISED = "unrecognised"

# The columns that tell a table from the others (all but the ones several tables share).
_SHARED = {"CHILD", "DOB", "SEX"}
_MARKS: dict[str, frozenset[str]] = {
    stem: frozenset(source.lower() for source, _, _ in spec.columns if source not in _SHARED)
    for stem, spec in TABLES.items()
} | {DOLO: frozenset({"dolo_start", "dolo_end"})}

# Table names as councils, DfE's tools and the sector's pipelines write them (lower case, the
# return's name and any year taken out): ``SSDA903_2025_placedadoption`` is placed_for_adoption.
_ALIASES: dict[str, str] = {
    alias: stem
    for stem, aliases in {
        "header": ("header", "headers"),
        "episodes": ("episodes", "episode"),
        "reviews": ("reviews", "review"),
        "uasc": ("uasc",),
        "oc2": ("oc2",),
        "oc3": ("oc3",),
        "ad1": ("ad1",),
        "missing": ("missing",),
        "placed_for_adoption": ("placed_for_adoption", "placed_adoption", "placedadoption"),
        "previous_permanence": ("previous_permanence", "prev_perm", "prevperm"),
        "sw_episodes": ("sw_episodes", "sw_episode", "swepisodes", "social_worker"),
        DOLO: ("dolo", "dolos"),
    }.items()
    for alias in aliases
}
# Words that name the return, not the table.
_RETURN_WORDS = frozenset({"ssda903", "ssda", "903", "cla", "lac"})
# A date in a name (an export's date) is not a collection year.
_DATE_IN_NAME = re.compile(
    r"(?<!\d)(\d{4}[-_.]\d{1,2}[-_.]\d{1,2}|\d{1,2}[-_.]\d{1,2}[-_.]\d{4}|\d{8})(?!\d)"
)
# 2025, 2024-25, 2024_2025: the year ending 31 March (the second year of a pair).
_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:[-_]((?:19|20)?\d{2}))?(?!\d)")


def table_by_columns(columns: Iterable[str]) -> str | None:
    """The table whose own columns the header has most of (``CHILD`` required), or None
    when there is no such table or two tie."""
    present = {name.strip().lower() for name in columns}
    if "child" not in present:
        return None
    scores = {stem: len(marks & present) for stem, marks in _MARKS.items()}
    best = max(scores.values())
    winners = [stem for stem, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


def _name_words(name: str) -> list[str]:
    text = _YEAR_IN_NAME.sub(" ", _DATE_IN_NAME.sub(" ", name.lower()))
    return [word for word in re.split(r"[^a-z0-9]+", text) if word and word not in _RETURN_WORDS]


def table_by_name(name: str) -> str | None:
    """The table a file name says (``SSDA903_2025_prevperm`` → previous_permanence)."""
    words = _name_words(name)
    return _ALIASES.get("_".join(words)) or _ALIASES.get("".join(words))


def year_in_name(name: str) -> int | None:
    """The collection year a file or folder name carries (``SSDA903_2025_header``: 2025;
    ``2024-25``: 2025), or None when it has none or several."""
    found = set()
    for match in _YEAR_IN_NAME.finditer(_DATE_IN_NAME.sub(" ", name)):
        first, second = int(match[1]), match[2]
        if second is not None and int(second) % 100 == (first + 1) % 100:
            found.add(first + 1)
        else:
            found.add(first)
    return found.pop() if len(found) == 1 else None


def _words(name: str) -> set[str]:
    return {word for word in re.split(r"[^a-z0-9]+", name.lower()) if word}


def collection_year_from_path(path: Path) -> int | None:
    """The year of the folder a file is in, when the folder is named for it (``2025``,
    ``2024-25``, ``SSDA903_2025``), looking through a folder named for the return alone
    (``2025/ssda903/``); else None."""
    for folder in (path.parent, path.parent.parent):
        year = year_in_name(folder.name)
        if year is not None and not _name_words(folder.name):
            return year
        if not folder.name or not _words(folder.name) <= _RETURN_WORDS:
            return None
    return None


def _in_ssda903_place(path: Path) -> bool:
    """Named or filed as SSDA903 (``ssda903`` or ``903`` a word of its name or folders)."""
    parts = (path.stem, path.parent.name, path.parent.parent.name)
    return any(_words(part) & {"ssda903", "903"} for part in parts)


def _beside_ssda903_tables(path: Path) -> bool:
    return any(
        sibling != path and table_by_name(sibling.stem) in ("header", "episodes")
        for sibling in path.parent.glob("*.[cC][sS][vV]")
    )


def table_of(path: Path) -> str | None:
    """Which SSDA903 table a CSV file holds: by its columns; failing that by its name
    (``header`` and ``episodes`` anywhere, the other tables filed as SSDA903 or beside an
    episodes or header table); ``UNRECOGNISED`` for a file filed as SSDA903 that matches no
    table; None when it is not SSDA903."""
    by_columns = table_by_columns(CsvSource(path).header())
    if by_columns is not None:
        return by_columns
    by_name = table_by_name(path.stem)
    if by_name in ("header", "episodes"):
        return by_name
    if by_name is not None and (_in_ssda903_place(path) or _beside_ssda903_tables(path)):
        return by_name
    return UNRECOGNISED if _in_ssda903_place(path) else None


def year_ending(latest: date) -> int:
    """The collection year (ending 31 March) that a date falls in."""
    return latest.year if latest.month <= 3 else latest.year + 1


# A midnight time after a date (a spreadsheet's or pandas's export): the date is kept.
_MIDNIGHT = re.compile(r"[ T]00:00(:00(\.0+)?)?$")


def parse_ssda903_date(raw: str) -> tuple[date | None, bool]:
    """A date as DfE writes it (``dd/mm/yyyy``), or as an extract may (ISO, perhaps with a
    midnight time); and whether it was written otherwise than ``dd/mm/yyyy``."""
    parsed = parse_date(raw, "dmy")
    if parsed is not None:
        return parsed, False
    text = _MIDNIGHT.sub("", raw.strip())
    parsed = parse_date(text, "dmy") or parse_date(text, "iso")
    return parsed, parsed is not None


def _latest_decom_csv(path: Path) -> date | None:
    try:
        starts = [
            parse_ssda903_date(row.get("decom") or "")[0]
            for row in CsvSource(path, ("DECOM",)).rows()
        ]
    except FormatError:
        return None
    return max((d for d in starts if d is not None), default=None)


def _episodes_beside(path: Path) -> Path | None:
    """The one episodes table in ``path``'s folder (by name, else by columns), if any."""
    siblings = [p for p in sorted(path.parent.glob("*.[cC][sS][vV]")) if p != path]
    named = [p for p in siblings if table_by_name(p.stem) == "episodes"]
    if not named:
        named = [p for p in siblings if table_by_columns(CsvSource(p).header()) == "episodes"]
    return named[0] if len(named) == 1 else None


YEAR_SOURCE = "collection_year_source"


def _year(
    path: Path, given: int | None, values: Collector, latest: Callable[[], date | None]
) -> int:
    """The collection year: folder, file name, the year given, else the latest ``DECOM``."""
    sources = [
        ("folder", collection_year_from_path(path)),
        ("file name", year_in_name(path.stem)),
        ("--year", given),
    ]
    for source, year in sources:
        if year is None:
            continue
        values.add("file", source, str(year), YEAR_SOURCE, "information")
        for other, said in sources:  # e.g. ssda903/2024/SSDA903_2025_header.csv
            if said is not None and said != year:
                values.add("file", other, str(said), "collection_year_conflict", "record")
        return year
    newest = latest()
    if newest is None:
        raise FormatError(
            path,
            "collection year unknown: put the file in a folder named for the year (ssda903/2025/ "
            "for the year ending 31 March 2025), name it with the year (SSDA903_2025_header.csv), "
            "or give it with `cwsw ingest --year 2025`",
        )
    values.add("file", "DECOM", str(year_ending(newest)), YEAR_SOURCE, "information")
    values.add("file", "DECOM", newest.isoformat(), "collection_year_inferred", "record")
    return year_ending(newest)


# What a code check decided for one distinct value: the value kept, and the finding to make.
_Judged = tuple[str, str | None, Severity]


class _Values:
    """Normalises the records of one file, from CSV or XML, into canonical columns.

    Each distinct raw value of a coded column is judged once (a return repeats a few dozen
    codes thousands of times); its finding is made at every row it occurs in.
    """

    def __init__(self, values: Collector, year: int) -> None:
        self.values = values
        self.year = year
        self.codes = codes_for_year(year)
        self._judged: dict[tuple[str, str], _Judged] = {}
        self._dates: dict[str, tuple[date | None, bool]] = {}
        self._children: set[str] = set()  # the header's, for a child listed twice

    def row(
        self,
        spec: Table,
        get: Callable[[str], str | None],
        where: str,
        names: dict[str, str] | None = None,
    ) -> Row:
        """One record of ``spec``; ``names`` are the file's own names of columns whose
        findings must name them so (the XML's ``PL`` and ``CHILDID``)."""
        add = self.values.add
        raw_child = get("CHILD")
        child = child_id(raw_child)
        if child is not None:  # the child, for the council to find the record
            where = f"{where}, {(names or {}).get('CHILD', 'CHILD')} {child}"
        row: Row = {"collection_year": self.year}
        for source, name, kind in spec.columns:
            field = names.get(source, source) if names else source
            if kind == "id":
                row[name] = child
                if child is None:
                    add(where, field, None, "missing_child_id", "record")
                    continue
                if raw_child != child:
                    add(where, field, raw_child, "normalised_child_id", "information")
                if spec.stem == "header":
                    if child in self._children:
                        add(where, field, child, "duplicate_child_id", "record")
                    self._children.add(child)
                continue
            raw = get(source)
            if kind == "upn":
                row["upn_raw"] = raw
                is_reason = raw is not None and _UPN_REASON.match(raw.strip().upper())
                # Collector.upn reports a corrected UPN (lower case, padding) itself.
                upn = None if is_reason else self.values.upn(raw, where, field)
                row[name] = upn
            elif raw is None:
                row[name] = None
            elif kind == "code":
                row[name] = self.code(source, raw, where, field)
            elif kind == "date":
                row[name] = self._date(raw, where, field)
            elif kind == "text":
                row[name] = clean_text(raw)
            elif kind == "sex":
                row[name] = SEX_CODES.get(self.code("SEX", raw, where, field))
            elif kind == "flag":
                row[name] = self._flag(raw, where, field)
            else:  # int, score
                row[name] = self._integer(raw, where, field, kind == "score")
        return row

    def code(self, column: str, raw: str, where: str, field: str) -> str:
        """``raw`` checked against ``column``'s list for the year: the value kept."""
        key = (column, raw)
        judged = self._judged.get(key)
        if judged is None:
            judged = self._judged[key] = self._judge(column, raw)
        value, rule, severity = judged
        if rule is not None:
            self.values.add(where, field, raw, rule, severity)
        return value

    def _judge(self, column: str, raw: str) -> _Judged:
        valid = self.codes.valid[column]
        if raw in valid:
            return raw, None, "value"
        code = raw.strip().upper()
        if code in valid:
            return code, "normalised_code", "information"
        if code in self.codes.ever[column]:  # a code of another year
            return code, "code_not_valid_in_year", "value"
        return raw, "invalid_code", "value"

    def _date(self, raw: str, where: str, field: str) -> date | None:
        found = self._dates.get(raw)
        if found is None:
            found = self._dates[raw] = parse_ssda903_date(raw)
        parsed, other_format = found
        if parsed is None:
            self.values.add(where, field, raw, "invalid_date")
        elif other_format:
            self.values.add(where, field, raw, "normalised_date_format", "information")
        return parsed

    def _flag(self, raw: str, where: str, field: str) -> bool | None:
        value = parse_flag(raw)
        if value is None:
            self.values.add(where, field, raw, "invalid_flag")
        elif raw not in ("0", "1"):  # true / false, 1.0: DfE's flags are 0 / 1
            self.values.add(where, field, raw, "normalised_flag", "information")
        return value

    def _integer(self, raw: str, where: str, field: str, score: bool) -> int | None:
        number = parse_integer(raw)
        if number is None:
            self.values.add(where, field, raw, "invalid_integer")
            return None
        if str(number) != raw:  # 21.0
            self.values.add(where, field, raw, "normalised_number", "information")
        if score and not SDQ_RANGE[0] <= number <= SDQ_RANGE[1]:
            self.values.add(where, field, raw, "out_of_range")  # kept: the column holds it
        return number


def _unreadable(path: Path, stem: str | None) -> FormatError:
    if stem == DOLO:
        return FormatError(
            path, "an SSDA903 deprivation of liberty orders (DoLO) table: cwsw does not read it"
        )
    known = ", ".join(sorted(TABLES))
    return FormatError(
        path,
        f"not an SSDA903 table cwsw reads: its columns match none of {known} (each has CHILD "
        "and its own columns, e.g. DECOM for episodes, ETHNIC for header); check the header row",
        1,
    )


def read_ssda903_table(
    path: Path | str,
    stem: str | None = None,
    collection_year: int | None = None,
    sink: Sink | None = None,
) -> ReadResult:
    """One SSDA903 CSV table, named anyhow (``header.csv``, ``SSDA903_2025_episodes.csv``...):
    ``stem`` says which table, else its columns (or name) do."""
    path = Path(path)
    stem = stem or table_of(path)
    if stem not in TABLES:
        raise _unreadable(path, stem)
    spec = TABLES[stem]
    result = ReadResult(path, f"ssda903_{spec.stem}", None, sink=sink)
    values = Collector(path, result.findings)

    def latest() -> date | None:  # only when neither folder, name nor caller gives the year
        episodes = path if stem == "episodes" else _episodes_beside(path)
        return _latest_decom_csv(episodes) if episodes is not None else None

    year = _year(path, collection_year, values, latest)
    result.period = str(year)
    rows = result.rows(spec.canonical)
    normalise = _Values(values, year)
    for row in CsvSource(path, spec.required, collector=values).rows():
        cells = {name.upper(): value for name, value in row.values.items()}
        rows.append(normalise.row(spec, cells.get, row.location))
        result.maybe_flush()
    result.flush()
    return result


def read_unrecognised(
    path: Path | str, sink: Sink | None = None, collection_year: int | None = None
) -> ReadResult:
    """The reader of a file filed as SSDA903 that is no table cwsw reads: a located error, so
    that a folder of such files never looks loaded."""
    raise _unreadable(Path(path), table_of(Path(path)))


def read_ssda903_header(
    path: Path | str, collection_year: int | None = None, sink: Sink | None = None
) -> ReadResult:
    """``header.csv`` → ``cla_child`` (one row per looked-after child)."""
    return read_ssda903_table(path, "header", collection_year, sink)


def read_ssda903_episodes(
    path: Path | str, collection_year: int | None = None, sink: Sink | None = None
) -> ReadResult:
    """``episodes.csv`` → ``cla_episode``."""
    return read_ssda903_table(path, "episodes", collection_year, sink)


# Where each table's records sit in the XML form (CLA.xsd): a group element under HEADER,
# the HEADER itself (one record when any of the table's fields is present), or EPISODE.
_XML_GROUPS = {
    "reviews": "AREVIEW",
    "missing": "AMISSING",
    "previous_permanence": "PERMANENCE",
    "oc2": "OC2",
    "placed_for_adoption": "AD_PLACED",
}
_XML_IN_HEADER = {
    "uasc": ("DUC",),
    "ad1": ("DATE_INT", "DATE_MATCH"),
    "oc3": ("IN_TOUCH", "ACTIV", "ACCOM"),
}
# The XML's names of CSV columns, for findings to name what the file says.
_XML_NAMES = {"CHILD": "CHILDID", "PLACE": "PL"}


def _leaves(element: etree._Element) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for child in element:
        if isinstance(child.tag, str) and not len(child):
            text = child.text.strip() if child.text else ""
            found.setdefault(local_name(child.tag), text or None)
    return found


def read_ssda903_xml(
    path: Path | str, collection_year: int | None = None, sink: Sink | None = None
) -> ReadResult:
    """The XML form (root ``EXPSSDA903``): every table of the return from one file."""
    path = Path(path)
    result = ReadResult(path, "ssda903_xml", None, sink=sink)
    for spec in TABLES.values():
        result.rows(spec.canonical)
    values = Collector(path, result.findings)
    try:
        year = _year(path, collection_year, values, lambda: _latest_decom_xml(path))
        result.period = str(year)
        normalise = _Values(values, year)
        with path.open("rb") as handle:
            children = etree.iterparse(handle, events=("end",), tag="{*}CHILD")
            for count, (_event, child) in enumerate(children, start=1):
                result.maybe_flush(_xml_child(child, count, normalise, result))
                child.clear()
                parent = child.getparent()
                if parent is not None:
                    while child.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as error:
        raise FormatError(path, f"not well-formed XML: {error.msg}", error.lineno or None) from None
    result.flush()
    return result


def _latest_decom_xml(path: Path) -> date | None:
    latest: date | None = None
    with path.open("rb") as handle:
        for _event, element in etree.iterparse(handle, events=("end",), tag="{*}DECOM"):
            parsed = parse_ssda903_date(element.text or "")[0]
            if parsed is not None and (latest is None or parsed > latest):
                latest = parsed
            element.clear()
    return latest


def _xml_child(child: etree._Element, index: int, normalise: _Values, result: ReadResult) -> int:
    header = next((e for e in child if local_name(e.tag) == "HEADER"), None)
    fields = _leaves(header) if header is not None else {}
    la_child = fields.get("CHILDID")
    base = {"CHILD": la_child, "DOB": fields.get("DOB"), "SEX": fields.get("SEX")}
    where = f"CHILD[{index}]/HEADER (line {(header if header is not None else child).sourceline})"
    added = 0

    def emit(stem: str, got: dict[str, str | None], at: str) -> None:
        nonlocal added
        merged = base | got
        spec = TABLES[stem]
        result.rows(spec.canonical).append(normalise.row(spec, merged.get, at, _XML_NAMES))
        added += 1

    emit("header", fields | {"CHILD": la_child}, where)
    # <UASC>1</UASC>: the child was an unaccompanied asylum seeker in the year, with or
    # without the date that status ceased (DUC).
    uasc = fields.get("UASC")
    if uasc is not None:
        shown = f"{where}, CHILDID {child_id(la_child)}" if child_id(la_child) else where
        uasc = normalise.code("UASC", uasc, shown, "UASC")
    for stem, keys in _XML_IN_HEADER.items():
        if any(fields.get(key) is not None for key in keys) or (stem == "uasc" and uasc == "1"):
            emit(stem, fields, where)
    if header is not None:
        for stem, group in _XML_GROUPS.items():
            elements = (e for e in header if local_name(e.tag) == group)
            for n, element in enumerate(elements, start=1):
                got = _leaves(element)
                if any(v is not None for v in got.values()):
                    at = f"CHILD[{index}]/HEADER/{group}[{n}] (line {element.sourceline})"
                    emit(stem, got, at)
    episodes = (e for e in child if local_name(e.tag) == "EPISODE")
    for n, episode in enumerate(episodes, start=1):
        got = _leaves(episode)
        got.setdefault("PLACE", got.get("PL"))  # the XML calls PLACE "PL"
        emit("episodes", got, f"CHILD[{index}]/EPISODE[{n}] (line {episode.sourceline})")
    return added
