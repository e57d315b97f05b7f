"""Bad input: every fault gives a clear, located message, fails the file, and loads nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.formats.detect import read_file
from cwsw.formats.errors import FormatError
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest
from cwsw.warehouse.schema import TABLES, ensure_schema

PERSON_HEADER = "la_child_id,forename,surname,date_of_birth,sex,upn,postcode\n"
PERSON_ROW = "1001,Amy,Smith,2012-03-04,F,,AB1 2CD\n"
CIN_START = (
    "<Message><Header><CollectionDetails><Year>2024</Year></CollectionDetails></Header><Children>"
)


def _child(la_child_id: str, line_break: str = "\n") -> str:
    return (
        f"<Child>{line_break}<ChildIdentifiers><LAchildID>{la_child_id}</LAchildID>"
        "<PersonBirthDate>2015-01-02</PersonBirthDate></ChildIdentifiers>"
        "<CINdetails><CINreferralDate>2023-05-01</CINreferralDate></CINdetails></Child>\n"
    )


@pytest.fixture
def warehouse(fixtures: Path) -> Iterator[Warehouse]:
    with Warehouse.open(":memory:") as opened:
        ensure_schema(opened)
        ingest(opened, [fixtures / "cin-census/BAR_cin_2022.xml"])
        yield opened


def _state(warehouse: Warehouse) -> dict[str, object]:
    """Everything a load could change: every table's rows, in a stable order."""
    return {
        table: sorted(map(repr, warehouse.execute(f'SELECT * EXCLUDE (load_id) FROM "{table}"')))
        if table != "loads"
        else sorted(map(repr, warehouse.execute("SELECT sha256, superseded_by FROM loads")))
        for table in TABLES
    }


