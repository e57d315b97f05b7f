"""``cwsw build`` refuses on incomplete returns, naming the return and year (issue 13).

Each cohort needs its returns: six CIN census years for "ever CIN in the last 6 years", the
year before's SSDA903 for "looked after 12 months", the spring census for every figure. A year
that failed to load used to pass silently through ``link`` and ``build`` and shift the
cohorts. The state "a year failed to load" is made from the synthetic LA's built warehouse
(``tests/conftest.py``) by taking one load out, as if it had never been loaded.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cwsw import pipeline
from cwsw.cli import app
from cwsw.cohort.definitions import CohortSpec, parse_cohorts, with_defaults
from cwsw.domain.labels import (
    ALL_PUPILS,
    CIN_IN_YEAR,
    CINO,
    CLA_12_MONTHS,
    COHORT_LABELS,
    CPPO,
    EVER_CIN_6_YEARS,
    NEVER_CIN_6_YEARS,
)
from cwsw.indicators import marts
from cwsw.pipeline import CIN_CENSUS, SPRING_CENSUS, SSDA903, IncompleteReturns, MissingReturn
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.schema import TABLES
from tests.conftest import BuiltLA, linkage_settings

BUILD_YEAR = 2025
# Every default cohort, by what its DfE definition reads (docs/domain.md §2):
# the 31 March groups and the in-year group read the year's CIN census and SSDA903, CLA 12
# months also the year before's SSDA903, ever CIN (and its complement) six CIN years.
EVER_SIX = {EVER_CIN_6_YEARS, NEVER_CIN_6_YEARS}
READ_THIS_YEARS_SSDA903 = {CINO, CPPO, CLA_12_MONTHS, CIN_IN_YEAR}


def _copy(built_la: BuiltLA, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built_la.warehouse_path, copy)
    return copy


def _unload(path: Path, dataset: str, period: str) -> None:
    """Take a load out of the warehouse as if it had never been loaded (a file that failed)."""
    with Warehouse.open(path) as warehouse, warehouse.transaction():
        ((load_id,),) = warehouse.execute(
            "SELECT load_id FROM loads WHERE dataset = ? AND period = ? AND superseded_by IS NULL",
            [dataset, period],
        )
        for table in TABLES:
            if table != "loads":
                warehouse.execute(f'DELETE FROM "{table}" WHERE load_id = ?', [load_id])
        warehouse.execute("DELETE FROM loads WHERE load_id = ?", [load_id])


def _mart(path: Path) -> pd.DataFrame:
    with Warehouse.open(path, read_only=True) as warehouse:
        return warehouse.ibis.table(marts.MART).execute()


def test_the_synthetic_la_has_every_return_its_build_needs(built_la: BuiltLA) -> None:
    """``cwsw synth`` writes six CIN census and SSDA903 years to 2024/25 and the 2025
    censuses: the build of 2024/25 needs nothing more."""
    data = built_la.data_dir
    cin_years = sorted(int(f.stem[-4:]) for f in (data / "cin_census").glob("cin_census_*.xml"))
    ssda903_years = sorted(int(d.name) for d in (data / "ssda903").iterdir())
    assert cin_years == ssda903_years == list(range(BUILD_YEAR - 5, BUILD_YEAR + 1))
    assert (data / "school_census" / f"{BUILD_YEAR}_spring_pupilonroll.csv").exists()
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        dates = pipeline.reference_dates(warehouse)
        assert dates == [dt.date(BUILD_YEAR, 3, 31)]
        assert pipeline.missing_returns(warehouse, dates) == []
        assert pipeline.build_readiness(warehouse).describe() == "ready to build 2024/25"
    assert not _mart(built_la.warehouse_path).source_loads.str.contains("Incomplete").any()


def test_a_cin_year_missing_is_refused_naming_it_and_the_marts_stay(
    built_la: BuiltLA, tmp_path: Path
) -> None:
    copy = _copy(built_la, tmp_path)
    _unload(copy, "cin_census", "2022")
    before = _mart(copy)
    with Warehouse.open(copy) as warehouse, pytest.raises(IncompleteReturns) as refused:
        pipeline.build(warehouse)
    labels = tuple(COHORT_LABELS[c] for c in (EVER_CIN_6_YEARS, NEVER_CIN_6_YEARS))
    assert refused.value.missing == (MissingReturn(BUILD_YEAR, CIN_CENSUS, 2022, labels),)
    message = str(refused.value)
    assert message.startswith(
        "cannot build 2024/25: no CIN census for 2021/22 (the year to 31 March 2022), needed "
        f"by the figures for {labels[0]} and {labels[1]}: "
    )
    assert "`cwsw build --allow-incomplete`" in message and "\n" not in message
    pd.testing.assert_frame_equal(_mart(copy), before)


def test_the_year_before_for_cla_12_months_and_the_spring_census(
    built_la: BuiltLA, tmp_path: Path
) -> None:
    copy = _copy(built_la, tmp_path)
    _unload(copy, "ssda903_episodes", str(BUILD_YEAR - 1))
    with Warehouse.open(copy) as warehouse, pytest.raises(IncompleteReturns) as refused:
        pipeline.build(warehouse)
    assert refused.value.missing == (
        MissingReturn(BUILD_YEAR, SSDA903, BUILD_YEAR - 1, (COHORT_LABELS[CLA_12_MONTHS],)),
    )
    assert "no SSDA903 episodes for 2023/24 (the year to 31 March 2024)" in str(refused.value)

    _unload(copy, "school_census_pupilonroll", f"{BUILD_YEAR}_spring")
    with Warehouse.open(copy) as warehouse, pytest.raises(IncompleteReturns) as refused:
        pipeline.build(warehouse)
    assert refused.value.missing[0] == MissingReturn(BUILD_YEAR, SPRING_CENSUS, BUILD_YEAR)
    assert str(refused.value).startswith(
        "cannot build 2024/25: no spring school census of 2025 (pupils on roll), needed by "
        "every figure; no SSDA903 episodes"
    )


def test_what_each_cohort_needs() -> None:
    """Written from the definitions in ``cwsw.cohort`` (docs/marts.md), not from the code."""
    specs = {
        s.name: s
        for s in with_defaults(
            parse_cohorts(
                {
                    "Ever CP 3": {"kind": "ever", "status": "CP", "years": 3},
                    "Ever CLA 2": {"kind": "ever", "status": "CLA", "years": 2},
                    "Open CIN": {"kind": "open", "status": "CIN"},
                    "CP or CLA": {"any_of": ["Ever CP 3", "Ever CLA 2"]},
                    "CPPO only": {"kind": "at", "groups": [CPPO]},
                }
            )
        )
    }

    def needs(name: str) -> set[tuple[str, int]]:
        return pipeline.returns_needed(specs[name], BUILD_YEAR, specs)

    cin = {(CIN_CENSUS, y) for y in range(2020, 2026)}
    assert needs(EVER_CIN_6_YEARS) == needs(NEVER_CIN_6_YEARS) == cin
    assert needs(CLA_12_MONTHS) == {(CIN_CENSUS, 2025), (SSDA903, 2025), (SSDA903, 2024)}
    assert needs("CPPO only") == needs(CINO) == {(CIN_CENSUS, 2025), (SSDA903, 2025)}
    assert needs(CIN_IN_YEAR) == {(CIN_CENSUS, 2025), (SSDA903, 2025)}
    assert needs("Ever CP 3") == {(CIN_CENSUS, y) for y in (2023, 2024, 2025)}
    assert needs("Ever CLA 2") == {(SSDA903, 2024), (SSDA903, 2025)}
    assert needs("Open CIN") == {(CIN_CENSUS, 2025)}
    assert needs("CP or CLA") == needs("Ever CP 3") | needs("Ever CLA 2")
    assert needs(ALL_PUPILS) == set()


def test_a_configured_cohort_that_does_not_reach_the_gap_is_not_held_back(
    built_la: BuiltLA, tmp_path: Path
) -> None:
    copy = _copy(built_la, tmp_path)
    _unload(copy, "cin_census", "2022")
    specs: tuple[CohortSpec, ...] = parse_cohorts(
        {"Ever CP 3": {"kind": "ever", "status": "CP", "years": 3}}
    )
    with Warehouse.open(copy, read_only=True) as warehouse:
        dates = pipeline.reference_dates(warehouse)
        assert pipeline.missing_returns(warehouse, dates, specs) == []
        assert len(pipeline.missing_returns(warehouse, dates, with_defaults(specs))) == 1


runner = CliRunner()


def test_cli_build_refuses_then_builds_anyway_and_every_output_says_so(
    built_la: BuiltLA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy(built_la, tmp_path)
    _unload(copy, "cin_census", "2022")
    monkeypatch.setenv("CWSW_HOME", str(tmp_path))
    monkeypatch.setenv("CWSW_WAREHOUSE", str(copy))

    refused = runner.invoke(app, ["build"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    (line,) = [x for x in refused.stderr.splitlines() if x.strip()]
    assert line.startswith("Error: cannot build 2024/25: no CIN census for 2021/22")

    built = runner.invoke(app, ["build", "--allow-incomplete"])
    assert built.exit_code == 0, built.output
    note = (
        "Incomplete returns: no CIN census for 2021/22 (the year to 31 March 2022): the figures "
        f"for {COHORT_LABELS[EVER_CIN_6_YEARS]} and {COHORT_LABELS[NEVER_CIN_6_YEARS]} rest on "
        "incomplete data"
    )
    assert f"Warning: {note}" in built.stderr
    mart = _mart(copy)
    flagged = mart.source_loads.str.split(",").map(lambda entries: note in entries)
    assert set(mart.cohort[flagged]) == EVER_SIX
    assert flagged[mart.cohort.isin(EVER_SIX)].all()  # every figure of those cohorts
    assert set(mart.cohort[~flagged]) == set(mart.cohort) - EVER_SIX

    exported = runner.invoke(app, ["export", "marts", "--out", str(tmp_path / "export")])
    assert exported.exit_code == 0, exported.output
    csv = pd.read_csv(tmp_path / "export" / "marts.csv", dtype=str)
    assert set(csv.cohort[csv.source_loads.str.contains(note, regex=False)]) == EVER_SIX

    with Warehouse.open(copy, read_only=True) as warehouse:
        written = pipeline.report(warehouse, tmp_path / "report", 5, formats=["html"])
    assert f"{note}, for the 2024/25 figures" in written["html"].read_text(encoding="utf-8")


def test_link_warns_of_a_gap_in_the_series(built_la: BuiltLA, tmp_path: Path) -> None:
    copy = _copy(built_la, tmp_path)
    _unload(copy, "cin_census", "2022")
    with Warehouse.open(copy) as warehouse:
        linked = pipeline.link(warehouse, linkage_settings(tmp_path))
    assert linked.gaps == ("cin_census: 2022 missing (loaded 2020 to 2025)",)
