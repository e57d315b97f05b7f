from __future__ import annotations

import csv
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from cwsw.formats.common import ReadResult, Row
from cwsw.formats.errors import FormatError
from cwsw.formats.school_census import read_school_census

SAMPLES = "school-census/samples"
CANONICAL = {
    "pupilonroll": "pupil_enrolment",
    "pupilnolongeronroll": "pupil_enrolment",
    "termlysessiondetailsonroll": "pupil_absence",
    "termlysessiondetailsoffroll": "pupil_absence",
    "summerhalfterm2sessiondetailsonroll": "pupil_absence",
    "summerhalfterm2sessiondetailsoffroll": "pupil_absence",
    "termlyexclusionsonroll": "pupil_exclusion",
    "termlyexclusionsoffroll": "pupil_exclusion",
    "fsmperiod": "pupil_fsm",
    "fsmperiodsonroll": "pupil_fsm",
}
SAMPLES_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / SAMPLES
# Every sample file that feeds a canonical table (an empty list if the fixtures are absent).
SAMPLE_FILES = sorted(
    path.name for path in SAMPLES_DIR.glob("*.csv") if path.stem.split("_", 2)[2] in CANONICAL
)


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@cache
def _read(fixtures: Path, name: str) -> ReadResult:
    """Each sample is read once per run: the big ones take a few hundred milliseconds."""
    return read_school_census(fixtures / SAMPLES / name)


def _find(rows: list[Row], enrolment_id: str) -> Row:
    return next(row for row in rows if row["enrolment_id"] == enrolment_id)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_data_row_is_read(fixtures: Path, name: str) -> None:
    path = fixtures / SAMPLES / name
    result = _read(fixtures, name)
    table = CANONICAL[name.split("_", 2)[2].removesuffix(".csv")]
    assert list(result.tables) == [table]
    assert len(result.tables[table]) == _data_rows(path)
    assert result.period == name[:11]
    assert {row["census_term"] for row in result.tables[table]} == {name[:11]}


def test_sample_row_counts(fixtures: Path) -> None:
    assert len(_read(fixtures, "2025_spring_pupilonroll.csv").tables["pupil_enrolment"]) == 9498
    assert len(_read(fixtures, "2024_autumn_fsmperiodsonroll.csv").tables["pupil_fsm"]) == 25358


def test_pupil_on_roll_values(fixtures: Path) -> None:
    result = _read(fixtures, "2025_spring_pupilonroll.csv")
    pupil = _find(result.tables["pupil_enrolment"], "0002e817-8ca")
    assert pupil == {
        "census_term": "2025_spring",
        "laestab": "SCH7",
        "enrolment_id": "0002e817-8ca",
        "on_roll": True,
        "upn": None,  # the samples' UPNs are hashed
        "upn_raw": "21db2df8-fa0",
        "former_upn": None,
        "forename": "FOR9344",
        "surname": "SUR6864",
        "birth_date": date(2020, 4, 25),  # 2020-Apr-25 00:00:00
        "sex": "M",
        "ethnicity": "ANEP",
        "nc_year": "1",
        "enrol_status": "M",
        "sen_provision": "E",
        "entry_date": date(2023, 2, 3),
        "leaving_date": None,
        "sessions_possible": 136,  # 136.0
        "summer_ht2_sessions_possible": None,  # not collected in spring
        "sessions_authorised": None,  # totals dropped from the 2025 format...
        "sessions_unauthorised": None,  # ...summed from the codes instead (absence_type)
    }
    assert any(
        f.field == "upn" and f.value == "21db2df8-fa0" and f.location == "row 2"
        for f in result.findings
    )


def test_autumn_pupil_has_summer_second_half_sessions(fixtures: Path) -> None:
    result = _read(fixtures, "2024_autumn_pupilonroll.csv")
    pupil = _find(result.tables["pupil_enrolment"], "0002e817-8ca")
    assert pupil["sessions_possible"] == 134
    assert pupil["summer_ht2_sessions_possible"] == 119
    assert pupil["ethnicity"] is None  # no ethnicity column in the autumn 2024 extract


