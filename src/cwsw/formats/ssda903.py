"""SSDA903 looked-after-children return: every table, as CSV files or as the XML form.

Dates are ``dd/mm/yyyy``. ``CHILD`` (``CHILDID`` in the XML) is the LA child ID shared with the
CIN census, and spreadsheets often turn it into ``123.0``. Column sets changed between 2017 and
2026 (``PLACE_PROVIDER``, ``REASON_PLACE_CHANGE``, ``URN``, the social worker table): only the
columns a table cannot do without are required, the rest are read when present.

The files carry no year. It comes from the folder ``ssda903/YYYY/`` (data contracts §1), else
from the caller, else from the episodes: the return for the year ending 31 March Y holds
episodes that started up to 31 March Y, so the latest ``DECOM`` names the year (a
``collection_year_inferred`` finding says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
)
from cwsw.formats.errors import FormatError

SEX_CODES = {"1": "M", "2": "F", "M": "M", "F": "F"}
# The UPN field holds a reason code UN1–UN10 when there is no UPN: not an error.
_UPN_REASON = re.compile(r"^UN([1-9]|10)$")

# kinds: text, date (dd/mm/yyyy), flag (0/1), int, sex, id (the child), upn
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
                ("ETHNIC", "ethnicity", "text"),
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
                ("RNE", "reason_new_episode", "text"),
                ("LS", "legal_status", "text"),
                ("CIN", "cin_code", "text"),
                ("PLACE", "placement", "text"),
                ("PLACE_PROVIDER", "placement_provider", "text"),
                ("DEC", "end_date", "date"),
                ("REC", "reason_end", "text"),
                ("REASON_PLACE_CHANGE", "reason_place_change", "text"),
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
                ("REVIEW_CODE", "review_code", "text"),
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
                ("SDQ_SCORE", "sdq_score", "int"),
                ("SDQ_REASON", "sdq_reason", "text"),
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
                ("IN_TOUCH", "in_touch", "text"),
                ("ACTIV", "activity", "text"),
                ("ACCOM", "accommodation", "text"),
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
                ("NB_ADOPTR", "number_of_adopters", "text"),
                ("SEX_ADOPTR", "sex_of_adopters", "text"),
                ("LS_ADOPTR", "legal_status_of_adopters", "text"),
            ),
        ),
        Table(
            "missing",
            "cla_missing",
            ("CHILD", "MIS_START"),
            (
                _CHILD,
                _DOB,
                ("MISSING", "missing_type", "text"),
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
                ("REASON_PLACED_CEASED", "reason_ceased", "text"),
            ),
        ),
        Table(
            "previous_permanence",
            "cla_previous_permanence",
            ("CHILD", "PREV_PERM"),
            (
                _CHILD,
                _DOB,
                ("PREV_PERM", "previous_permanence", "text"),
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
                ("SW_REASON", "reason_end", "text"),
            ),
        ),
    ]
}
HEADER_COLUMNS = TABLES["header"].required
EPISODE_COLUMNS = TABLES["episodes"].required
OTHER_TABLES = frozenset(stem for stem in TABLES if stem not in ("header", "episodes"))


def collection_year_from_path(path: Path) -> int | None:
    """The year of a file in ``ssda903/YYYY/``, else None."""
    parent = path.parent.name
    return int(parent) if re.fullmatch(r"(19|20)\d{2}", parent) else None


def year_ending(latest: date) -> int:
    """The collection year (ending 31 March) that a date falls in."""
    return latest.year if latest.month <= 3 else latest.year + 1


def _latest_decom_csv(path: Path) -> date | None:
    try:
        starts = [
            parse_date(row.get("decom") or "", "dmy") for row in CsvSource(path, ("DECOM",)).rows()
        ]
    except FormatError:
        return None
    return max((d for d in starts if d is not None), default=None)


def _year(
    path: Path, collection_year: int | None, values: Collector, latest: Callable[[], date | None]
) -> int:
    if collection_year is not None:
        return collection_year
    from_folder = collection_year_from_path(path)
    if from_folder is not None:
        return from_folder
    newest = latest()
    if newest is None:
        raise FormatError(
            path,
            "collection year unknown: put the file in a folder ssda903/YYYY/ "
            "(the year ending 31 March YYYY) or pass the year",
        )
    year = year_ending(newest)
    values.add("file", "DECOM", newest.isoformat(), "collection_year_inferred", "record")
    return year


class _Values:
    """Normalises one record of any table, from CSV or XML, into canonical columns."""

    def __init__(self, values: Collector) -> None:
        self.values = values

    def row(self, spec: Table, get: Callable[[str], str | None], where: str, year: int) -> Row:
        values = self.values
        row: Row = {"collection_year": year}
        for source, name, kind in spec.columns:
            raw = get(source)
            if kind == "text":
                row[name] = clean_text(raw)
            elif kind == "date":
                row[name] = values.date(raw, where, source, "dmy")
            elif kind == "flag":
                row[name] = values.flag(raw, where, source)
            elif kind == "int":
                row[name] = values.integer(raw, where, source)
            elif kind == "sex":
                row[name] = values.mapped(raw, SEX_CODES, where, source)
            elif kind == "id":
                row[name] = child_id(raw)
                if row[name] is None:
                    values.add(where, source, None, "missing_child_id", "record")
            elif kind == "upn":
                is_reason = raw is not None and _UPN_REASON.match(raw.strip().upper())
                row["upn_raw"] = raw
                row[name] = None if is_reason else values.upn(raw, where, source)
        return row


def read_ssda903_table(
    path: Path | str,
    stem: str | None = None,
    collection_year: int | None = None,
    sink: Sink | None = None,
) -> ReadResult:
    """One SSDA903 CSV table (``header.csv``, ``episodes.csv``, ``reviews.csv``...)."""
    path = Path(path)
    spec = TABLES[(stem or path.stem).lower()]
    result = ReadResult(path, f"ssda903_{spec.stem}", None, sink=sink)
    values = Collector(path, result.findings)
    sibling = path.with_name("episodes.csv")
    year = _year(
        path,
        collection_year,
        values,
        lambda: _latest_decom_csv(sibling) if sibling.exists() else None,
    )
    result.period = str(year)
    rows = result.rows(spec.canonical)
    normalise = _Values(values)
    for row in CsvSource(path, spec.required).rows():
        lowered = {name.upper(): value for name, value in row.values.items()}
        rows.append(normalise.row(spec, lowered.get, row.location, year))
        result.maybe_flush()
    result.flush()
    return result


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


def _leaves(element: etree._Element) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for child in element:
        if isinstance(child.tag, str) and not len(child):
            text = child.text.strip() if child.text else ""
            found.setdefault(child.tag, text or None)
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
        normalise = _Values(values)
        with path.open("rb") as handle:
            children = etree.iterparse(handle, events=("end",), tag="CHILD")
            for count, (_event, child) in enumerate(children, start=1):
                result.maybe_flush(_xml_child(child, count, year, normalise, result))
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
        for _event, element in etree.iterparse(handle, events=("end",), tag="DECOM"):
            parsed = parse_date(element.text or "", "dmy")
            if parsed is not None and (latest is None or parsed > latest):
                latest = parsed
            element.clear()
    return latest


def _xml_child(
    child: etree._Element, index: int, year: int, normalise: _Values, result: ReadResult
) -> int:
    header = next((e for e in child if e.tag == "HEADER"), None)
    fields = _leaves(header) if header is not None else {}
    la_child = fields.get("CHILDID")
    base = {"CHILD": la_child, "DOB": fields.get("DOB"), "SEX": fields.get("SEX")}
    where = f"CHILD[{index}]/HEADER (line {(header if header is not None else child).sourceline})"
    added = 0

    def emit(stem: str, got: dict[str, str | None], at: str) -> None:
        nonlocal added
        merged = base | got
        spec = TABLES[stem]
        result.rows(spec.canonical).append(normalise.row(spec, merged.get, at, year))
        added += 1

    emit("header", fields | {"CHILD": la_child}, where)
    for stem, keys in _XML_IN_HEADER.items():
        if any(fields.get(key) is not None for key in keys):
            emit(stem, fields, where)
    if header is not None:
        for stem, group in _XML_GROUPS.items():
            for n, element in enumerate((e for e in header if e.tag == group), start=1):
                got = _leaves(element)
                if any(v is not None for v in got.values()):
                    emit(
                        stem, got, f"CHILD[{index}]/HEADER/{group}[{n}] (line {element.sourceline})"
                    )
    for n, episode in enumerate((e for e in child if e.tag == "EPISODE"), start=1):
        got = _leaves(episode)
        got.setdefault("PLACE", got.get("PL"))  # the XML calls PLACE "PL"
        emit("episodes", got, f"CHILD[{index}]/EPISODE[{n}] (line {episode.sourceline})")
    return added
