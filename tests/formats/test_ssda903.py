"""The SSDA903 reader: the fixture tables, the values it normalises and says so, a child
listed twice, UASC in the XML form, ISO and DfE dates."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from cwsw.formats.errors import FormatError
from cwsw.formats.ssda903 import (
    read_ssda903_episodes,
    read_ssda903_header,
    read_ssda903_table,
    read_ssda903_xml,
)

# The 2016/17 lists of the two episode columns whose codes changed in 2018/19 (DfE guide
# 2016/17 and validation rule 149), written out here to check the reader independently.
REC_2017 = {
    "X1", "E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E41", "E43", "E44", "E5", "E6",
    "E7", "E9", "E14", "E15", "E16", "E17", "E8",
}  # fmt: skip
REASON_PLACE_CHANGE_2017 = {
    "CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD", "LAREQ", "PLACE",
    "OTHER",
}  # fmt: skip


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


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
    path = fixtures / "ssda903/episodes.csv"
    result = read_ssda903_episodes(path, collection_year=2017)
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
    # The only findings: the year's source, and the codes (E45-E48, CUSTOD) of 2018/19 on,
    # each at its row, kept as written.
    source = _csv(path)
    expected = sorted(
        [(f"row {n}, CHILD {r['CHILD']}", "REC", r["REC"]) for n, r in enumerate(source, 2)
         if r["REC"] and r["REC"] not in REC_2017]
        + [(f"row {n}, CHILD {r['CHILD']}", "REASON_PLACE_CHANGE", r["REASON_PLACE_CHANGE"])
           for n, r in enumerate(source, 2)
           if r["REASON_PLACE_CHANGE"] and r["REASON_PLACE_CHANGE"] not in REASON_PLACE_CHANGE_2017]
    )  # fmt: skip
    coded = [f for f in result.findings if f.rule == "code_not_valid_in_year"]
    assert expected and sorted((f.location, f.field, f.value) for f in coded) == expected
    assert {f.rule for f in result.findings} == {"code_not_valid_in_year", "collection_year_source"}
    assert [r["reason_end"] for r in rows] == [r["REC"] or None for r in source]


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
    assert [(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings] == [
        ("file", "folder", "2024", "collection_year_source", "information"),
        # padding the CSV reading trims, and the spreadsheet's 123.0: each said, so the
        # council can fix it at source
        ("row 2", "SEX", " 1 ", "normalised_white_space", "information"),
        ("row 2, CHILD 123", "CHILD", "123.0", "normalised_child_id", "information"),
        ("row 3", "CHILD", " 0456 ", "normalised_white_space", "information"),
        ("row 3, CHILD 0456", "DOB", "31/02/2010", "invalid_date", "value"),
    ]


def test_a_upn_in_lower_case_is_read_and_the_correction_said(tmp_path: Path) -> None:
    # A123456789012: check letter A for 123456789012 (weights 2-13, sum mod 23)
    body = "123456789012"
    total = sum(int(c) * w for c, w in zip(body, range(2, 14), strict=True))
    letter = "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23]
    path = _folder(tmp_path) / "header.csv"
    path.write_text(
        f"CHILD,SEX,DOB,ETHNIC,UPN\n1,1,01/02/2010,WBRI,{letter.lower()}{body}\n",
        encoding="utf-8",
    )
    result = read_ssda903_header(path)
    (row,) = result.tables["cla_child"]
    assert (row["upn"], row["upn_raw"]) == (f"{letter}{body}", f"{letter.lower()}{body}")
    assert [(f.field, f.rule, f.severity) for f in result.findings[1:]] == [
        ("UPN", "normalised_upn", "information")
    ]


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "episodes.csv"
    path.write_text("CHILD,RNE,LS,CIN,PLACE,DEC,REC\n1,L,C2,N1,U1,,\n", encoding="utf-8")
    with pytest.raises(FormatError) as raised:
        read_ssda903_episodes(path)
    assert str(path) in str(raised.value)
    assert "missing required column(s): DECOM" in str(raised.value)


def test_a_child_listed_twice_in_the_header_is_a_record_finding(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "header.csv"
    path.write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN\n"
        "7,1,01/02/2010,WBRI,UN2\n"
        "8,2,01/02/2011,WBRI,UN2\n"
        "7.0,1,01/02/2010,WBRI,UN2\n"  # the same child, as a spreadsheet writes it
        "7,1,01/02/2010,WBRI,UN2\n",
        encoding="utf-8",
    )
    result = read_ssda903_header(path)
    assert [r["la_child_id"] for r in result.tables["cla_child"]] == ["7", "8", "7", "7"]
    duplicates = [f for f in result.findings if f.rule == "duplicate_child_id"]
    assert [(f.location, f.field, f.value, f.severity) for f in duplicates] == [
        ("row 4, CHILD 7", "CHILD", "7", "record"),
        ("row 5, CHILD 7", "CHILD", "7", "record"),
    ]


def test_episodes_of_one_child_are_not_duplicates(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "episodes.csv"
    path.write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,DEC,REC\n"
        "7,01/04/2023,S,C2,N1,U1,01/05/2023,X1\n7,01/05/2023,P,C2,N1,U4,,\n",
        encoding="utf-8",
    )
    result = read_ssda903_episodes(path)
    assert len(result.tables["cla_episode"]) == 2
    assert not [f for f in result.findings if f.rule == "duplicate_child_id"]


def test_iso_and_dfe_dates_both_read_the_iso_one_said(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "episodes.csv"
    path.write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,DEC,REC\n"
        "1,01/04/2023,S,C2,N1,U1,2023-05-02,X1\n"
        "2,2023-06-30,S,C2,N1,U1,,\n"
        "3,2023-07-01 00:00:00,S,C2,N1,U1,31/13/2023,X1\n",  # pandas's export; no 13th month
        encoding="utf-8",
    )
    result = read_ssda903_episodes(path)
    starts = [(r["start_date"], r["end_date"]) for r in result.tables["cla_episode"]]
    assert starts == [
        (date(2023, 4, 1), date(2023, 5, 2)),
        (date(2023, 6, 30), None),
        (date(2023, 7, 1), None),
    ]
    dates = [(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings[1:]]
    assert dates == [
        ("row 2, CHILD 1", "DEC", "2023-05-02", "normalised_date_format", "information"),
        ("row 3, CHILD 2", "DECOM", "2023-06-30", "normalised_date_format", "information"),
        ("row 4, CHILD 3", "DECOM", "2023-07-01 00:00:00", "normalised_date_format", "information"),
        ("row 4, CHILD 3", "DEC", "31/13/2023", "invalid_date", "value"),
    ]


def test_a_whole_extract_of_iso_dates_loses_no_date(fixtures: Path, tmp_path: Path) -> None:
    """A pooled extract with every date in ISO reads the same dates as DfE's form."""
    source = fixtures / "ssda903/episodes.csv"
    rows = _csv(source)
    iso = _folder(tmp_path, "2018") / "episodes.csv"
    with iso.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            for column in ("DECOM", "DEC"):
                if row[column]:
                    day, month, year = row[column].split("/")
                    row[column] = f"{year}-{month}-{day}"
            writer.writerow(row)
    dfe = read_ssda903_episodes(source, collection_year=2018)
    read = read_ssda903_episodes(iso)
    assert read.tables["cla_episode"] == dfe.tables["cla_episode"]
    said = [f for f in read.findings if f.rule == "normalised_date_format"]
    assert len(said) == sum(bool(r["DECOM"]) + bool(r["DEC"]) for r in rows)


