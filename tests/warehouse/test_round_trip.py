"""Round trip: what the synthetic generator wrote is what the warehouse holds, table by table.

The files are read back here independently (csv and lxml, not cwsw.formats) and compared with
the warehouse rows of the load that came from each file.
"""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cwsw.synth import generate
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest


def _iso(text: str, style: str) -> str | None:
    if not text:
        return None
    if style == "dmy":
        return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
    if style == "census":
        return datetime.strptime(text[:11], "%Y-%b-%d").date().isoformat()
    return date.fromisoformat(text).isoformat()


def _int(text: str) -> int | None:
    return int(float(text)) if text else None


def _text(text: str) -> str | None:
    return text.strip() or None


# (source column, canonical column, converter)
_CsvSpec = list[tuple[str, str, Callable[[str], object]]]
# (child path, canonical column)
_XmlSpec = list[tuple[str, str]]

# canonical table → [(source column, canonical column, converter)]
_CSV_COLUMNS: dict[str, _CsvSpec] = {
    "person": [
        ("la_child_id", "la_child_id", _text),
        ("forename", "forename", _text),
        ("surname", "surname", _text),
        ("date_of_birth", "birth_date", lambda t: _iso(t, "iso")),
        ("upn", "upn_raw", _text),
    ],
    "establishment": [
        ("laestab", "laestab", _text),
        ("urn", "urn", _text),
        ("phase", "phase", _text),
    ],
    "cla_child": [
        ("CHILD", "la_child_id", _text),
        ("UPN", "upn_raw", _text),
        ("DOB", "birth_date", lambda t: _iso(t, "dmy")),
        ("ETHNIC", "ethnicity", _text),
    ],
    "cla_episode": [
        ("CHILD", "la_child_id", _text),
        ("DECOM", "start_date", lambda t: _iso(t, "dmy")),
        ("DEC", "end_date", lambda t: _iso(t, "dmy")),
        ("LS", "legal_status", _text),
        ("PLACE", "placement", _text),
        ("REC", "reason_end", _text),
    ],
    "pupil_enrolment": [
        ("NativeId", "laestab", _text),
        ("upn", "upn_raw", _text),
        ("dob", "birth_date", lambda t: _iso(t, "census")),
        ("termlysessionspossible", "sessions_possible", _int),
    ],
    "pupil_absence": [
        ("NativeId", "laestab", _text),
        ("attendancereason", "attendance_code", _text),
        ("sessions", "sessions", _int),
    ],
    "pupil_exclusion": [
        ("NativeId", "laestab", _text),
        ("startdate", "start_date", lambda t: _iso(t, "census")),
        ("sessions", "sessions", _int),
    ],
    "pupil_fsm": [
        ("NativeId", "laestab", _text),
        ("fsmstartdate", "start_date", lambda t: _iso(t, "census")),
        ("fsmenddate", "end_date", lambda t: _iso(t, "census")),
    ],
    "pupil_sen_need": [("NativeId", "laestab", _text), ("sentype", "sen_type", _text)],
    "ks2_result": [("upn", "upn_raw", _text), ("laestab", "laestab", _text)],
    "ks4_result": [("upn", "upn_raw", _text), ("att8", "att8", lambda t: float(t) if t else None)],
}

# canonical table → (element, its key path from the element, [(child path, canonical column)])
_XML_COLUMNS: dict[str, tuple[str, _XmlSpec]] = {
    "cin_child": (
        "//Child",
        [
            ("ChildIdentifiers/LAchildID", "la_child_id"),
            ("ChildIdentifiers/UPN", "upn_raw"),
            ("ChildIdentifiers/PersonBirthDate", "birth_date"),
            ("ChildCharacteristics/Ethnicity", "ethnicity"),
        ],
    ),
    "cin_episode": (
        "//CINdetails",
        [
            ("../ChildIdentifiers/LAchildID", "la_child_id"),
            ("CINreferralDate", "referral_date"),
            ("CINclosureDate", "closure_date"),
            ("PrimaryNeedCode", "primary_need"),
        ],
    ),
    "cin_assessment": (
        "//Assessments",
        [
            ("../../ChildIdentifiers/LAchildID", "la_child_id"),
            ("AssessmentActualStartDate", "start_date"),
        ],
    ),
    "cin_plan": (
        "//CINPlanDates",
        [("../../ChildIdentifiers/LAchildID", "la_child_id"), ("CINPlanStartDate", "start_date")],
    ),
    "cin_s47": (
        "//Section47",
        [("../../ChildIdentifiers/LAchildID", "la_child_id"), ("S47ActualStartDate", "start_date")],
    ),
    "cp_plan": (
        "//ChildProtectionPlans",
        [("../../ChildIdentifiers/LAchildID", "la_child_id"), ("CPPstartDate", "start_date")],
    ),
}


def _cell(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _held(warehouse: Warehouse, table: str, columns: list[str], load_id: int) -> Counter:
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = warehouse.execute(f'SELECT {quoted} FROM "{table}" WHERE load_id = ?', [load_id])
    return Counter(tuple(_cell(v) for v in row) for row in rows)


def _written_csv(path: Path, spec: _CsvSpec) -> Counter:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return Counter(
            tuple(convert(row[source] or "") for source, _, convert in spec)
            for row in csv.DictReader(handle)
        )


def _written_xml(path: Path, element: str, spec: _XmlSpec) -> Counter:
    tree = etree.parse(str(path))
    found: Counter[tuple[str | None, ...]] = Counter()
    # An element path selects elements; the stub types xpath() as any XPath result.
    for item in cast(list[etree._Element], tree.xpath(element)):
        values: list[str | None] = []
        for child_path, _ in spec:
            hit = item.find(child_path)
            values.append(_text(hit.text or "") if hit is not None else None)
        found[tuple(values)] += 1
    return found


def _check_folder(folder: Path) -> set[str]:
    compared: set[str] = set()
    with Warehouse.open(":memory:") as warehouse:
        results = ingest(warehouse, [folder])
        loaded = {r.sha256 for r in results if r.status == "loaded"}
        for result in results:
            if result.status == "already loaded":
                # Byte-identical to a file loaded before it (e.g. two header-only tables).
                assert result.sha256 in loaded
                continue
            assert result.status == "loaded" and result.load_id is not None, result.message
            if result.file.suffix == ".xml":
                for table, (element, xml_spec) in _XML_COLUMNS.items():
                    columns = [name for _, name in xml_spec]
                    assert _held(warehouse, table, columns, result.load_id) == _written_xml(
                        result.file, element, xml_spec
                    ), (result.file.name, table)
                    compared.add(table)
                continue
            (table,) = [t for t in result.rows]
            spec = _CSV_COLUMNS[table]
            columns = [name for _, name, _ in spec]
            assert _held(warehouse, table, columns, result.load_id) == _written_csv(
                result.file, spec
            ), (result.file.name, table)
            compared.add(table)
    return compared


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1), pupils=st.integers(200, 400))
def test_what_synth_wrote_is_what_the_warehouse_holds(seed: int, pupils: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory) / "la"
        generate(folder, seed=seed, pupils=pupils, faults="none")
        compared = _check_folder(folder)
    # Every table the generator writes was compared.
    assert compared >= {"cin_child", "cin_episode", "cla_child", "cla_episode", "person"}
    assert compared >= {"pupil_enrolment", "pupil_absence", "pupil_fsm", "ks2_result"}
