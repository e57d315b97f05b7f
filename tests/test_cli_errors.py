"""Every command, run as an analyst gets it wrong: steps out of order, a missing or malformed
input, a warehouse another process holds, a read-only or missing one, a bad setting, Ctrl-C.

Each ends in one line on standard error and a known exit code (1 for an error the user can fix,
2 for a bad option, 130 for Ctrl-C), never a traceback, and leaves the warehouse
holding exactly what it held. The busy warehouse and Ctrl-C run real subprocesses (DuckDB's
lock is per process; a signal needs a process); the rest run in this process for speed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cwsw.cli import MIN_PUPILS, _display_names, app
from cwsw.warehouse.connection import Warehouse

runner = CliRunner()
CWSW = Path(sys.executable).with_name("cwsw")
# A local authority large enough that `cwsw link` runs for seconds after it opens the
# warehouse (time to interrupt it), small enough to make in a second or two.
PUPILS = 3_000
INTERRUPTED = "Interrupted: the warehouse is as it was before the load, link or build"


# --- what every case asserts ----------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def assert_one_line(result: Result, code: int, *says: str) -> str:
    """The command ended with ``code`` and one line on standard error saying ``says``."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = _lines(result.stderr)
    assert len(lines) == 1, result.stderr
    for phrase in says:
        assert phrase in lines[0], lines[0]
    return lines[0]


def assert_one_error(result: Result, code: int, *says: str) -> None:
    assert assert_one_line(result, code, *says).startswith("Error: ")


def state(path: Path) -> str | None:
    """A digest of everything the warehouse holds (every table's rows, in a stable order), or
    None when there is no warehouse."""
    if not path.exists():
        return None
    digest = hashlib.sha256()
    with Warehouse.open(path, read_only=True) as warehouse:
        tables = sorted(
            str(row[0])
            for row in warehouse.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_catalog = current_database()"
            )
        )
        for table in tables:
            digest.update(table.encode())
            for row in sorted(map(repr, warehouse.execute(f'SELECT * FROM "{table}"'))):
                digest.update(row.encode())
    return digest.hexdigest()