def test_flags_and_numbers_as_spreadsheets_write_them_are_read_and_said(tmp_path: Path) -> None:
    path = _folder(tmp_path) / "oc2.csv"
    path.write_text(
        "CHILD,DOB,SDQ_SCORE,CONVICTED,HEALTH_CHECK\n"
        "1,01/01/2010,21.0,true,1\n"
        "2,01/01/2010,41,FALSE,yes\n",
        encoding="utf-8",
    )
    result = read_ssda903_table(path)
    first, second = result.tables["cla_outcome_oc2"]
    assert (first["sdq_score"], first["convicted"], first["health_check"]) == (21, True, True)
    # 41 is above the SDQ's 40 but kept (the column holds it); "yes" is no 0/1 flag: nulled
    assert (second["sdq_score"], second["convicted"], second["health_check"]) == (41, False, None)
    assert [(f.location, f.field, f.value, f.rule, f.severity) for f in result.findings[1:]] == [
        ("row 2, CHILD 1", "SDQ_SCORE", "21.0", "normalised_number", "information"),
        ("row 2, CHILD 1", "CONVICTED", "true", "normalised_flag", "information"),
        ("row 3, CHILD 2", "SDQ_SCORE", "41", "out_of_range", "value"),
        ("row 3, CHILD 2", "CONVICTED", "FALSE", "normalised_flag", "information"),
        ("row 3, CHILD 2", "HEALTH_CHECK", "yes", "invalid_flag", "value"),
    ]


