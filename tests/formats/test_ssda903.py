from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cwsw.formats.errors import FormatError
from cwsw.formats.ssda903 import read_ssda903_episodes, read_ssda903_header


def test_header_fixture(fixtures: Path) -> None:
    result = read_ssda903_header(fixtures / "ssda903/header.csv", collection_year=2017)
    rows = result.tables["cla_child"]
    assert result.period == "2017"
    assert len(rows) == 2675
    assert rows[0] == {
        "collection_year": 2017,
        "la_child_id": "566910",
        "upn": None,  # D051910639385 fails its check letter...
        "upn_raw": "D051910639385",  # ...and is kept raw
        "sex": "F",  # SEX 2
        "birth_date": date(2008, 3, 27),
        "ethnicity": "WROM",
        "mother": None,
        "mother_child_birth_date": None,
    }
    assert rows[2]["sex"] == "M"  # SEX 1
    assert sum(row["upn"] is not None for row in rows) == 107
    assert sum(f.rule == "invalid_upn" for f in result.findings) == 2675 - 107


def test_episodes_fixture(fixtures: Path) -> None:
    result = read_ssda903_episodes(fixtures / "ssda903/episodes.csv", collection_year=2017)
    rows = result.tables["cla_episode"]
    assert len(rows) == 5050
    assert len({row["la_child_id"] for row in rows}) == 2123
    assert rows[0] == {
        "collection_year": 2017,
        "la_child_id": "566910",
        "start_date": date(2016, 2, 15),
        "reason_new_episode": "L",
        "legal_status": "C2",
        "cin_code": "N3",
        "placement": "T2",
        "end_date": date(2017, 8, 14),
        "reason_end": "X1",
        "placement_provider": "PR0",
        "reason_place_change": "CLOSE",
        "home_postcode": None,
        "placement_postcode": None,
        "placement_urn": "4244474",
    }
    assert rows[1]["end_date"] is None  # an open episode
    assert sum(row["end_date"] is None for row in rows) == 1413
    assert result.findings == []


def _folder(tmp_path: Path, year: str = "2024") -> Path:
    folder = tmp_path / "ssda903" / year
    folder.mkdir(parents=True)
    return folder


def test_spreadsheet_ids_bom_whitespace_and_year_from_folder(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "header.csv"
    path.write_text(
        "\ufeffCHILD , SEX,DOB,ETHNIC,UPN\n123.0, 1 ,01/02/2010,WBRI,UN2\n 0456 ,2,31/02/2010,,\n",
        encoding="utf-8",
    )
    result = read_ssda903_header(path)
    assert result.period == "2024"
    first, second = result.tables["cla_child"]
    assert first["la_child_id"] == "123"
    assert first["collection_year"] == 2024
    assert first["sex"] == "M"
    assert first["birth_date"] == date(2010, 2, 1)
    # UN2 is a reason for having no UPN, not an invalid UPN
    assert first["upn"] is None and first["upn_raw"] == "UN2"
    assert second["la_child_id"] == "0456"
    assert second["birth_date"] is None
    assert [(f.location, f.field, f.value, f.rule) for f in result.findings] == [
        ("row 3", "DOB", "31/02/2010", "invalid_date")
    ]


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "episodes.csv"
    path.write_text("CHILD,RNE,LS,CIN,PLACE,DEC,REC\n1,L,C2,N1,U1,,\n", encoding="utf-8")
    with pytest.raises(FormatError) as raised:
        read_ssda903_episodes(path)
    assert str(path) in str(raised.value)
    assert "missing required column(s): DECOM" in str(raised.value)


def test_year_must_be_known(fixtures: Path, tmp_path: Path) -> None:
    alone = tmp_path / "header.csv"  # no ssda903/YYYY folder, no episodes.csv beside it
    alone.write_bytes((fixtures / "ssda903/header.csv").read_bytes())
    with pytest.raises(FormatError, match="collection year unknown"):
        read_ssda903_header(alone)


def test_year_inferred_from_the_latest_episode_start(fixtures: Path) -> None:
    # episodes.csv's latest DECOM is 31/03/2018: the return for the year ending 31 March 2018.
    result = read_ssda903_header(fixtures / "ssda903/header.csv")
    assert result.period == "2018"
    assert {row["collection_year"] for row in result.tables["cla_child"]} == {2018}
    (inferred,) = [f for f in result.findings if f.rule == "collection_year_inferred"]
    assert (inferred.value, inferred.severity) == ("2018-03-31", "record")
