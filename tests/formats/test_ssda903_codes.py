"""Every coded SSDA903 column checked against its code list for the collection year.

The codes here are written out from DfE's guide for each year (independently of the data file
the reader uses); each case has a valid and an invalid value in two collection years, and the
finding must name the row, the child, the column and the value, which is kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cwsw.formats.errors import Finding
from cwsw.formats.ssda903 import TABLES, read_ssda903_table, read_ssda903_xml
from cwsw.formats.ssda903_codes import code_lists

# A valid record of each table; SEX is filled in per year (1 / 2 until 2023/24, M / F / U).
BASE: dict[str, dict[str, str]] = {
    "header": {"DOB": "01/01/2010", "ETHNIC": "WBRI", "UPN": "UN1", "MOTHER": "0"},
    "episodes": {
        "DECOM": "01/04/2016",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U1",
        "PLACE_PROVIDER": "PR1",
        "DEC": "",
        "REC": "",
        "REASON_PLACE_CHANGE": "",
    },
    "reviews": {"DOB": "01/01/2010", "REVIEW": "01/06/2016", "REVIEW_CODE": "PN1"},
    "uasc": {"DOB": "01/01/2010", "DUC": "01/01/2028"},
    "oc2": {"DOB": "01/01/2010", "SDQ_REASON": "SDQ1"},
    "oc3": {"DOB": "01/01/2000", "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
    "ad1": {"DOB": "01/01/2015", "NB_ADOPTR": "1", "SEX_ADOPTR": "M1", "LS_ADOPTR": "L0"},
    "missing": {"DOB": "01/01/2010", "MISSING": "M", "MIS_START": "01/06/2016"},
    "placed_for_adoption": {
        "DOB": "01/01/2015",
        "DATE_PLACED": "01/06/2016",
        "REASON_PLACED_CEASED": "RD1",
    },
    "previous_permanence": {"DOB": "01/01/2010", "PREV_PERM": "Z1"},
    "sw_episodes": {
        "DOB": "01/01/2010",
        "SW_ID": "SW1",
        "SW_DECOM": "01/06/2016",
        "SW_REASON": "MANAGE",
    },
}
SEX = {2019: "1", 2025: "M"}

# (table, column, canonical column, a valid code in 2018/19, in 2024/25, an invalid code)
CASES = [
    ("header", "ETHNIC", "ethnicity", "WBRI", "NOBT", "XXXX"),
    ("header", "SEX", "sex", "2", "F", "3"),
    ("uasc", "SEX", "sex", "1", "U", "X"),
    ("episodes", "RNE", "reason_new_episode", "S", "B", "Z"),
    ("episodes", "LS", "legal_status", "C2", "V2", "C3"),
    ("episodes", "CIN", "cin_code", "N1", "N8", "N9"),
    ("episodes", "PLACE", "placement", "H5", "K3", "R4"),
    ("episodes", "PLACE_PROVIDER", "placement_provider", "PR0", "PR5", "PR6"),
    ("episodes", "REC", "reason_end", "E45", "E11", "XXX"),
    ("episodes", "REASON_PLACE_CHANGE", "reason_place_change", "CUSTOD", "CARPL", "MOVED"),
    ("reviews", "REVIEW_CODE", "review_code", "PN0", "PN7", "PN8"),
    ("oc2", "SDQ_REASON", "sdq_reason", "SDQ1", "SDQ5", "SDQ6"),
    ("oc3", "IN_TOUCH", "in_touch", "YES", "RHOM", "MAYBE"),
    ("oc3", "ACTIV", "activity", "G6", "F5", "F9"),
    ("oc3", "ACCOM", "accommodation", "B1", "Z2", "S1"),  # homeless is never "suitable"
    ("ad1", "NB_ADOPTR", "number_of_adopters", "1", "2", "3"),
    ("ad1", "SEX_ADOPTR", "sex_of_adopters", "MF", "FF", "M2"),
    ("ad1", "LS_ADOPTR", "legal_status_of_adopters", "L11", "L4", "L5"),
    ("missing", "MISSING", "missing_type", "M", "A", "X"),
    ("placed_for_adoption", "REASON_PLACED_CEASED", "reason_ceased", "RD1", "RD4", "XXX"),
    ("previous_permanence", "PREV_PERM", "previous_permanence", "P4", "Z1", "P5"),
    ("sw_episodes", "SW_REASON", "reason_end", "MANAGE", "OTHERS", "LAZY"),
]
# Codes valid in one year and not another: (column, table, year, code, valid that year)
BY_YEAR = [
    ("PLACE", "episodes", 2024, "H5", True),
    ("PLACE", "episodes", 2025, "H5", False),
    ("PLACE", "episodes", 2024, "P2", True),
    ("PLACE", "episodes", 2025, "P2", False),
    ("PLACE", "episodes", 2024, "K3", False),
    ("PLACE", "episodes", 2025, "Z1", True),
    ("PLACE", "episodes", 2026, "Z1", False),
    ("PLACE", "episodes", 2026, "Z13", True),
    ("PLACE", "episodes", 2025, "Z13", False),
    ("REC", "episodes", 2018, "E43", True),
    ("REC", "episodes", 2019, "E43", False),
    ("REC", "episodes", 2018, "E47", False),
    ("REASON_PLACE_CHANGE", "episodes", 2018, "CUSTOD", False),
    ("ACTIV", "oc3", 2021, "F3", True),
    ("ACTIV", "oc3", 2022, "F3", False),
    ("ACTIV", "oc3", 2021, "P4", False),
    ("ACTIV", "oc3", 2022, "P4", True),
    ("SEX", "header", 2024, "2", True),
    ("SEX", "header", 2025, "2", False),
    ("SEX", "header", 2024, "U", False),
]


def _write(folder: Path, table: str, year: int, rows: list[dict[str, str]]) -> Path:
    sex = SEX[2025] if year >= 2025 else SEX[2019]
    records = []
    for n, changes in enumerate(rows, start=11):
        record = {"CHILD": str(n)} | BASE[table]
        if table in ("header", "uasc"):
            record["SEX"] = sex
        records.append(record | changes)
    columns = list(records[0])
    lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in records]
    path = folder / "ssda903" / str(year) / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _about(findings: list[Finding], column: str) -> list[tuple[str, str | None, str, str]]:
    return [(f.location, f.value, f.rule, f.severity) for f in findings if f.field == column]


@pytest.mark.parametrize("year", [2019, 2025])
@pytest.mark.parametrize(("table", "column", "canonical", "valid_2019", "valid_2025", "bad"), CASES)
def test_each_coded_column_valid_and_invalid_in_two_years(
    tmp_path: Path,
    year: int,
    table: str,
    column: str,
    canonical: str,
    valid_2019: str,
    valid_2025: str,
    bad: str,
) -> None:
    valid = valid_2019 if year == 2019 else valid_2025
    path = _write(tmp_path, table, year, [{column: valid}, {column: bad}])
    result = read_ssda903_table(path)
    good, kept = (row[canonical] for row in result.tables[TABLES[table].canonical])
    assert _about(result.findings, column) == [("row 3, CHILD 12", bad, "invalid_code", "value")]
    if column == "SEX":  # the canonical sex is M / F / U: a code that is none is nulled
        assert good == {"1": "M", "2": "F"}.get(valid, valid) and kept is None
    else:  # the code is the canonical value: kept as written for the council to correct
        assert (good, kept) == (valid, bad)


@pytest.mark.parametrize(("column", "table", "year", "code", "valid"), BY_YEAR)
def test_codes_that_changed_between_years(
    tmp_path: Path, column: str, table: str, year: int, code: str, valid: bool
) -> None:
    path = _write(tmp_path, table, year, [{column: code}])
    result = read_ssda903_table(path)
    expected = [] if valid else [("row 2, CHILD 11", code, "code_not_valid_in_year", "value")]
    assert _about(result.findings, column) == expected
    (row,) = result.tables[TABLES[table].canonical]
    canonical = next(name for source, name, _ in TABLES[table].columns if source == column)
    # kept, also when it is another year's code (a sex code of the old list still says M / F)
    assert row[canonical] == ({"1": "M", "2": "F"}.get(code, code) if column == "SEX" else code)


def test_a_code_in_lower_case_is_read_and_the_correction_said(tmp_path: Path) -> None:
    path = _write(tmp_path, "episodes", 2025, [{"PLACE": " k3", "LS": "c2"}])
    result = read_ssda903_table(path)
    (row,) = result.tables["cla_episode"]
    assert (row["placement"], row["legal_status"]) == ("K3", "C2")
    said = [(f.field, f.value, f.rule, f.severity) for f in result.findings[1:]]
    # The padding the CSV reading trims is said first, then the case the code reading fixes.
    assert sorted(said) == [
        ("LS", "c2", "normalised_code", "information"),
        ("PLACE", " k3", "normalised_white_space", "information"),
        ("PLACE", "k3", "normalised_code", "information"),
    ]


def test_codes_are_judged_once_per_distinct_value_but_reported_at_every_row(
    tmp_path: Path,
) -> None:
    rows = [{"RNE": "Z" if n % 3 == 0 else "S"} for n in range(300)]
    path = _write(tmp_path, "episodes", 2025, rows)
    result = read_ssda903_table(path)
    bad = [f.location for f in result.findings if f.rule == "invalid_code"]
    assert bad == [f"row {n + 2}, CHILD {n + 11}" for n in range(300) if n % 3 == 0]


def test_the_xml_form_names_its_own_element(tmp_path: Path) -> None:
    """``<PL>`` is PLACE in the CSV: the finding names what the file says, at its line."""
    path = tmp_path / "ssda903" / "2026" / "return.xml"
    path.parent.mkdir(parents=True)
    path.write_text(
        "<EXPSSDA903>\n<CHILD><HEADER><CHILDID>41</CHILDID><UPN>UN1</UPN><SEX>1</SEX>"
        "<DOB>01/01/2010</DOB><ETHNIC>WBRI</ETHNIC></HEADER>\n"
        "<EPISODE><DECOM>01/04/2025</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN><PL>Z1</PL>"
        "<DEC/><REC/></EPISODE>\n</CHILD>\n</EXPSSDA903>\n",
        encoding="utf-8",
    )
    result = read_ssda903_xml(path)
    coded = [(f.location, f.field, f.value, f.rule) for f in result.findings[1:]]
    assert coded == [
        ("CHILD[1]/HEADER (line 2), CHILDID 41", "SEX", "1", "code_not_valid_in_year"),
        ("CHILD[1]/EPISODE[1] (line 3), CHILDID 41", "PL", "Z1", "code_not_valid_in_year"),
    ]
    assert result.tables["cla_child"][0]["sex"] == "M"
    assert result.tables["cla_episode"][0]["placement"] == "Z1"


def test_every_coded_column_has_a_list_in_every_year() -> None:
    lists = code_lists()
    coded = {
        source
        for spec in TABLES.values()
        for source, _, kind in spec.columns
        if kind in ("code", "sex")
    }
    assert coded <= set(lists)
    for column in coded:
        for year in range(2015, 2030):
            assert lists[column].in_year(year), (column, year)
