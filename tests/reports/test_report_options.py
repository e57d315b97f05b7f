"""`cwsw report` options: trends over years and terms, a termly report, DfE's figures beside
the LA's, the formats asked for, and clear errors when there is nothing to report on."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pytest
from lxml import html
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.indicators.export import disclosed_export
from cwsw.indicators.marts import MART, MART_COLUMNS
from cwsw.indicators.measures import BY_NAME
from cwsw.reports import vsh
from cwsw.warehouse.connection import Warehouse
from tests.reports.test_vsh_report import THRESHOLD, Expected

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

runner = CliRunner()
DUCKDB_TYPES = {"string": "VARCHAR", "date": "DATE", "float64": "DOUBLE", "timestamp": "TIMESTAMP"}


@pytest.fixture(scope="module")
def two_years(built_la: BuiltLA) -> pd.DataFrame:
    """The synthetic LA's headline rows (no breakdowns), and the same rows a year earlier
    with larger figures (so the two years differ)."""
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        mart = warehouse.ibis.table(MART).execute()
    latest = mart[mart.breakdown == "total"].copy()
    earlier = latest.copy()
    for column in ("academic_year", "period"):
        earlier[column] = earlier[column].str.replace("2024/25", "2023/24")
    earlier["reference_date"] = pd.Timestamp("2024-03-31")
    # Every base (a measure's denominator) grows by a quarter, every other figure by a third,
    # so each quantity is the same figure wherever it appears and the rates change too.
    bases = set(earlier.denominator_quantity)
    for column in ("numerator", "denominator"):
        factor = [1.25 if q in bases else 4 / 3 for q in earlier[f"{column}_quantity"]]
        earlier[column] = (earlier[column] * factor).round()
    earlier["value"] = [
        BY_NAME[m].value(n, d)
        for m, n, d in zip(earlier.measure, earlier.numerator, earlier.denominator, strict=True)
    ]
    return pd.concat([earlier, latest], ignore_index=True)


@pytest.fixture(scope="module")
def home(two_years: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only those marts."""
    home = tmp_path_factory.mktemp("report-home")
    columns = ", ".join(f"{n} {DUCKDB_TYPES[t]}" for n, t in MART_COLUMNS.items())
    with Warehouse.open(home / "warehouse.duckdb") as warehouse:
        warehouse.execute(f"CREATE TABLE {MART} ({columns})")
        frame = two_years[list(MART_COLUMNS)]
        warehouse.insert_arrow(MART, pa.Table.from_pandas(frame, preserve_index=False))
    return home


def _cells(table: vsh.ReportTable) -> dict[tuple[str, str], vsh.Figure]:
    return {
        (row.key, column.field): figure
        for row in table.rows
        for column, figure in zip(table.columns, row.figures, strict=True)
    }


def _source(figure: vsh.Figure) -> dict[str, str]:
    s = figure.source
    return {
        "period": s.period,
        "measure": s.measure,
        "cohort": s.cohort,
        "breakdown": s.breakdown,
        "breakdown_value": s.breakdown_value,
        "figure": s.kind,
    }


def test_trends_by_year_and_by_term(two_years: pd.DataFrame) -> None:
    expected = Expected(two_years)
    report = vsh.build_report(disclosed_export(two_years, threshold=THRESHOLD), threshold=5)
    assert report.academic_year == "2024/25"
    tables = {t.key: t for _, t in report.tables}
    by_year = tables["persistent_absence-by-year"]
    assert [r.label for r in by_year.rows] == ["2023/24", "2024/25"]
    by_term = tables["overall_absence-by-term"]
    assert [r.label for r in by_term.rows] == [
        "2024/25 autumn term",
        "2024/25 spring term",
        "2024/25 summer term",
    ]
    for table in (by_year, by_term, tables["attendance"]):
        for figure in _cells(table).values():
            assert figure.text == expected.text(_source(figure))
    years = [by_year.rows[0].figures[-1].text, by_year.rows[1].figures[-1].text]
    assert years[0] != years[1]  # the two years' own figures, not one repeated
    assert by_year.chart is not None and by_year.chart.spec["layer"][0]["mark"]["type"] == "line"
    # The earlier year's report has no later year in its trend.
    earlier = vsh.build_report(
        disclosed_export(two_years, threshold=THRESHOLD), threshold=5, period="2023/24"
    )
    assert "persistent_absence-by-year" not in {t.key for _, t in earlier.tables}
    # A spring-term report: its attendance is the spring term's, its term trend stops there.
    spring = vsh.build_report(
        disclosed_export(two_years, threshold=THRESHOLD), threshold=5, period="2024/25 spring term"
    )
    spring_tables = {t.key: t for _, t in spring.tables}
    assert [r.label for r in spring_tables["overall_absence-by-term"].rows] == [
        "2024/25 autumn term",
        "2024/25 spring term",
    ]
    attendance = _cells(spring_tables["attendance"])
    assert {f.source.period for f in attendance.values()} == {"2024/25 spring term"}
    for figure in attendance.values():
        assert figure.text == expected.text(_source(figure))