def test_pupil_no_longer_on_roll(fixtures: Path) -> None:
    result = _read(fixtures, "2025_spring_pupilnolongeronroll.csv")
    pupil = _find(result.tables["pupil_enrolment"], "00e9397d-27e")
    assert pupil["on_roll"] is False
    assert pupil["birth_date"] == date(2020, 4, 19)
    assert pupil["leaving_date"] == date(2025, 3, 3)
    assert pupil["sessions_possible"] == 139
    assert pupil["ethnicity"] == "REFU"


def test_absence_sessions_by_code(fixtures: Path) -> None:
    result = _read(fixtures, "2024_autumn_summerhalfterm2sessiondetailsonroll.csv")
    first = result.tables["pupil_absence"][0]
    assert first == {
        "census_term": "2024_autumn",
        "laestab": "SCH7",
        "enrolment_id": "0002e817-8ca",
        "block": "summer_ht2",
        "attendance_code": "G",
        "sessions": 136,  # 136.0
        "absence_type": "unauthorised",  # G: holiday not authorised
    }
    termly = _read(fixtures, "2024_autumn_termlysessiondetailsoffroll.csv")
    assert termly.tables["pupil_absence"][0] | {"census_term": None} == {
        "census_term": None,
        "laestab": "SCH5",
        "enrolment_id": "01080e0c-45b",
        "block": "termly",
        "attendance_code": "E",
        "sessions": 142,
        "absence_type": "authorised",  # E: excluded
    }


def test_exclusions_fixd_becomes_susp(fixtures: Path) -> None:
    rows = _read(fixtures, "2025_summer_termlyexclusionsonroll.csv").tables["pupil_exclusion"]
    assert rows[0] == {
        "census_term": "2025_summer",
        "laestab": "SCH3",
        "enrolment_id": "004e63d6-f12",
        "start_date": date(2025, 6, 2),
        "category": "SUSP",  # written FIXD, the pre-2021 name
        "sessions": 10,
    }
    assert sum(row["category"] == "SUSP" for row in rows) == 4338  # FIXD rows in the file


def test_fsm_periods(fixtures: Path) -> None:
    rows = _read(fixtures, "2025_spring_fsmperiod.csv").tables["pupil_fsm"]
    assert rows[:2] == [
        {
            "census_term": "2025_spring",
            "laestab": "SCH4",
            "enrolment_id": "001e7b6b-4f5",
            "start_date": date(2025, 2, 16),
            "end_date": date(2025, 2, 13),
        },
        {
            "census_term": "2025_spring",
            "laestab": "SCH4",
            "enrolment_id": "001e7b6b-4f5",
            "start_date": date(2025, 3, 8),
            "end_date": None,
        },
    ]


@pytest.mark.parametrize("name", ["2024_autumn_addressesoffroll.csv"])
def test_tables_not_used_yet_are_skipped_with_a_message(fixtures: Path, name: str) -> None:
    result = _read(fixtures, name)
    assert result.tables == {}
    assert result.findings == []
    assert "not used yet" in result.messages[0]


def test_older_column_name_absencesessions(tmp_path: Path) -> None:
    path = tmp_path / "2019_spring_termlysessiondetailsonroll.csv"
    path.write_text(
        "pupilonrolltableid,NativeId,absencesessions,attendancereason\nA1,8881234,4.0,I\n"
        "A1,8881234,2.5,U\n",
        encoding="utf-8",
    )
    result = read_school_census(path)
    assert [row["sessions"] for row in result.tables["pupil_absence"]] == [4, None]
    (finding,) = result.findings
    assert (finding.location, finding.field, finding.value) == ("row 3", "sessions", "2.5")


def test_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "2025_spring_pupilonroll.csv"
    path.write_text("pupilonrolltableid,NativeId,upn,sex\nA1,SCH1,X,M\n", encoding="utf-8")
    with pytest.raises(FormatError) as raised:
        read_school_census(path)
    assert str(path) in str(raised.value)
    assert "missing required column(s): dob" in str(raised.value)
