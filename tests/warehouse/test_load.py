from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import check, ingest
from cwsw.warehouse.schema import TABLES, ensure_schema


@pytest.fixture
def warehouse() -> Iterator[Warehouse]:
    with Warehouse.open(":memory:") as opened:
        ensure_schema(opened)
        yield opened


def _counts(warehouse: Warehouse) -> dict[str, int]:
    return {table: warehouse.execute(f'SELECT count(*) FROM "{table}"')[0][0] for table in TABLES}


def _la_folder(fixtures: Path, root: Path) -> Path:
    """A small LA folder laid out as data contracts §1 says (copies in tmp, not the repo)."""
    (root / "cin_census").mkdir(parents=True)
    shutil.copy(fixtures / "cin-census/BAR_cin_2022.xml", root / "cin_census/cin_census_2022.xml")
    (root / "ssda903/2017").mkdir(parents=True)
    shutil.copy(fixtures / "ssda903/header.csv", root / "ssda903/2017/header.csv")
    (root / "school_census").mkdir()
    for name in ("2024_autumn_termlyexclusionsoffroll.csv", "2024_autumn_addressesoffroll.csv"):
        shutil.copy(fixtures / "school-census/samples" / name, root / "school_census" / name)
    (root / "truth").mkdir()
    (root / "truth/child_pupil.csv").write_text("la_child_id,pupil_id,upn\n1,2,3\n")
    return root


def test_schema_types(warehouse: Warehouse) -> None:
    types = dict(
        warehouse.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
        )
    )
    assert types["cin_child.birth_date"] == "DATE"
    assert types["cin_episode.referral_nfa"] == "BOOLEAN"
    assert types["pupil_absence.sessions"] == "INTEGER"
    assert types["ks4_result.att8"] == "DOUBLE"
    assert types["person.upn_raw"] == "VARCHAR"
    ensure_schema(warehouse)  # a second call leaves the tables alone


def test_ingest_cin_census_values_and_lineage(warehouse: Warehouse, fixtures: Path) -> None:
    (result,) = ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
    assert result.status == "loaded"
    assert result.format == "cin_census" and result.period == "2022"
    assert result.rows == {
        "cin_child": 1,
        "cin_episode": 1,
        "cin_assessment": 1,
        "cin_plan": 1,
        "cin_s47": 1,
        "cp_plan": 1,
        "cin_disability": 2,
        "cin_assessment_factor": 2,
        "cp_review": 1,
        "cin_pre_proceedings": 0,
    }
    ((load_id, sha256, name, fmt, period, rows),) = warehouse.execute(
        "SELECT load_id, sha256, file_name, format, period, rows FROM loads"
    )
    assert (sha256, name, fmt, period, rows) == (
        result.sha256,
        "BAR_cin_2022.xml",
        "cin_census",
        "2022",
        11,
    )
    plan = warehouse.ibis.table("cp_plan").to_pyarrow().to_pylist()
    assert plan == [
        {
            "load_id": load_id,
            "collection_year": 2022,
            "la_child_id": "DFEX0000001",
            "episode_seq": 1,
            "start_date": date(1970, 2, 17),
            "end_date": date(1971, 3, 14),
            "initial_category": "PHY",
            "latest_category": "PHY",
            "plan_seq": 1,
            "previous_plans": 10,
        }
    ]
    child = warehouse.ibis.table("cin_child").to_pyarrow().to_pylist()[0]
    assert child["upn"] is None and child["upn_raw"] == "A123456789123"


def test_loading_the_same_file_twice_changes_nothing(warehouse: Warehouse, fixtures: Path) -> None:
    path = fixtures / "cin-census/fake_CIN_data.xml"
    (first,) = ingest(warehouse, [path])
    assert first.status == "loaded"
    before = _counts(warehouse)
    assert before["cin_child"] == 332 and before["cin_episode"] == 402
    (second,) = ingest(warehouse, [path])
    assert (second.status, second.format, second.period) == ("already loaded", "cin_census", "2022")
    assert second.sha256 == first.sha256
    assert _counts(warehouse) == before