def _xml(tmp_path: Path, children: str, year: str = "2025") -> Path:
    path = _folder(tmp_path, year) / "ssda903.xml"
    path.write_text(f"<?xml version='1.0'?>\n<EXPSSDA903>\n{children}</EXPSSDA903>\n")
    return path


def _child(child_id: str, header_extra: str = "", episodes: str = "") -> str:
    return (
        f"<CHILD><HEADER><CHILDID>{child_id}</CHILDID><UPN>UN1</UPN><SEX>M</SEX>"
        f"<DOB>01/02/2010</DOB><ETHNIC>WBRI</ETHNIC>{header_extra}</HEADER>{episodes}</CHILD>\n"
    )


def test_uasc_in_the_xml_form_is_kept_as_a_row(tmp_path: Path) -> None:
    path = _xml(
        tmp_path,
        _child("1", "<UASC>1</UASC>")  # UASC, no date it ceased yet
        + _child("2", "<UASC>1</UASC><DUC>01/02/2028</DUC>")
        + _child("3", "<UASC />")
        + _child("4", "<UASC>0</UASC>"),
    )
    result = read_ssda903_xml(path)
    uasc = result.tables["cla_uasc"]
    assert [(r["la_child_id"], r["sex"], r["uasc_end_date"]) for r in uasc] == [
        ("1", "M", None),
        ("2", "M", date(2028, 2, 1)),
    ]
    assert not [f for f in result.findings if f.field == "UASC"]


def test_an_xml_uasc_code_not_0_or_1_is_a_located_finding(tmp_path: Path) -> None:
    path = _xml(tmp_path, _child("1") + _child("5", "<UASC>Y</UASC>"))
    result = read_ssda903_xml(path)
    (finding,) = [f for f in result.findings if f.field == "UASC"]
    assert (finding.location, finding.value, finding.rule) == (
        "CHILD[2]/HEADER (line 4), CHILDID 5",
        "Y",
        "invalid_code",
    )
    assert result.tables["cla_uasc"] == []


def test_a_child_listed_twice_in_the_xml_form(tmp_path: Path) -> None:
    episode = (
        "<EPISODE><DECOM>2024-05-01</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN><PL>K3</PL>"
        "<DEC /><REC /></EPISODE>"
    )
    path = _xml(tmp_path, _child("9", episodes=episode) + _child("8") + _child("9.0"))
    result = read_ssda903_xml(path)
    assert [r["la_child_id"] for r in result.tables["cla_child"]] == ["9", "8", "9"]
    notes = [(f.location, f.field, f.value, f.rule) for f in result.findings[1:]]
    assert notes == [
        (
            "CHILD[1]/EPISODE[1] (line 3), CHILDID 9",
            "DECOM",
            "2024-05-01",
            "normalised_date_format",
        ),
        ("CHILD[3]/HEADER (line 5), CHILDID 9", "CHILDID", "9.0", "normalised_child_id"),
        ("CHILD[3]/HEADER (line 5), CHILDID 9", "CHILDID", "9", "duplicate_child_id"),
    ]
    assert result.tables["cla_episode"][0]["placement"] == "K3"  # valid in 2024/25


def test_xml_fixture_uasc_rows_are_the_children_coded_uasc(fixtures: Path) -> None:
    path = fixtures / "ssda903/fake_903.xml"
    text = path.read_text(encoding="ascii")
    result = read_ssda903_xml(path)
    assert len(result.tables["cla_uasc"]) == text.count("<UASC>1</UASC>") == 12