BAD_FILES = {
    # name: (file name, bytes, what the message says, line)
    "truncated-xml": (
        "cin_census_2024.xml",
        (CIN_START + _child("1") + _child("2")).encode()[:-40],
        "not well-formed XML",
        4,  # the second child, cut short
    ),
    "wrong-root": (
        "cin_census_2024.xml",
        b"<Return><Child/></Return>",
        "root element is <Return>",
        1,
    ),
    "xml-wrong-encoding": (
        "cin_census_2024.xml",
        (CIN_START + _child("1") + _child("Zo\u00eb")).encode("latin-1") + b"</Children></Message>",
        "not well-formed XML",
        4,  # the second child's LAchildID, in Latin-1 under a UTF-8 reading
    ),
    "csv-wrong-encoding": (
        "person_extract.csv",
        (PERSON_HEADER + PERSON_ROW + "1002,Zo\u00eb,Smith,2012-03-04,F,,AB1 2CD\n").encode(
            "latin-1"
        ),
        "not UTF-8 text",
        3,
    ),
    "empty-csv": ("person_extract.csv", b"", "the file is empty", None),
    "empty-xml": ("cin_census_2024.xml", b"", "not well-formed XML", None),
    "csv-missing-column": (
        "person_extract.csv",
        (PERSON_HEADER.replace(",postcode", "") + "1001,Amy,Smith,2012-03-04,F,\n").encode(),
        "missing required column(s): postcode",
        1,
    ),
    "csv-renamed-column": (
        "person_extract.csv",
        (PERSON_HEADER.replace("date_of_birth", "dob") + PERSON_ROW).encode(),
        "missing required column(s): date_of_birth",
        1,
    ),
    "csv-extra-fields-in-a-row": (
        "person_extract.csv",
        (PERSON_HEADER + PERSON_ROW + PERSON_ROW.replace("\n", ",surplus\n")).encode(),
        "8 fields where the header has 7",
        3,
    ),
    "no-year": (
        "cin_census_2024.xml",
        (
            CIN_START.replace("<Year>2024</Year>", "<Year>24</Year>") + "</Children></Message>"
        ).encode(),
        "no valid Header/CollectionDetails/Year (found '24')",
        1,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_fails_with_a_located_message_and_loads_nothing(
    warehouse: Warehouse, tmp_path: Path, case: str
) -> None:
    name, body, message, line = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(body)
    before = _state(warehouse)
    (result,) = ingest(warehouse, [path])
    assert result.status == "failed"
    assert result.message is not None
    assert str(path) in result.message and message in result.message
    if line is not None:
        assert f"line {line}:" in result.message
    assert result.findings.counts == {"unreadable_file": 1}
    assert result.findings.severity == {"unreadable_file": "fatal"}
    assert _state(warehouse) == before


def test_extra_columns_are_not_an_error(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "person_extract.csv"
    path.write_text(PERSON_HEADER.replace("\n", ",nhs_number\n") + PERSON_ROW.replace("\n", ",x\n"))
    (result,) = ingest(warehouse, [path])
    assert (result.status, result.rows) == ("loaded", {"person": 1})


def test_invalid_dates_and_codes_are_kept_raw_and_stored_as_findings(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "person_extract.csv"
    path.write_text(PERSON_HEADER + "1001,Amy,Smith,2012-02-30,Q,A1234,AB1 2CD\n")
    (result,) = ingest(warehouse, [path])
    assert result.status == "loaded"
    (row,) = warehouse.execute("SELECT birth_date, sex, upn, upn_raw FROM person")
    assert row == (None, None, None, "A1234")
    stored = warehouse.execute(
        "SELECT rule, field, location, value, severity FROM load_finding WHERE load_id = ? "
        "ORDER BY field",
        [result.load_id],
    )
    assert stored == [
        ("invalid_date", "date_of_birth", "row 2", "2012-02-30", "value"),
        ("invalid_code", "sex", "row 2", "Q", "value"),
        ("invalid_upn", "upn", "row 2", "A1234", "value"),
    ]


def test_duplicate_children_are_kept_with_a_record_level_finding(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "cin_census_2024.xml"
    path.write_text(
        CIN_START + _child("77") + _child("78") + _child(" 77 ") + "</Children></Message>"
    )
    (result,) = ingest(warehouse, [path])
    assert result.status == "loaded" and result.rows["cin_child"] == 3
    (duplicate,) = result.findings.examples("duplicate_child_id")
    assert (duplicate.severity, duplicate.field, duplicate.value) == ("record", "LAchildID", "77")
    assert duplicate.location == "Child[3]/ChildIdentifiers (line 6)"


def test_an_archive_is_refused_not_opened(warehouse: Warehouse, tmp_path: Path) -> None:
    """Archives are not accepted, so a zip bomb is never expanded."""
    bomb = tmp_path / "returns.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cin_census_2024.xml", b"\0" * 10_000_000)
    assert bomb.stat().st_size < 100_000
    before = _state(warehouse)
    (named,) = ingest(warehouse, [bomb])
    assert named.status == "failed" and "not a file cwsw reads" in (named.message or "")
    (in_folder,) = ingest(warehouse, [tmp_path])
    assert in_folder.status == "skipped"
    assert _state(warehouse) == before


def test_cli_exits_non_zero_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path / "home"))
    path = tmp_path / "person_extract.csv"
    path.write_text(PERSON_HEADER.replace("surname", "last_name") + PERSON_ROW)
    result = CliRunner().invoke(app, ["ingest", str(path)])
    assert result.exit_code == 1
    assert f"{path}, line 1: missing required column(s): surname" in result.output.replace("\n", "")


_SIZE = 200 * 1024 * 1024
_MEASURE = """
import resource, sys
from pathlib import Path
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest
from cwsw.warehouse.schema import ensure_schema
with Warehouse.open(sys.argv[2]) as warehouse:
    ensure_schema(warehouse)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (result,) = ingest(warehouse, [Path(sys.argv[1])])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = warehouse.execute("SELECT count(*) FROM loads")[0][0]
print(result.status, before, after, rows, result.message, sep="\\t")
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cin_census_2024.xml", "person_extract.csv", "ssda903.xml"])
def test_200_mb_of_random_bytes_is_refused_in_bounded_memory(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with path.open("wb") as handle:  # written in chunks: the test holds no 200 MB either
        for _ in range(_SIZE // (1 << 22)):
            handle.write(__import__("os").urandom(1 << 22))
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status, before, after, loads, message = done.stdout.strip().split("\t")
    assert (status, loads) == ("failed", "0")
    assert str(path) in message
    # ru_maxrss is in KiB on Linux: the peak grew by far less than the file's 200 MB.
    assert int(after) - int(before) < 40 * 1024, (before, after)


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at + cut :]
    return data


_EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**6),
        st.integers(min_value=0, max_value=30),
        st.binary(max_size=12)
        | st.sampled_from([b"<", b">", b"</", b"<Child>", b",", b'"', b"\n", b"\xff\xfe", b"&"]),
    ),
    min_size=1,
    max_size=6,
)
_SEEDS = {
    "cin_census_2022.xml": "cin-census/BAR_cin_2022.xml",
    "fake_903.xml": "ssda903/fake_903.xml",
    "person_extract.csv": None,
    "2025_spring_pupilonroll.csv": None,
}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(sorted(_SEEDS)), edits=_EDITS)
def test_fuzzed_files_raise_only_format_errors(
    fixtures: Path, tmp_path_factory: pytest.TempPathFactory, name: str, edits: list
) -> None:
    source = _SEEDS[name]
    if source is not None:
        seed = (fixtures / source).read_bytes()[:20_000]
    elif name == "person_extract.csv":
        seed = (PERSON_HEADER + PERSON_ROW * 3).encode()
    else:
        head = (fixtures / "school-census/samples" / name).read_bytes()
        seed = b"\n".join(head.split(b"\n")[:4])
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / name
    path.write_bytes(_mutate(seed, edits))
    try:
        result = read_file(path)
    except FormatError as error:
        assert str(path) in str(error)
        return
    # A file that reads gives rows only of canonical tables, each finding located.
    assert set(result.tables) <= set(TABLES)
    assert all(f.location for f in result.findings)


def test_check_json_lists_format_year_tables_and_findings_without_values(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path / "home"))
    bad = tmp_path / "in" / "person_extract.csv"
    bad.parent.mkdir()
    bad.write_text(PERSON_HEADER + "1001,Amy,Smith,2012-02-30,F,A850728973744,AB1 2CD\n")
    report = tmp_path / "dq.html"
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--json",
            "--report",
            str(report),
            str(fixtures / "cin-census/fake_CIN_data.xml"),
            str(bad),
        ],
    )
    assert result.exit_code == 0, result.output
    cin, person = json.loads(result.stdout)
    assert (cin["format"], cin["period"], cin["status"]) == ("cin_census", "2022", "loaded")
    assert cin["rows"]["cin_child"] == 332 and cin["rows"]["cin_episode"] == 402
    assert cin["rows_read"] == cin["rows_kept"] == sum(cin["rows"].values())
    assert person["findings_by_rule"] == {"invalid_date": 1, "invalid_upn": 1}
    (upn,) = [f for f in person["findings"] if f["rule"] == "invalid_upn"]
    assert upn == {
        "rule": "invalid_upn",
        "severity": "value",
        "count": 1,
        "examples": [{"location": "row 2", "field": "upn"}],
    }
    page = report.read_text()
    assert "invalid_upn" in page and "row 2" in page
    # No values in the JSON or the report: not the UPN, not the date of birth.
    for text in (result.stdout, page):
        assert "A850728973744" not in text and "2012-02-30" not in text
