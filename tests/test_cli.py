"""The command line, as an analyst or a scheduler uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwsw.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def small_la(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "la"
    result = runner.invoke(app, ["synth", "--seed", "3", "--pupils", "1500", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_synth_writes_the_folder_layout(small_la: Path) -> None:
    assert len(list((small_la / "cin_census").glob("cin_census_20*.xml"))) == 6
    assert (small_la / "person_extract.csv").exists()
    assert (small_la / "truth" / "manifest.json").exists()


def test_synth_rejects_an_unknown_fault_level(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--out", str(tmp_path), "--faults", "lots"])
    assert result.exit_code == 1
    assert "--faults must be none, default or heavy" in result.output


def test_ingest_check_json_reports_format_year_and_rows_per_table(
    small_la: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    result = runner.invoke(app, ["ingest", "--check", "--json", str(small_la / "cin_census")])
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)
    assert [Path(f["file"]).name for f in files] == [
        f"cin_census_{y}.xml" for y in range(2020, 2026)
    ]
    assert {f["status"] for f in files} == {"checked"}
    assert all(f["rows"]["cin_child"] > 0 for f in files)
    # --check writes nothing.
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_ingest_twice_loads_once(
    small_la: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    first = runner.invoke(app, ["ingest", "--json", str(small_la / "cin_census")])
    second = runner.invoke(app, ["ingest", "--json", str(small_la / "cin_census")])
    assert first.exit_code == second.exit_code == 0
    assert {f["status"] for f in json.loads(first.stdout)} == {"loaded"}
    assert {f["status"] for f in json.loads(second.stdout)} == {"already loaded"}


def test_ingest_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no such file or folder" in result.output


def test_build_before_any_load_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 1
    assert "run `cwsw ingest` first" in result.output


@pytest.mark.django_db(transaction=True)
def test_demo_without_serving_prints_report_url_and_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo sets these in its process's environment; restored after, so no later test in
    # this process inherits the demo's CWSW_HOME or its second factor turned off.
    for name in ("CWSW_HOME", "CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    result = runner.invoke(
        app, ["demo", "--pupils", "1500", "--seed", "5", "--dir", str(tmp_path), "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    report = tmp_path / "reports" / "vsh-report-2024-25.html"
    assert f"Report: {report}" in result.stdout.replace("\n", "")
    assert "Web app: http://127.0.0.1:8000/" in result.stdout
    assert "Log in as vsh / " in result.stdout
    assert "Virtual School report, 2024/25" in report.read_text()
    assert (tmp_path / "reports" / "vsh-report-2024-25.pdf").exists()
