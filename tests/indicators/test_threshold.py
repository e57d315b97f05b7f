"""The suppression threshold's floor (issue 14): below 3 is refused, unless explicitly
allowed, and then warned on every command and recorded in every output."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.indicators.export import DISCLOSURE_NAME, METADATA_KEY
from cwsw.indicators.suppression import METHOD_VERSION
from cwsw.settings import SettingError, Settings
from tests.conftest import BuiltLA

UNSAFE = "CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD"
runner = CliRunner()


@pytest.mark.parametrize("threshold", ["0", "-1", "-5", "1", "2"])
def test_a_threshold_below_3_is_refused(threshold: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWSW_SUPPRESSION_THRESHOLD", threshold)
    monkeypatch.delenv(UNSAFE, raising=False)
    with pytest.raises(SettingError, match="CWSW_SUPPRESSION_THRESHOLD must be at least 3"):
        Settings.from_env()


def test_3_and_the_default_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSAFE, raising=False)
    monkeypatch.setenv("CWSW_SUPPRESSION_THRESHOLD", "3")
    assert Settings.from_env().suppression_threshold == 3
    assert Settings.from_env().suppression_warning is None
    monkeypatch.delenv("CWSW_SUPPRESSION_THRESHOLD")
    assert Settings.from_env().suppression_threshold == 5


def test_1_with_the_unsafe_flag_is_accepted_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CWSW_SUPPRESSION_THRESHOLD", "1")
    monkeypatch.setenv(UNSAFE, "1")
    settings = Settings.from_env()
    assert settings.suppression_threshold == 1
    assert settings.suppression_warning is not None
    assert "below the safe floor of 3" in settings.suppression_warning


@pytest.mark.parametrize("threshold", ["0", "-1"])
def test_the_unsafe_flag_never_turns_suppression_off(
    threshold: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_SUPPRESSION_THRESHOLD", threshold)
    monkeypatch.setenv(UNSAFE, "1")
    with pytest.raises(SettingError, match="cannot be turned off"):
        Settings.from_env()


@pytest.mark.parametrize("command", [["export", "marts", "--out", "x"], ["report"], ["build"]])
def test_the_cli_refuses_in_one_line(command: list[str], tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        command,
        env={"CWSW_HOME": str(tmp_path), "CWSW_SUPPRESSION_THRESHOLD": "2", UNSAFE: ""},
    )
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: CWSW_SUPPRESSION_THRESHOLD must be at least 3, not 2")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("threshold", "unsafe"), [(7, ""), (1, "1")])
def test_the_export_records_the_threshold_it_used(
    threshold: int, unsafe: str, la_environment: BuiltLA, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        ["export", "marts", "--out", str(tmp_path)],
        env={"CWSW_SUPPRESSION_THRESHOLD": str(threshold), UNSAFE: unsafe},
    )
    assert result.exit_code == 0, result.output
    warned = "Warning: the suppression threshold is 1, below the safe floor of 3"
    assert (warned in result.output) is bool(unsafe)
    record = json.loads((tmp_path / DISCLOSURE_NAME).read_text(encoding="utf-8"))
    metadata = pq.read_schema(tmp_path / "marts.parquet").metadata[METADATA_KEY]
    assert json.loads(metadata) == record
    assert record["suppression_threshold"] == threshold
    assert record["suppression_method"] == METHOD_VERSION
    assert record["unsafe_threshold"] is bool(unsafe)
    assert (record["warning"] is not None) is bool(unsafe)
    assert record["suppressed_rows"] == int(
        pq.read_table(tmp_path / "marts.parquet").column("suppressed").to_pandas().sum()
    )
