"""`cwsw link`, `cwsw link review`, `cwsw link accept` and `cwsw link reject`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwsw.cli import app

runner = CliRunner()


def test_link_report_review_and_decisions(
    small_la: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    monkeypatch.setenv("CWSW_USER", "analyst")
    assert runner.invoke(app, ["ingest", str(small_la)]).exit_code == 0
    result = runner.invoke(app, ["link", "--json", "--truth", str(small_la / "truth")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["accuracy"]["precision"] >= 0.995
    assert report["model"]["splink_version"].startswith("5.")
    assert (tmp_path / "linkage_model.json").exists()
    assert json.loads((tmp_path / "linkage_model.json").read_text())["splink_version"]

    text = runner.invoke(app, ["link"])
    assert text.exit_code == 0, text.output
    assert "matched by valid_upn_exact" in text.output and "Link rate by age" in text.output

    queue = runner.invoke(app, ["link", "review", "--json"])
    assert queue.exit_code == 0, queue.output
    assert isinstance(json.loads(queue.stdout), list)

    child, upn = "100001", "B801200005001"
    accepted = runner.invoke(app, ["link", "accept", child, upn, "--reason", "checked"])
    assert accepted.exit_code == 0, accepted.output
    assert "accepted child 100001" in accepted.output and "analyst" in accepted.output
    refused = runner.invoke(app, ["link", "reject", child, upn])
    assert refused.exit_code == 1
    assert "already accepted by analyst" in refused.output and "--change" in refused.output
    changed = runner.invoke(app, ["link", "reject", child, upn, "--change", "--by", "lead"])
    assert changed.exit_code == 0, changed.output
    bad = runner.invoke(app, ["link", "accept", child, "not-a-upn"])
    assert bad.exit_code == 1 and "not a valid UPN" in bad.output


def test_link_truth_must_be_a_truth_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    result = runner.invoke(app, ["link", "--truth", str(tmp_path)])
    assert result.exit_code == 1
    assert "child_pupil.csv" in result.output


def test_review_before_any_linkage_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    from cwsw.warehouse.connection import Warehouse

    Warehouse.open(tmp_path / "warehouse.duckdb").close()
    result = runner.invoke(app, ["link", "review"])
    assert result.exit_code == 1
    assert "run `cwsw link` first" in result.output


def test_an_unknown_engine_setting_is_a_message_not_a_traceback(
    small_la: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    assert runner.invoke(app, ["ingest", str(small_la)]).exit_code == 0
    monkeypatch.setenv("CWSW_LINK_ENGINE", "hadoop")
    result = runner.invoke(app, ["link"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "unknown linkage engine 'hadoop'" in result.output
    assert "Traceback" not in result.output
