"""The SSDA903 collection year: from the folder, the file name, the year the user gives
(``cwsw ingest --year``), or the episodes' dates, in that order, and a finding saying which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.formats.errors import FormatError
from cwsw.formats.ssda903 import (
    read_ssda903_header,
    read_ssda903_table,
    year_in_name,
)

runner = CliRunner()
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN\n1,M,01/02/2010,WBRI,UN1\n"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,DEC,REC\n1,{decom},S,C2,N1,U1,,\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _source(path: Path, year: int | None = None) -> list[tuple[str, str | None, str, str]]:
    result = read_ssda903_table(path, collection_year=year)
    return [
        (f.field, f.value, f.rule, f.severity)
        for f in result.findings
        if f.rule.startswith("collection_year")
    ]


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("SSDA903_2025_header", 2025),
        ("SSDA903_2020_header", 2020),
        ("header_2024-25", 2025),
        ("903 header 2024_2025", 2025),
        ("episodes_2025-04-03", None),  # an export's date, not a collection year
        ("episodes_20250403", None),
        ("header_2023_and_2024", None),  # two years: none
        ("header", None),
    ],
)
def test_the_year_a_name_carries(name: str, year: int | None) -> None:
    assert year_in_name(name) == year


def test_folder_then_name_then_given_then_dates(tmp_path: Path) -> None:
    # the folder wins, and a name or given year that disagrees is said
    in_folder = _write(tmp_path / "ssda903/2024/SSDA903_2025_header.csv", HEADER)
    assert _source(in_folder, 2023) == [
        ("folder", "2024", "collection_year_source", "information"),
        ("file name", "2025", "collection_year_conflict", "record"),
        ("--year", "2023", "collection_year_conflict", "record"),
    ]
    # then the name
    named = _write(tmp_path / "flat/SSDA903_2025_header.csv", HEADER)
    assert _source(named) == [("file name", "2025", "collection_year_source", "information")]
    # then the year given
    alone = _write(tmp_path / "alone/header.csv", HEADER)
    assert _source(alone, 2022) == [("--year", "2022", "collection_year_source", "information")]
    # then the latest episode start beside it: 31/03/2023 is in the year ending March 2023
    _write(tmp_path / "dated/episodes.csv", EPISODES.format(decom="31/03/2023"))
    dated = _write(tmp_path / "dated/header.csv", HEADER)
    assert _source(dated) == [
        ("DECOM", "2023", "collection_year_source", "information"),
        ("DECOM", "2023-03-31", "collection_year_inferred", "record"),
    ]
    assert read_ssda903_header(dated).period == "2023"


def test_a_year_folder_above_a_folder_named_for_the_return(tmp_path: Path) -> None:
    path = _write(tmp_path / "2025/SSDA903/header.csv", HEADER)
    assert read_ssda903_header(path).period == "2025"


def test_an_episodes_table_takes_the_year_of_its_own_latest_start(tmp_path: Path) -> None:
    path = _write(tmp_path / "extract/la_export.csv", EPISODES.format(decom="2024-04-01"))
    result = read_ssda903_table(path)
    assert result.period == "2025"  # 1 April 2024 starts the year ending 31 March 2025


def test_no_year_anywhere_names_the_ways_out_that_exist(tmp_path: Path) -> None:
    alone = _write(tmp_path / "alone/header.csv", HEADER)
    with pytest.raises(FormatError) as raised:
        read_ssda903_header(alone)
    message = str(raised.value)
    assert "collection year unknown" in message and str(alone) in message
    assert "ssda903/2025/" in message and "SSDA903_2025_header.csv" in message
    assert "cwsw ingest --year 2025" in message
    # ... and that option exists
    assert "--year" in runner.invoke(app, ["ingest", "--help"]).output


def test_ingest_year_option_gives_the_year_to_ssda903_files_only(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path / "home"))
    folder = tmp_path / "from_the_system"
    folder.mkdir()
    shutil.copy(fixtures / "ssda903/header.csv", folder / "looked_after_children.csv")
    shutil.copy(fixtures / "cin-census/BAR_cin_2022.xml", folder / "cin.xml")

    without = runner.invoke(app, ["ingest", "--check", "--json", str(folder)])
    assert without.exit_code == 1
    failed = {Path(f["file"]).name: f for f in json.loads(without.stdout)}
    assert failed["looked_after_children.csv"]["status"] == "failed"
    assert "--year" in failed["looked_after_children.csv"]["message"]

    given = runner.invoke(app, ["ingest", "--json", "--year", "2024", str(folder)])
    assert given.exit_code == 0, given.output
    loaded = {Path(f["file"]).name: f for f in json.loads(given.stdout)}
    assert loaded["looked_after_children.csv"]["status"] == "loaded"
    assert loaded["looked_after_children.csv"]["period"] == "2024"
    assert loaded["looked_after_children.csv"]["rows"]["cla_child"] == 2675
    assert loaded["cin.xml"]["period"] == "2022"  # the CIN census says its own year


def test_ingest_year_out_of_range_is_refused_by_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--check", "--year", "25", str(tmp_path)])
    assert result.exit_code == 2 and "--year" in result.output