def test_a_termly_report_from_the_cli(home: Path, two_years: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["report", "--out", str(out), "--period", "2024/25 autumn term", "--format", "html,xlsx"],
        env={"CWSW_HOME": str(home), "CWSW_WAREHOUSE": str(home / "warehouse.duckdb")},
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert written == ["vsh-report-2024-25-autumn-term.html", "vsh-report-2024-25-autumn-term.xlsx"]
    page = html.parse(str(out / written[0])).getroot()
    caption = page.get_element_by_id("table-attendance").xpath("./caption")[0].text_content()
    assert caption == "Absence by cohort, 2024/25 autumn term"
    cell = page.xpath('//td[@data-testid="cell-All pupils-overall_absence"]')[0]
    assert cell.get("data-period") == "2024/25 autumn term"
    # Its term trend stops at its own term: the autumn term alone makes no trend.
    assert not page.xpath('//table[@id="table-overall_absence-by-term"]')
    expected = Expected(two_years)
    assert cell.text_content() == expected.text(
        {
            "period": "2024/25 autumn term",
            "measure": "overall_absence",
            "cohort": "All pupils",
            "breakdown": "total",
            "breakdown_value": "All",
            "figure": "value",
        }
    )


def test_an_unknown_period_or_format_is_refused(home: Path, tmp_path: Path) -> None:
    env = {"CWSW_HOME": str(home), "CWSW_WAREHOUSE": str(home / "warehouse.duckdb")}
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--period", "2019/20"], env=env)
    assert result.exit_code == 1
    assert "no marts for period '2019/20'" in result.output and "2023/24" in result.output
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--format", "docx"], env=env)
    assert result.exit_code == 1 and "unknown report format docx" in result.output
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--la-code", "800"], env=env)
    assert result.exit_code == 1 and "--la-code needs --benchmarks" in result.output
    missing = tmp_path / "no-files"
    missing.mkdir()
    result = runner.invoke(
        app, ["report", "--out", str(tmp_path), "--benchmarks", str(missing)], env=env
    )
    assert result.exit_code == 1 and "no DfE benchmark files in" in result.output


def test_no_marts_says_run_build_first(tmp_path: Path) -> None:
    env = {"CWSW_HOME": str(tmp_path), "CWSW_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    result = runner.invoke(app, ["report", "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 1 and "run `cwsw build` first" in result.output
    with Warehouse.open(tmp_path / "warehouse.duckdb"):
        pass  # a warehouse with nothing built in it
    result = runner.invoke(app, ["report", "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 1
    assert "no marts have been built: run `cwsw build` first" in result.output
    assert not (tmp_path / "out").exists()


def _published_national(path: Path, group: str, column: str) -> str:
    """DfE's national figure for 2024/25, read straight from the EES file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if (
                row["time_period"] == "202425"
                and row["geographic_level"] == "National"
                and row["social_care_group"] == group
                and row.get("phase_type_grouping", "Total") == "Total"
            ):
                return row[column]
    raise AssertionError("not found")


def test_england_region_and_neighbours_beside_the_la(
    two_years: pd.DataFrame, fixtures_dir: Path
) -> None:
    folder = fixtures_dir / "dfe-outcomes"
    published, neighbours = vsh.load_published(folder)
    report = vsh.build_report(
        disclosed_export(two_years, threshold=THRESHOLD),
        threshold=5,
        published=published,
        la_code="800",
        neighbours=neighbours,
    )
    tables = {t.key: t for _, t in report.tables}
    table = tables["persistent_absence-benchmark"]
    assert [c.heading for c in table.columns] == [
        "This local authority",
        "England (2024/25)",
        "Region (2024/25)",
        "Statistical neighbours (2024/25)",
    ]
    cells = _cells(table)
    england = _published_national(
        folder / "absence_la.csv", "CINO at 31 March", "pt_pupils_pa_10_exact"
    )
    assert float(cells[("CINO", "england")].text) == pytest.approx(float(england))
    assert cells[("CINO", "england")].text == f"{float(england):.1f}"
    assert cells[("CINO", "region")].number is not None
    assert cells[("CINO", "statistical-neighbours")].number is not None
    # The LA's own column is its disclosed mart figure.
    expected = Expected(two_years)
    assert cells[("CINO", "this-local-authority")].text == expected.text(
        _source(cells[("CINO", "this-local-authority")])
    )


def test_a_configured_cohort_is_reported_before_the_comparators(two_years: pd.DataFrame) -> None:
    mine = two_years[two_years.cohort == "CINO"].copy()
    mine["cohort"], mine["cohort_kind"] = "CINO or CPPO (configured)", "combine"
    mart = pd.concat([two_years, mine], ignore_index=True)
    expected = Expected(mart)
    report = vsh.build_report(disclosed_export(mart, threshold=THRESHOLD), threshold=5)
    table = {t.key: t for _, t in report.tables}["attendance"]
    keys = [r.key for r in table.rows]
    assert keys[-3:] == ["CINO or CPPO (configured)", "Not CIN in last 6 years", "All pupils"]
    row = table.rows[-3]
    assert row.label == "CINO or CPPO (configured)"
    for figure in row.figures:
        assert figure.text == expected.text(_source(figure))
    assert ("CINO or CPPO (configured)", vsh.CONFIGURED) in report.definitions
