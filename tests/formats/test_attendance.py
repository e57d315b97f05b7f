"""Daily / weekly attendance (data contracts §2.5): reading, detection, loading, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.formats import common
from cwsw.formats.attendance import read_attendance
from cwsw.formats.common import ReadResult
from cwsw.formats.detect import detect, read_file
from cwsw.formats.errors import FormatError
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import check, ingest
from cwsw.warehouse.schema import TABLES, ensure_schema
from cwsw.warehouse.staging import Staging

# Valid UPNs worked out by hand (docs/domain.md §3): for body 201123420001 the weighted sum is
# 2·2 + 0·3 + 1·4 + 1·5 + 2·6 + 3·7 + 4·8 + 2·9 + 0·10 + 0·11 + 0·12 + 1·13 = 109, and 109 mod 23
# = 17 is U in ABCDEFGHJKLMNPQRTUVWXYZ; body ...0002 sums to 122, mod 23 = 7, H.
UPN = "U201123420001"
UPN2 = "H201123420002"
BAD_UPN = "A201123420002"  # the check letter should be H
HEADER = "upn,laestab,date,session,code,cin,cp,cla,sen,fsm\n"

# docs/domain.md §3, written out here rather than taken from the code under test.
DOMAIN_CODES = {
    **dict.fromkeys(["/", "\\", "L"], "present"),
    # approved educational activity counts as present
    **dict.fromkeys(["K", "V", "P", "W", "B"], "present"),
    **dict.fromkeys(["C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T"], "authorised"),
    **dict.fromkeys(["H", "J"], "authorised"),  # legacy
    **dict.fromkeys(["G", "N", "O", "U"], "unauthorised"),
    **dict.fromkeys(
        ["D", "Q", "X", "Z", "#", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"], "not_counted"
    ),
    "Y": "not_counted",  # legacy
}


def _write(folder: Path, name: str, text: str, bom: bool = True) -> Path:
    path = folder / name
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def _rows(result: ReadResult) -> list[dict[str, object]]:
    return result.tables["pupil_attendance_session"]


def _findings(result: ReadResult) -> set[tuple[str, str, str | None, str, str]]:
    return {(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings}


def test_known_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "attendance_2025-w03.csv",
        HEADER + f" {UPN.lower()} ,2012001,2025-01-13,AM,/,1,0,0,K,1\n"
        f"{UPN},2012001,2025-01-13,pm,c1,1,0,0,K,1\n"
        f"{UPN2},2012001.0,2025-01-17,AM,N,0,1,1,E,0\n",
    )
    result = read_attendance(path)
    assert (result.format, result.dataset, result.period) == (
        "attendance",
        "attendance",
        "2025-01-13/2025-01-17",
    )
    # What was corrected to read them is reported as written (the contract's case-insensitive
    # session and code, ``pm`` and ``c1``, are no fault).
    assert _findings(result) == {
        ("row 2", "upn", f" {UPN.lower()} ", "normalised_white_space", "information"),
        ("row 2", "upn", UPN.lower(), "normalised_upn", "information"),
        ("row 4", "laestab", "2012001.0", "normalised_id", "information"),
    }
    first, second, third = _rows(result)
    assert first == {
        "upn": UPN,
        "upn_raw": UPN.lower(),
        "laestab": "2012001",
        "urn": None,
        "session_date": date(2025, 1, 13),
        "session": "AM",
        "attendance_code": "/",
        "absence_type": "present",
        "cin": True,
        "cp": False,
        "cla": False,
        "fsm": True,
        "sen_provision": "K",
        "record": "row 2",
    }
    assert (second["session"], second["attendance_code"], second["absence_type"]) == (
        "PM",
        "C1",
        "authorised",
    )
    # A spreadsheet's 2012001.0 is the school 2012001.
    assert (third["upn"], third["laestab"], third["absence_type"]) == (
        UPN2,
        "2012001",
        "unauthorised",
    )
    assert (third["cin"], third["cp"], third["cla"], third["fsm"]) == (False, True, True, False)
    assert third["sen_provision"] == "E" and third["record"] == "row 4"


def test_every_domain_code_is_classified_as_domain_md_says(tmp_path: Path) -> None:
    # Before 19 August 2024, so the legacy codes are still current.
    lines = [f"{UPN},2012001,2024-03-04,AM,{code}\n" for code in DOMAIN_CODES]
    path = _write(
        tmp_path, "attendance_codes.csv", "upn,laestab,date,session,code\n" + "".join(lines)
    )
    result = read_attendance(path)
    assert result.findings == []
    got = {row["attendance_code"]: row["absence_type"] for row in _rows(result)}
    assert got == DOMAIN_CODES
    # Lower case is the same code.
    lower = _write(
        tmp_path,
        "attendance_lower.csv",
        f"upn,urn,date,session,code\n{UPN},100001,2024-03-04,PM,j1\n",
    )
    (row,) = _rows(read_attendance(lower))
    assert (row["attendance_code"], row["absence_type"], row["urn"], row["laestab"]) == (
        "J1",
        "authorised",
        "100001",
        None,
    )


def test_flags_school_and_legacy_column_names(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "attendance.csv",
        "UPN,URN,LAESTAB,Date,Session,Code,CIN,CP,LAC,SEN,FSM\n"
        f"{UPN},100001,2012001,2025-01-13,AM,/,true,false,Y,n,yes\n"
        f"{UPN},100001,2012001,2025-01-13,PM,/,FALSE,TRUE,N,e,no\n"
        f"{UPN},100001,2012001,2025-01-14,AM,/,1.0,0.0,y,,\n",
    )
    result = read_attendance(path)
    # true/false and Y/N are this feed's own forms; a spreadsheet's 1.0 is read with a finding.
    assert _findings(result) == {
        ("row 4", "cin", "1.0", "normalised_flag", "information"),
        ("row 4", "cp", "0.0", "normalised_flag", "information"),
    }
    flags = [
        (r["urn"], r["laestab"], r["cin"], r["cp"], r["cla"], r["sen_provision"], r["fsm"])
        for r in _rows(result)
    ]
    assert flags == [
        ("100001", "2012001", True, False, True, "N", True),
        ("100001", "2012001", False, True, False, "E", False),
        ("100001", "2012001", True, False, True, None, None),
    ]


def test_value_problems_are_located_findings_and_the_row_is_kept(tmp_path: Path) -> None:
    bad_check = "A" + UPN[1:]  # the check letter should be U
    path = _write(
        tmp_path,
        "attendance_bad.csv",
        HEADER + f"{bad_check},2012001,2025-02-30,XX,ZZ,2,,,Q,maybe\n"
        f",,13/01/2025,,,,,,,\n"
        f"{UPN},2012001,2025-01-13,AM,H,,,,,\n",
    )
    result = read_attendance(path)
    assert _findings(result) == {
        ("row 2", "upn", bad_check, "invalid_upn", "value"),
        ("row 2", "date", "2025-02-30", "invalid_date", "value"),
        ("row 2", "session", "XX", "invalid_code", "value"),
        ("row 2", "code", "ZZ", "unknown_attendance_code", "value"),
        ("row 2", "cin", "2", "invalid_flag", "value"),
        ("row 2", "sen", "Q", "invalid_code", "value"),
        ("row 2", "fsm", "maybe", "invalid_flag", "value"),
        ("row 3", "upn", None, "missing_upn", "record"),
        ("row 3", "laestab", None, "missing_school", "record"),
        ("row 3", "date", "13/01/2025", "invalid_date", "value"),  # ISO only
        ("row 3", "session", None, "missing_session", "record"),
        ("row 3", "code", None, "missing_attendance_code", "record"),
        # H was withdrawn by the 2024 regulations: classified, but flagged after 19 Aug 2024.
        ("row 4", "code", "H", "legacy_attendance_code", "value"),
    }
    first, second, third = _rows(result)
    assert (first["upn"], first["upn_raw"]) == (None, bad_check)
    assert (first["session_date"], first["session"], first["cin"], first["fsm"]) == (None,) * 4
    assert (first["sen_provision"], first["record"]) == (None, "row 2")
    # An unknown code is kept as given, with no classification.
    assert (first["attendance_code"], first["absence_type"]) == ("ZZ", None)
    assert second["upn"] is None and second["upn_raw"] is None and second["record"] == "row 3"
    assert (third["attendance_code"], third["absence_type"]) == ("H", "authorised")
    assert result.period == "2025-01-13/2025-01-13"  # from the valid dates only


def test_a_file_spanning_two_academic_years_is_flagged(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "attendance_span.csv",
        "upn,laestab,date,session,code\n"
        f"{UPN},2012001,2025-07-18,AM,/\n"
        f"{UPN},2012001,2025-09-03,AM,/\n",
    )
    result = read_attendance(path)
    assert result.period == "2025-07-18/2025-09-03"
    assert _findings(result) == {
        ("file", "date", "2025-07-18/2025-09-03", "period_spans_academic_years", "record")
    }


def test_header_only_has_no_period(tmp_path: Path) -> None:
    result = read_attendance(_write(tmp_path, "attendance_empty.csv", HEADER))
    assert result.period is None and result.counts == {"pupil_attendance_session": 0}


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("laestab,date,session,code", "upn"),
        ("upn,date,session,code", "laestab or urn"),
        ("upn,laestab,session,code", "date"),
        ("upn,laestab,date,code", "session"),
        ("upn,laestab,date,session", "code"),
        ("upn,laestab,day,session,mark", "date, code"),
    ],
)
def test_a_missing_required_column_is_fatal_and_named(
    tmp_path: Path, header: str, missing: str
) -> None:
    path = _write(
        tmp_path, "attendance_x.csv", header + "\n" + ",".join(["x"] * header.count(",")) + ",x\n"
    )
    with pytest.raises(FormatError) as raised:
        read_attendance(path)
    assert str(raised.value) == f"{path}, line 1: missing required column(s): {missing}"


def test_streams_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "BATCH_ROWS", 2)
    lines = [
        f"{UPN},2012001,2025-01-{day:02},{s},/\n" for day in (13, 14, 15) for s in ("AM", "PM")
    ]
    path = _write(
        tmp_path, "attendance_w.csv", "upn,laestab,date,session,code\n" + "".join(lines[:5])
    )
    batches: list[int] = []
    result = read_attendance(path, sink=lambda batch: batches.append(len(_rows(batch))))
    assert batches == [2, 2, 1]  # never more than a batch held
    assert result.counts == {"pupil_attendance_session": 5}
    assert result.period == "2025-01-13/2025-01-15"


@pytest.mark.parametrize(
    ("name", "header", "found"),
    [
        ("attendance_2025-01-13.csv", "x\n", True),
        ("Attendance.CSV", "x\n", True),
        ("daily_sessions.csv", "UPN,URN,Date,Session,Code\n", True),  # by its columns
        ("attendance_2025.txt", "upn,urn,date,session,code\n", False),
        ("attendances.csv", "upn,urn\n", False),
    ],
)
def test_detection(tmp_path: Path, name: str, header: str, found: bool) -> None:
    detected = detect(_write(tmp_path, name, header))
    assert (detected is not None and detected.format == "attendance") is found


# --- loading -------------------------------------------------------------------------------

WEEK = (
    HEADER + f"{UPN},2012001,2025-01-13,AM,/,1,0,0,N,1\n"
    f"{UPN},2012001,2025-01-13,PM,U,1,0,0,N,1\n"
    f"{UPN2},2012002,2025-01-17,AM,C,0,0,1,E,0\n"
    f"{BAD_UPN},2012002,2025-01-17,PM,ZZ,0,0,1,E,0\n"
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse.open(tmp_path / "warehouse.duckdb") as opened:
        ensure_schema(opened)
        yield opened


def _state(warehouse: Warehouse) -> dict[str, list[str]]:
    return {
        table: sorted(map(repr, warehouse.execute(f'SELECT * EXCLUDE (loaded_at) FROM "{table}"')))
        if table == "loads"
        else sorted(map(repr, warehouse.execute(f'SELECT * FROM "{table}"')))
        for table in TABLES
    }


def test_ingest_counts_and_lineage(warehouse: Warehouse, tmp_path: Path) -> None:
    path = _write(tmp_path, "attendance_2025-w03.csv", WEEK)
    (result,) = ingest(warehouse, [path])
    assert (result.status, result.format, result.period, result.dataset) == (
        "loaded",
        "attendance",
        "2025-01-13/2025-01-17",
        "attendance",
    )
    assert result.rows == {"pupil_attendance_session": 4}
    ((load_id, sha256, name, fmt, period, rows, dataset, superseded),) = warehouse.execute(
        "SELECT load_id, sha256, file_name, format, period, rows, dataset, superseded_by FROM loads"
    )
    assert (load_id, sha256, name, fmt, period, rows, dataset, superseded) == (
        result.load_id,
        result.sha256,
        "attendance_2025-w03.csv",
        "attendance",
        "2025-01-13/2025-01-17",
        4,
        "attendance",
        None,
    )
    assert warehouse.execute("SELECT DISTINCT load_id FROM pupil_attendance_session") == [
        (load_id,)
    ]
    sessions = warehouse.execute(
        "SELECT record, upn, upn_raw, laestab, session_date, session, attendance_code, "
        "absence_type FROM pupil_attendance_session ORDER BY record"
    )
    assert sessions == [
        ("row 2", UPN, UPN, "2012001", date(2025, 1, 13), "AM", "/", "present"),
        ("row 3", UPN, UPN, "2012001", date(2025, 1, 13), "PM", "U", "unauthorised"),
        ("row 4", UPN2, UPN2, "2012002", date(2025, 1, 17), "AM", "C", "authorised"),
        ("row 5", None, BAD_UPN, "2012002", date(2025, 1, 17), "PM", "ZZ", None),
    ]
    flags = warehouse.execute(
        "SELECT record, cin, cp, cla, sen_provision, fsm FROM pupil_attendance_session "
        "ORDER BY record"
    )
    assert flags == [
        ("row 2", True, False, False, "N", True),
        ("row 3", True, False, False, "N", True),
        ("row 4", False, False, True, "E", False),
        ("row 5", False, False, True, "E", False),
    ]
    # Each finding points at a stored row through its location.
    located = warehouse.execute(
        "SELECT f.rule, f.field, f.value, s.upn_raw FROM load_finding f "
        "JOIN pupil_attendance_session s ON s.load_id = f.load_id AND s.record = f.location "
        "ORDER BY f.rule"
    )
    assert located == [
        ("invalid_upn", "upn", BAD_UPN, BAD_UPN),
        ("unknown_attendance_code", "code", "ZZ", BAD_UPN),
    ]


def test_loading_twice_changes_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    path = _write(tmp_path, "attendance_2025-w03.csv", WEEK)
    (first,) = ingest(warehouse, [path])
    before = _state(warehouse)
    (again,) = ingest(warehouse, [path])
    # The same content under another name is the same file.
    (renamed,) = ingest(warehouse, [_write(tmp_path, "attendance_copy.csv", WEEK)])
    assert first.status == "loaded"
    assert again.status == renamed.status == "already loaded"
    assert _state(warehouse) == before


def test_a_newer_file_for_the_same_dates_supersedes(warehouse: Warehouse, tmp_path: Path) -> None:
    old_folder, new_folder = tmp_path / "old", tmp_path / "new"
    old_folder.mkdir()
    new_folder.mkdir()
    (old,) = ingest(warehouse, [_write(old_folder, "attendance_2025-w03.csv", WEEK)])
    (next_week,) = ingest(
        warehouse,
        [
            _write(
                tmp_path,
                "attendance_2025-w04.csv",
                HEADER + f"{UPN},2012001,2025-01-20,AM,/,1,0,0,N,1\n",
            )
        ],
    )
    corrected = WEEK.replace("2025-01-13,PM,U", "2025-01-13,PM,M")
    (new,) = ingest(warehouse, [_write(new_folder, "attendance_2025-w03.csv", corrected)])
    assert next_week.superseded == [] and new.superseded == [old.load_id]
    assert new.message == (
        f"supersedes earlier load(s) {old.load_id} of attendance 2025-01-13/2025-01-17"
    )
    counts = warehouse.execute(
        "SELECT load_id, count(*) FROM pupil_attendance_session GROUP BY load_id ORDER BY load_id"
    )
    assert counts == [(next_week.load_id, 1), (new.load_id, 4)]
    assert warehouse.execute(
        "SELECT attendance_code, absence_type FROM pupil_attendance_session WHERE record = 'row 3'"
        " AND load_id = ?",
        [new.load_id],
    ) == [("M", "authorised")]
    assert warehouse.execute(
        "SELECT superseded_by FROM loads WHERE load_id = ?", [old.load_id]
    ) == [(new.load_id,)]


BAD_FILES = {
    # case: (file content, message, line)
    "missing-column": (
        "upn,laestab,date,code\n" + f"{UPN},2012001,2025-01-13,/\n",
        "missing required column(s): session",
        1,
    ),
    # Batches of two have already gone into the transaction when row 7 fails.
    "extra-fields-late": (
        "upn,laestab,date,session,code\n"
        + f"{UPN},2012001,2025-01-13,AM,/\n" * 5
        + f"{UPN},2012001,2025-01-14,AM,/,x\n",
        "6 fields where the header has 5",
        7,
    ),
    "not-utf8-late": (
        "upn,laestab,date,session,code\n"
        + f"{UPN},2012001,2025-01-13,AM,/\n" * 5
        + f"{UPN},2012001,2025-01-14,AM,\udcff\n",
        "not UTF-8 text",
        7,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_fatal_fault_fails_the_file_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.setattr(common, "BATCH_ROWS", 2)
    ingest(warehouse, [_write(tmp_path, "attendance_2025-w04.csv", WEEK.replace("-13", "-20"))])
    before = _state(warehouse)
    text, message, line = BAD_FILES[case]
    path = tmp_path / "attendance_2025-w03.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    inserted: list[int] = []
    staged: list[int] = []
    insert, stage = warehouse.insert_arrow, Staging.add

    def spy(table: str, rows: pa.Table) -> int:
        inserted.append(rows.num_rows)
        return insert(table, rows)

    def stage_spy(self: Staging, table: str, rows: pa.Table) -> None:
        staged.append(rows.num_rows)
        stage(self, table, rows)

    monkeypatch.setattr(warehouse, "insert_arrow", spy)
    monkeypatch.setattr(Staging, "add", stage_spy)
    (result,) = ingest(warehouse, [path])
    assert result.status == "failed"
    assert (result.message or "").startswith(f"{path}, line {line}: {message}")
    assert result.findings.counts == {"unreadable_file": 1}
    # Batches before a late fault were read and staged; none reached the warehouse.
    assert staged == ([] if line == 1 else [2, 2])
    assert inserted == []
    assert _state(warehouse) == before
    (checked,) = check([path])
    assert checked.status == "failed"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10_000),
            st.integers(min_value=0, max_value=20),
            st.binary(max_size=8) | st.sampled_from([b",", b'"', b"\n", b"\r", b"\xff", b"#"]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_fuzzed_files_raise_only_format_errors(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int, bytes]]
) -> None:
    data = WEEK.encode()
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at + cut :]
    path = tmp_path_factory.mktemp("fuzz") / "attendance_fuzz.csv"
    path.write_bytes(data)
    try:
        result = read_file(path)
    except FormatError as error:
        assert str(path) in str(error)
        return
    assert set(result.tables) == {"pupil_attendance_session"}
    assert all(f.location for f in result.findings)


def test_cli_check_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path / "home"))
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder, "attendance_2025-w03.csv", WEEK)
    result = CliRunner().invoke(app, ["ingest", "--check", "--json", str(folder)])
    assert result.exit_code == 0, result.output
    (file,) = json.loads(result.stdout)
    assert (file["format"], file["period"], file["status"]) == (
        "attendance",
        "2025-01-13/2025-01-17",
        "checked",
    )
    assert file["rows"] == {"pupil_attendance_session": 4}
    assert file["findings_by_rule"] == {"invalid_upn": 1, "unknown_attendance_code": 1}
    (upn,) = [f for f in file["findings"] if f["rule"] == "invalid_upn"]
    assert upn["examples"] == [{"location": "row 5", "field": "upn"}]
    assert BAD_UPN not in result.stdout  # no values leave through the CLI
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()
