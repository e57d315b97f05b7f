"""The formats defined by cwsw's own contracts (data contracts §2): KS2, KS4, schools, persons."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cwsw.domain.upn import check_letter
from cwsw.formats.attainment import read_ks2, read_ks4
from cwsw.formats.errors import FormatError
from cwsw.formats.establishments import read_establishments
from cwsw.formats.person import read_person_extract

BODY = "201123420001"
UPN = check_letter(BODY) + BODY  # a valid UPN for the examples


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text("\ufeff" + text, encoding="utf-8")  # with a BOM, as Excel writes
    return path


def test_ks2(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ks2_2024.csv",
        "upn,laestab,year,ks2_read_exp,ks2_writ_exp,ks2_mat_exp,ks2_rwm_exp\n"
        f" {UPN.lower()} ,2012001,2024,1,1,0,0\n"
        "B000000000000,2012001,2023,1,1,1,2\n",
    )
    result = read_ks2(path)
    assert result.period == "2024"
    first, second = result.tables["ks2_result"]
    assert first == {
        "upn": UPN,
        "upn_raw": f"{UPN.lower()}",
        "laestab": "2012001",
        "year": 2024,
        "ks2_read_exp": True,
        "ks2_writ_exp": True,
        "ks2_mat_exp": False,
        "ks2_rwm_exp": False,
    }
    assert second["upn"] is None and second["ks2_rwm_exp"] is None
    assert {(f.location, f.field, f.rule) for f in result.findings} == {
        ("row 2", "upn", "normalised_white_space"),  # information: read corrected
        ("row 2", "upn", "normalised_upn"),
        ("row 3", "upn", "invalid_upn"),
        ("row 3", "year", "year_differs_from_file_name_2024"),
        ("row 3", "ks2_rwm_exp", "invalid_flag"),
    }


def test_ks4(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ks4_2025.csv",
        "upn,laestab,year,att8,p8score,l2basics_94,l2basics_95\n"
        f"{UPN},2014001,2025,17.5,,1,0\n"
        f"{UPN},2014001,2025,95,-1.25,0,0\n",
    )
    first, second = read_ks4(path).tables["ks4_result"]
    assert first["att8"] == 17.5 and first["p8score"] is None
    assert first["l2basics_94"] is True and first["l2basics_95"] is False
    assert second["att8"] is None  # outside 0–90
    assert second["p8score"] == -1.25


def test_establishments(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "establishments.csv",
        "laestab,urn,establishment_name,phase\n"
        "2012001,100001,Oak Primary,Primary\n"
        "2014001,100002,Elm Academy,secondary\n"
        "2017001,100003,The Hub,PRU\n",
    )
    result = read_establishments(path)
    rows = result.tables["establishment"]
    assert rows[0] == {
        "laestab": "2012001",
        "urn": "100001",
        "establishment_name": "Oak Primary",
        "phase": "Primary",
    }
    assert rows[1]["phase"] == "Secondary"
    assert rows[2]["phase"] is None
    assert [(f.location, f.value, f.rule) for f in result.findings] == [
        ("row 3", "secondary", "normalised_code"),
        ("row 4", "PRU", "invalid_code"),
    ]


def test_person_extract(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "person_extract.csv",
        "la_child_id,forename,surname,date_of_birth,sex,upn,postcode\n"
        f"123.0, Amy ,Smith,2012-09-01,F,{UPN},ab1  2cd\n"
        "456,Ben,Jones,2013-02-30,M,,\n",
    )
    first, second = read_person_extract(path).tables["person"]
    assert first == {
        "la_child_id": "123",
        "forename": "Amy",
        "surname": "Smith",
        "birth_date": date(2012, 9, 1),
        "sex": "F",
        "upn": UPN,
        "upn_raw": UPN,
        "postcode": "AB1 2CD",
    }
    assert second["birth_date"] is None and second["upn"] is None and second["postcode"] is None


def test_missing_columns_are_fatal_and_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "ks4_2025.csv", "upn,laestab,year,att8\n")
    with pytest.raises(FormatError) as raised:
        read_ks4(path)
    message = str(raised.value)
    assert str(path) in message
    assert "p8score, l2basics_94, l2basics_95" in message