def cwsw(home: Path, *args: str, **env: str) -> Result:
    environment = {"CWSW_HOME": str(home), "CWSW_WAREHOUSE": None, **env}
    return runner.invoke(app, list(args), env=environment, prog_name="cwsw")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def la(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cwsw.synth import generate

    folder = tmp_path_factory.mktemp("cli_errors") / "la"
    generate(folder, seed=11, pupils=PUPILS, faults="none")
    return folder


@pytest.fixture(scope="module")
def loaded(la: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the local authority's returns loaded (not linked, not built)."""
    from cwsw.warehouse import load

    path = tmp_path_factory.mktemp("loaded") / "warehouse.duckdb"
    with Warehouse.open(path) as warehouse:
        results = load.ingest(warehouse, [la])
    assert not [r for r in results if r.status == "failed"]
    return path


@pytest.fixture
def home(loaded: Path, tmp_path: Path) -> Path:
    """A home of one's own holding a copy of the loaded warehouse."""
    shutil.copy(loaded, tmp_path / "warehouse.duckdb")
    return tmp_path


# --- steps out of order, and a missing warehouse -----------------------------------------------

NEW_HOME = {
    "build": (["build"], "run `cwsw ingest` first"),
    "link": (["link"], "run `cwsw ingest` first"),
    "link review": (["link", "review"], "run `cwsw ingest`, then `cwsw link`"),
    "report": (["report", "--format", "html"], "run `cwsw ingest`, then run `cwsw build`"),
    "export marts": (["export", "marts", "--out", "x"], "run `cwsw ingest` first"),
}


@pytest.mark.parametrize("case", sorted(NEW_HOME))
def test_on_a_new_home_each_step_says_which_to_run_first_and_creates_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, says = NEW_HOME[case]
    monkeypatch.chdir(tmp_path)  # a relative --out would land here
    result = cwsw(tmp_path / "home", *args)
    assert_one_error(result, 1, says)
    assert "no warehouse at" in result.stderr
    assert not (tmp_path / "home").exists()
    assert not (tmp_path / "x").exists()


def test_build_before_link_says_run_link_first_and_changes_nothing(home: Path) -> None:
    before = state(home / "warehouse.duckdb")
    assert_one_error(cwsw(home, "build"), 1, "no linkage has been run: run `cwsw link` first")
    assert state(home / "warehouse.duckdb") == before


@pytest.mark.parametrize(
    "args", [["report", "--format", "html", "--out", "r"], ["export", "marts", "--out", "r"]]
)
def test_report_and_export_before_build_say_run_build_first(
    home: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(home)
    before = state(home / "warehouse.duckdb")
    assert_one_error(cwsw(home, *args), 1, "run `cwsw build` first")
    assert state(home / "warehouse.duckdb") == before
    assert not (home / "r").exists()


def test_link_review_before_link_says_run_link_first(home: Path) -> None:
    before = state(home / "warehouse.duckdb")
    assert_one_error(cwsw(home, "link", "review"), 1, "run `cwsw link` first")
    assert state(home / "warehouse.duckdb") == before


def test_link_with_nothing_loaded_says_run_ingest_first(tmp_path: Path) -> None:
    from cwsw.warehouse.schema import ensure_schema

    with Warehouse.open(tmp_path / "warehouse.duckdb") as warehouse:
        ensure_schema(warehouse)  # a warehouse whose every load failed
    before = state(tmp_path / "warehouse.duckdb")
    assert_one_error(cwsw(tmp_path, "link"), 1, "no social care child", "run `cwsw ingest`")
    assert state(tmp_path / "warehouse.duckdb") == before


# --- missing or malformed input ----------------------------------------------------------------


def test_ingest_a_missing_path_and_no_path(tmp_path: Path) -> None:
    assert_one_error(cwsw(tmp_path, "ingest", str(tmp_path / "nowhere")), 1, "no such file")
    assert_one_error(cwsw(tmp_path, "ingest"), 2, "Missing argument", "`cwsw ingest --help`")
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_an_unknown_option_or_command_is_one_line(tmp_path: Path) -> None:
    assert_one_error(cwsw(tmp_path, "build", "--nonsense"), 2, "--nonsense")
    assert_one_error(cwsw(tmp_path, "export"), 2, "`cwsw export --help`")
    assert_one_error(cwsw(tmp_path, "synth", "--out", "x", "--pupils", "ten"), 2, "'--pupils'")


def test_a_malformed_file_fails_in_one_line_and_loads_nothing(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "in" / "person_extract.csv"
    bad.parent.mkdir()
    bad.write_text("la_child_id,forename\n1,Amy\n", encoding="utf-8")
    before = state(home / "warehouse.duckdb")
    result = cwsw(home, "ingest", str(bad))
    line = assert_one_line(result, 1, "failed:", str(bad), "missing required column")
    assert line.startswith("failed: ")
    assert state(home / "warehouse.duckdb") == before


def test_a_folder_that_loads_nothing_fails_naming_each_file_skipped(
    home: Path, tmp_path: Path
) -> None:
    """A folder of files cwsw recognises but does not read (a 2026/27 SSDA903 deprivation of
    liberty table), or of no files at all, is not a successful load."""
    before = state(home / "warehouse.duckdb")
    dolo = tmp_path / "ssda903" / "2027"
    dolo.mkdir(parents=True)
    (dolo / "SSDA903_2027_dolo.csv").write_text(
        "CHILD,DOLO_START,DOLO_END\n1001,01/05/2026,\n", encoding="utf-8"
    )
    result = cwsw(home, "ingest", str(tmp_path / "ssda903"))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    *skipped, last = _lines(result.stderr)
    assert last.startswith("Error: nothing to load in"), last
    assert "1 file(s) skipped" in last
    assert [line.split(":")[0] for line in skipped] == ["skipped"]
    assert "SSDA903_2027_dolo.csv" in skipped[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_error(cwsw(home, "ingest", str(empty)), 1, "nothing to load", "no files found")
    assert state(home / "warehouse.duckdb") == before


PEOPLE_1252 = [("9001", "Zoë", "O’Brien"), ("9002", "Siân", "Ní Bhriain"), ("9003", "José", "Peña")]


def _person_extract_1252(path: Path) -> Path:
    rows = "".join(f"{i},{f},{s},2012-03-04,F,,AB1 2CD\r\n" for i, f, s in PEOPLE_1252)
    text = "la_child_id,forename,surname,date_of_birth,sex,upn,postcode\r\n" + rows
    path.write_bytes(text.encode("cp1252"))
    return path


def test_a_windows_1252_csv_is_refused_saying_how_then_read_with_encoding(tmp_path: Path) -> None:
    extract = _person_extract_1252(tmp_path / "person_extract.csv")
    home = tmp_path / "home"
    refused = cwsw(home, "ingest", str(extract))
    assert_one_line(refused, 1, "failed:", "not UTF-8 text", "line 2", "--encoding", "cp1252")
    assert state(home / "warehouse.duckdb") == state_of_empty_warehouse(home)

    read = cwsw(home, "ingest", "--encoding", "cp1252", "--json", str(extract))
    assert read.exit_code == 0, read.output
    with Warehouse.open(home / "warehouse.duckdb", read_only=True) as warehouse:
        people = warehouse.execute(
            "SELECT la_child_id, forename, surname FROM person ORDER BY la_child_id"
        )
        finding = warehouse.execute(
            "SELECT severity, field, location, value FROM load_finding WHERE rule = 'csv_encoding'"
        )
    assert people == PEOPLE_1252
    assert finding == [("information", "encoding", "read as cp1252", "cp1252")]
    assert '"rule": "csv_encoding"' in read.stdout


def state_of_empty_warehouse(home: Path) -> str | None:
    """The state of a warehouse that holds nothing loaded (the schema, if it was created)."""
    path = home / "warehouse.duckdb"
    if not path.exists():
        return None
    with Warehouse.open(path, read_only=True) as warehouse:
        assert warehouse.execute("SELECT count(*) FROM loads") == [(0,)]
    return state(path)


def test_an_encoding_cwsw_cannot_read_csv_in_is_refused_before_reading(tmp_path: Path) -> None:
    extract = _person_extract_1252(tmp_path / "person_extract.csv")
    for encoding in ("klingon", "utf-16"):
        result = cwsw(tmp_path / "home", "ingest", "--encoding", encoding, str(extract))
        assert_one_error(result, 1, f"--encoding '{encoding}'", "cp1252")
    assert not (tmp_path / "home").exists()


def test_synth_states_its_minimum_in_the_refusal_and_the_help(tmp_path: Path) -> None:
    from cwsw.synth import generate

    result = cwsw(tmp_path, "synth", "--pupils", "10", "--out", str(tmp_path / "la"))
    assert_one_error(result, 1, f"--pupils must be at least {MIN_PUPILS}")
    assert not (tmp_path / "la").exists()
    assert f"at least {MIN_PUPILS}" in " ".join(cwsw(tmp_path, "synth", "--help").stdout.split())
    # The CLI's minimum is the generator's own: one fewer is refused there too.
    with pytest.raises(ValueError, match=f"at least {MIN_PUPILS}"):
        generate(tmp_path / "la", pupils=MIN_PUPILS - 1)


def test_help_gives_the_order_of_the_steps() -> None:
    text = " ".join(runner.invoke(app, ["--help"]).stdout.split())
    assert "synth (or your own returns) → ingest → link → build → report" in text
    for step, command in enumerate(("synth", "ingest", "link", "build", "report"), start=1):
        assert f"Step {step}" in " ".join(runner.invoke(app, [command, "--help"]).stdout.split())


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A home whose warehouse has marts: a small local authority, loaded, linked and built in
    this process (only the report's inputs are under test)."""
    from cwsw import pipeline
    from cwsw.synth import generate
    from cwsw.warehouse import load
    from tests.conftest import linkage_settings

    home = tmp_path / "built"
    generate(home / "la", seed=5, pupils=MIN_PUPILS * 3, faults="none")
    with Warehouse.open(home / "warehouse.duckdb") as warehouse:
        load.ingest(warehouse, [home / "la"])
        pipeline.link(warehouse, linkage_settings(home))
        pipeline.build(warehouse)
    return home


def test_a_malformed_report_or_build_input_names_the_file(built: Path, tmp_path: Path) -> None:
    home = built
    benchmarks = tmp_path / "ees"
    benchmarks.mkdir()
    (benchmarks / "absence_la.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    before = state(home / "warehouse.duckdb")
    out = tmp_path / "report"
    args = ["report", "--format", "html", "--out", str(out), "--benchmarks", str(benchmarks)]
    assert_one_error(cwsw(home, *args), 1, str(benchmarks / "absence_la.csv"), "not an EES file")
    assert state(home / "warehouse.duckdb") == before
    missing = ["report", "--out", str(out), "--benchmarks", str(tmp_path / "none")]
    assert_one_error(cwsw(home, *missing), 2, "--benchmarks", "does not exist")
    cohorts = tmp_path / "cohorts.toml"
    cohorts.write_text("[cohort\n", encoding="utf-8")
    assert_one_error(cwsw(home, "build", "--cohorts", str(cohorts)), 1, "not valid TOML")
    assert_one_error(cwsw(home, "link", "--truth", str(tmp_path)), 1, "child_pupil.csv")
    assert state(home / "warehouse.duckdb") == before


# --- outputs that cannot be written ------------------------------------------------------------


def test_an_unwritable_output_is_refused_before_the_work(home: Path, tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder\n", encoding="utf-8")
    blocked = in_the_way / "out"
    before = state(home / "warehouse.duckdb")
    extract = _person_extract_1252(tmp_path / "person_extract.csv")
    cases = [
        (["synth", "--pupils", "100", "--out", str(blocked)], "--out"),
        (["export", "marts", "--out", str(blocked)], "--out"),
        (["report", "--format", "html", "--out", str(blocked)], "--out"),
        (["ingest", "--encoding", "cp1252", "--report", str(blocked / "q.html"), str(extract)], ""),
    ]
    for args, option in cases:
        result = cwsw(home, *args)
        assert_one_error(result, 1, f"cannot write {option}".strip(), "a file is in the way")
    # The refused ingest loaded nothing: the report is checked before the load.
    assert state(home / "warehouse.duckdb") == before


def test_ingest_report_is_written_after_the_summary(tmp_path: Path) -> None:
    extract = _person_extract_1252(tmp_path / "person_extract.csv")
    report = tmp_path / "reports" / "quality.html"
    result = cwsw(tmp_path / "home", "ingest", "--encoding", "cp1252", "--report", str(report))
    assert result.exit_code == 2  # no path given: a usage error, nothing written
    result = cwsw(
        tmp_path / "home", "ingest", "--encoding", "cp1252", "--report", str(report), str(extract)
    )
    assert result.exit_code == 0, result.output
    assert "csv_encoding" in result.stdout and report.is_file()


def test_two_files_of_one_name_are_told_apart_in_the_summary(la: Path, tmp_path: Path) -> None:
    for folder in ("north", "south"):
        (tmp_path / folder).mkdir()
        shutil.copy(la / "person_extract.csv", tmp_path / folder / "person_extract.csv")
    names = _display_names(
        [str(tmp_path / "north/person_extract.csv"), str(tmp_path / "south/person_extract.csv")]
    )
    assert sorted(names.values()) == ["north/person_extract.csv", "south/person_extract.csv"]
    assert _display_names(["/a/x.csv", "/b/y.csv"]) == {"/a/x.csv": "x.csv", "/b/y.csv": "y.csv"}
    result = cwsw(tmp_path / "home", "ingest", "--check", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = "".join(result.stdout.split())  # a long name folds onto the next line of its cell
    assert "north/" in text and "south/" in text


# --- a bad setting ----------------------------------------------------------------------------

EVERY_COMMAND = [
    ["synth", "--out", "x"],
    ["ingest", "x"],
    ["link"],
    ["link", "review"],
    ["link", "accept", "1", "A123456789012"],
    ["build"],
    ["status"],
    ["report"],
    ["export", "marts", "--out", "x"],
    ["serve"],
    ["demo", "--no-serve"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_a_malformed_setting_stops_every_command_in_one_line(
    args: list[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(home)
    before = state(home / "warehouse.duckdb")
    result = cwsw(home, *args, CWSW_SUPPRESSION_THRESHOLD="ten")
    assert_one_error(result, 1, "CWSW_SUPPRESSION_THRESHOLD must be a whole number, not 'ten'")
    assert state(home / "warehouse.duckdb") == before
    assert not (home / "x").exists()


# --- a busy warehouse (another process holds its write lock) ----------------------------------


@contextmanager
def held_by_another_process(path: Path) -> Iterator[None]:
    """``path`` held open for writing by another process (DuckDB's lock) within the block."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_a_busy_warehouse_is_one_line_for_every_command_even_read_only_ones(
    home: Path, loaded: Path, tmp_path: Path
) -> None:
    extract = _person_extract_1252(tmp_path / "person_extract.csv")
    with held_by_another_process(home / "warehouse.duckdb"):
        for args in (
            ["ingest", "--encoding", "cp1252", str(extract)],
            ["link"],
            ["link", "review"],
            ["build"],
            ["status"],
            ["report", "--format", "html", "--out", str(tmp_path / "r")],
            ["export", "marts", "--out", str(tmp_path / "e")],
        ):
            result = cwsw(home, *args)
            assert_one_error(result, 1, "is in use by another process", "process ")
        # --check reads the files alone, so it runs while the warehouse is busy.
        checked = cwsw(home, "ingest", "--check", "--encoding", "cp1252", str(extract))
        assert checked.exit_code == 0, checked.output
    assert state(home / "warehouse.duckdb") == state(loaded)
    assert not (tmp_path / "r").exists() and not (tmp_path / "e").exists()


# --- a read-only home ---------------------------------------------------------------------------


def _read_only(*paths: Path) -> bool:
    """Make ``paths`` read-only; False if that does not stop this user writing (root)."""
    for path in paths:
        path.chmod(stat.S_IRUSR | stat.S_IXUSR if path.is_dir() else stat.S_IRUSR)
    probe = paths[0] / "probe" if paths[0].is_dir() else paths[0].with_name("probe")
    try:
        probe.touch()
    except OSError:
        return True
    probe.unlink()
    return False


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "read-only"
    home.mkdir()
    if not _read_only(home):
        # Permissions do not stop root: a folder on a file system no one can write instead.
        home = Path("/sys/cwsw-read-only-home")
        try:
            home.mkdir()
        except OSError:
            pass
        else:  # pragma: no cover - a writable /sys
            home.rmdir()
            pytest.skip("no folder this user cannot write")
    yield home
    (tmp_path / "read-only").chmod(stat.S_IRWXU)


def test_a_read_only_home_is_one_line_and_creates_nothing(
    read_only_home: Path, tmp_path: Path
) -> None:
    extract = _person_extract_1252(tmp_path / "person_extract.csv")
    result = cwsw(read_only_home, "ingest", "--encoding", "cp1252", str(extract))
    assert_one_error(
        result, 1, f"cannot write the warehouse {read_only_home}", "set CWSW_HOME to a folder"
    )
    for args in (["link"], ["build"], ["report"], ["link", "review"]):
        assert_one_error(cwsw(read_only_home, *args), 1, "no warehouse at")
    assert not read_only_home.exists() or list(read_only_home.iterdir()) == []


def test_a_read_only_warehouse_refuses_a_load_and_still_reads(
    home: Path, loaded: Path, tmp_path: Path
) -> None:
    if not _read_only(home / "warehouse.duckdb", home):
        home.chmod(stat.S_IRWXU)
        pytest.skip("permissions do not stop this user (root) writing the warehouse")
    try:
        extract = _person_extract_1252(tmp_path / "person_extract.csv")
        result = cwsw(home, "ingest", "--encoding", "cp1252", str(extract))
        assert_one_error(result, 1, "cannot write the warehouse", "CWSW_HOME")
        assert_one_error(cwsw(home, "link", "review"), 1, "run `cwsw link` first")
    finally:
        home.chmod(stat.S_IRWXU)
        (home / "warehouse.duckdb").chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert state(home / "warehouse.duckdb") == state(loaded)


# --- Ctrl-C --------------------------------------------------------------------------------------


def _holds_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (Linux: its file descriptors)."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{descriptor}") == str(path):
                return True
        except OSError:
            continue
    return False


def _started(
    args: list[str], home: Path, new_group: bool = False, **env: str
) -> subprocess.Popen[str]:
    """``cwsw args`` started in a subprocess with ``home`` as its home (no progress bars)."""
    environment = {**os.environ, "CWSW_HOME": str(home), "CWSW_PROGRESS": "0", **env}
    environment.pop("CWSW_WAREHOUSE", None)
    return subprocess.Popen(
        [str(CWSW), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=new_group,
    )


def _interrupt(args: list[str], home: Path, after_open: float) -> subprocess.CompletedProcess[str]:
    """Run ``cwsw args`` and send it SIGINT ``after_open`` seconds after it opens the warehouse."""
    process = _started(args, home)
    deadline = time.monotonic() + 60
    warehouse = (home / "warehouse.duckdb").resolve()
    while not _holds_open(process.pid, warehouse):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the command never opened the warehouse"
        time.sleep(0.02)
    time.sleep(after_open)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_during_link_is_one_line_and_leaves_the_warehouse_as_it_was(
    home: Path, loaded: Path
) -> None:
    done = _interrupt(["link"], home, after_open=1.0)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert len(_lines(done.stderr)) == 1 and done.stderr.startswith(INTERRUPTED)
    assert done.stdout == ""
    # It opens, and holds what it held: no links, nothing else changed.
    assert state(home / "warehouse.duckdb") == state(loaded)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_during_ingest_keeps_whole_files_only(la: Path, tmp_path: Path) -> None:
    from cwsw.warehouse.schema import TABLES

    done = _interrupt_ingest(la, tmp_path)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert len(_lines(done.stderr)) == 1 and done.stderr.startswith(INTERRUPTED)
    # Every load kept is whole (its rows all there), and no row is without its load.
    with Warehouse.open(tmp_path / "warehouse.duckdb", read_only=True) as warehouse:
        loads = dict(warehouse.execute("SELECT load_id, rows FROM loads"))
        created = {str(row[0]) for row in warehouse.execute("SHOW TABLES")}
        held: dict[int, int] = {}
        for table in TABLES:
            if table in ("loads", "load_finding") or table not in created:
                continue
            for load_id, count in warehouse.execute(
                f'SELECT load_id, count(*) FROM "{table}" GROUP BY load_id'
            ):
                held[load_id] = held.get(load_id, 0) + count
    assert {k: v for k, v in held.items() if v} == {k: v for k, v in loads.items() if v}
    files = sum(1 for path in la.rglob("*") if path.is_file() and "truth" not in path.parts)
    assert len(loads) < files  # it was stopped before the end


def _interrupt_ingest(la: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``cwsw ingest`` of the whole local authority, interrupted once its first files are in."""
    process = _started(["ingest", str(la)], home)
    wal = home / "warehouse.duckdb.wal"
    deadline = time.monotonic() + 60
    while not (wal.exists() and wal.stat().st_size > 0):  # a first load is being written
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the load never started"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _cin_census_of(children: int, path: Path) -> Path:
    """The public fixture's child ``children`` times over, each with its own LA child ID."""
    from tests.conftest import SHARED_FIXTURES

    text = (SHARED_FIXTURES / "cin-census" / "BAR_cin_2022.xml").read_text(encoding="utf-8")
    head, rest = text.split("<Child>", 1)
    body, tail = rest.rsplit("</Child>", 1)
    child = "<Child>" + body + "</Child>\n"
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        out.writelines(child.replace("DfEX0000001", f"LA{n:07d}") for n in range(children))
        out.write(tail)
    return path


def _children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(p) for p in (task / "children").read_text().split())
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_at_the_terminal_while_cin_reading_processes_run_is_one_line(
    tmp_path: Path,
) -> None:
    """A terminal's Ctrl-C reaches the whole process group, the CIN census's reading
    processes too: none of them prints a traceback, and nothing is loaded."""
    census = _cin_census_of(12_000, tmp_path / "cin_census_2022.xml")
    home = tmp_path / "home"
    # In a process group of its own, as a terminal's foreground job.
    process = _started(["ingest", str(census)], home, new_group=True, CWSW_INGEST_WORKERS="2")
    deadline = time.monotonic() + 60
    while len(_children_of(process.pid)) < 2:  # both reading processes are running
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the reading processes never started"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert len(_lines(err)) == 1 and err.startswith(INTERRUPTED), err
    with Warehouse.open(home / "warehouse.duckdb", read_only=True) as warehouse:
        assert warehouse.execute("SELECT count(*) FROM loads") == [(0,)]