def test_a_truncated_file_leaves_the_warehouse_as_it_was(
    warehouse: Warehouse, fixtures: Path, tmp_path: Path
) -> None:
    ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
    before = _counts(warehouse)
    whole = (fixtures / "cin-census/fake_CIN_data.xml").read_text(encoding="utf-8")
    truncated = tmp_path / "cin_census_2022.xml"
    truncated.write_text(whole[: len(whole) // 2], encoding="utf-8")
    (result,) = ingest(warehouse, [truncated])
    assert result.status == "failed"
    assert str(truncated) in (result.message or "")
    assert "line" in (result.message or "")
    assert result.findings.counts == {"unreadable_file": 1}
    assert result.findings.severity == {"unreadable_file": "fatal"}
    assert _counts(warehouse) == before


def test_a_failure_while_writing_rolls_the_whole_file_back(
    warehouse: Warehouse, fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _counts(warehouse)
    real_insert = Warehouse.insert_arrow
    calls = []

    def failing_insert(self: Warehouse, table_name: str, table: pa.Table) -> int:
        calls.append(table_name)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_insert(self, table_name, table)

    monkeypatch.setattr(Warehouse, "insert_arrow", failing_insert)
    (result,) = ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
    assert result.status == "failed"
    assert "disk full" in (result.message or "")
    assert _counts(warehouse) == before  # no loads row, no cin_child, no cin_episode
    monkeypatch.undo()
    (retry,) = ingest(warehouse, [fixtures / "cin-census/BAR_cin_2022.xml"])
    assert retry.status == "loaded"


def test_csv_missing_a_required_column_names_file_and_column(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "establishments.csv"
    path.write_text("laestab,urn,phase\n2012001,100001,Primary\n", encoding="utf-8")
    (result,) = ingest(warehouse, [path])
    assert result.status == "failed"
    assert str(path) in (result.message or "")
    assert "establishment_name" in (result.message or "")
    assert _counts(warehouse)["loads"] == 0


def test_ingest_a_la_folder(warehouse: Warehouse, fixtures: Path, tmp_path: Path) -> None:
    folder = _la_folder(fixtures, tmp_path / "la")
    progress: list[tuple[str, int, int]] = []
    results = ingest(warehouse, [folder], progress=lambda *step: progress.append(step))
    by_name = {result.file.name: result for result in results}
    assert "child_pupil.csv" not in by_name  # truth/ is never read
    assert by_name["cin_census_2022.xml"].status == "loaded"
    header = by_name["header.csv"]
    assert (header.status, header.period, header.rows) == ("loaded", "2017", {"cla_child": 2675})
    exclusions = by_name["2024_autumn_termlyexclusionsoffroll.csv"]
    assert exclusions.rows == {"pupil_exclusion": 318}
    assert by_name["2024_autumn_addressesoffroll.csv"].status == "skipped"
    assert progress[-1] == ("Loaded", 4, 4)
    assert [step[1] for step in progress] == [0, 1, 2, 3, 4]
    assert warehouse.execute(
        "SELECT count(*), min(collection_year) FROM cla_child WHERE sex = 'F'"
    ) == [(1342, 2017)]
    assert warehouse.execute(
        "SELECT category, count(*) FROM pupil_exclusion GROUP BY 1 ORDER BY 1"
    ) == [
        ("LNCH", 76),
        ("PERM", 127),
        ("SUSP", 115),  # written FIXD
    ]


def test_check_reads_without_loading(fixtures: Path, tmp_path: Path) -> None:
    folder = _la_folder(fixtures, tmp_path / "la")
    results = check([folder])
    assert {r.file.name: r.status for r in results} == {
        "cin_census_2022.xml": "checked",
        "header.csv": "checked",
        "2024_autumn_termlyexclusionsoffroll.csv": "checked",
        "2024_autumn_addressesoffroll.csv": "skipped",
    }
    assert next(r for r in results if r.file.name == "header.csv").rows == {"cla_child": 2675}


def test_the_warehouse_file_persists(fixtures: Path, tmp_path: Path) -> None:
    path = tmp_path / "var" / "warehouse.duckdb"
    with Warehouse.open(path) as first:
        ingest(first, [fixtures / "cin-census/BAR_cin_2022.xml"])
    with Warehouse.open(path) as second:
        assert second.execute("SELECT la_child_id FROM cin_child") == [("DFEX0000001",)]
        (again,) = ingest(second, [fixtures / "cin-census/BAR_cin_2022.xml"])
        assert again.status == "already loaded"


def test_transaction_rolls_back_on_error(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError), warehouse.transaction():
        warehouse.execute("INSERT INTO loads (load_id, sha256) VALUES (1, 'x')")
        raise ValueError("stop")
    assert warehouse.execute("SELECT count(*) FROM loads") == [(0,)]


def test_a_missing_file_is_reported_not_raised(warehouse: Warehouse, tmp_path: Path) -> None:
    missing = tmp_path / "ks2_2024.csv"
    (result,) = ingest(warehouse, [missing])
    assert result.status == "failed"
    assert str(missing) in (result.message or "")
