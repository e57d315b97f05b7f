"""One test over everything: the report, the export and the insight pages show the same value,
in the same order, for every figure of the synthetic LA's marts.

The synthetic LA (``tests/conftest.py``: ``cwsw synth`` run through ingest, link, build and
report) is read by each consumer as a reader would: the VSH report's HTML (every table cell
names the mart row it stands for), ``cwsw export marts``'s CSV, and every insight page (each
measure by each breakdown, the dashboard's headline, trend and absence tables, the overlaps
and the school list) through Django's test client as the Virtual School Head, who sees
suppressed figures, as the report and the export give them. Each figure is then compared with
the one model (:mod:`cwsw.indicators.figures` over ``disclosed_export`` of the mart) and with
the other consumers: a consumer that rounded, labelled a symbol or ordered rows or columns
its own way fails here. The model's own orders are checked against DfE's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from django.test import Client
from lxml import html

from cwsw.indicators.export import export_marts, read_disclosed_export
from cwsw.indicators.figures import (
    SHARE,
    TIMES_ALL_PUPILS,
    TIMES_NOT_CIN,
    VALUE,
    DisclosedFigures,
    Figure,
    period_sort_key,
)
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

pytestmark = pytest.mark.django_db

THRESHOLD = 5
Key = tuple[str, str, str, str, str]  # period, measure, cohort, breakdown, breakdown value
RATIOS = (TIMES_ALL_PUPILS, TIMES_NOT_CIN)


@dataclass
class Shown:
    """What one consumer showed: each figure's text by (mart key, kind), and the order of the
    rows and columns of each of its tables."""

    name: str
    texts: dict[tuple[Key, str], str] = field(default_factory=dict)
    tables: list[tuple[str, list[list[tuple[Key, str]]]]] = field(default_factory=list)

    def add(self, key: Key, kind: str, text: str, where: str) -> None:
        found = self.texts.setdefault((key, kind), text)
        assert found == text, f"{self.name} shows {key} {kind} as {found} and {text} ({where})"


def _all(node: Any, path: str) -> list[Any]:
    """The elements an XPath finds."""
    return list(node.xpath(path))


def _text(td: Any) -> tuple[str, str]:
    """A cell's id and text."""
    return str(td.get("data-testid")), str(td.text_content()).strip()


def _cells(table: Any, attrs: dict[str, str]) -> list[list[tuple[Key, str, str]]]:
    """A table's figure cells, row by row: (key, kind, text)."""
    rows = []
    for tr in _all(table, "./tbody/tr"):
        cells = []
        for td in _all(tr, "./td[@data-measure]"):
            period, measure, cohort, breakdown, value = (
                str(td.get(attrs[name]))
                for name in ("period", "measure", "cohort", "breakdown", "value")
            )
            key: Key = (period, measure, cohort, breakdown, value)
            cells.append((key, str(td.get(attrs["kind"])), str(td.text_content()).strip()))
        if cells:
            rows.append(cells)
    return rows


def read_tables(shown: Shown, page: str, attrs: dict[str, str], where: str) -> None:
    root = html.fromstring(page)
    for table in _all(root, "//table"):
        rows = _cells(table, attrs)
        if not rows:
            continue
        name = table.get("id") or table.get("data-testid") or ""
        for row in rows:
            for key, kind, text in row:
                shown.add(key, kind, text, f"{where} {name}")
        shown.tables.append((name, [[(k, kind) for k, kind, _ in row] for row in rows]))


REPORT = {
    "period": "data-period",
    "measure": "data-measure",
    "cohort": "data-cohort",
    "breakdown": "data-breakdown",
    "value": "data-breakdown-value",
    "kind": "data-figure",
}
PAGES = REPORT | {"value": "data-value", "kind": "data-kind"}


@pytest.fixture(scope="module")
def model(built_la: BuiltLA) -> DisclosedFigures:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        disclosed = read_disclosed_export(warehouse, threshold=THRESHOLD)
    assert disclosed is not None
    return DisclosedFigures(disclosed)


@pytest.fixture(scope="module")
def report(built_la: BuiltLA) -> Shown:
    shown = Shown("the report")
    read_tables(shown, built_la.report_path.read_text(encoding="utf-8"), REPORT, "report")
    return shown


@pytest.fixture(scope="module")
def export(built_la: BuiltLA, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("export")
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        export_marts(warehouse, out, threshold=THRESHOLD)
    return pd.read_csv(out / "marts.csv", dtype=str, keep_default_na=False)


@pytest.fixture()
def pages(built_la: BuiltLA, model: DisclosedFigures, settings: Any) -> tuple[Shown, str]:
    """Every insight page of the newest year, as the VSH sees it; and the dashboard's HTML."""
    from cwsw.web.accounts.models import Role, User

    settings.CWSW = replace(
        settings.CWSW, warehouse_path=built_la.warehouse_path, suppression_threshold=THRESHOLD
    )
    client = Client()
    client.force_login(User.objects.create_user("vsh", role=Role.VSH.value))
    year = model.academic_years[-1]
    shown = Shown("the pages")
    urls = [f"/?year={year}", f"/schools/?year={year}"]
    for measure in model.measures():
        urls.append(f"/?year={year}&measure={measure.name}")
        urls.append(f"/overlaps/?year={year}&measure={measure.name}")
        for breakdown in sorted(model.breakdowns - {"total"}):
            urls.append(f"/breakdowns/?year={year}&measure={measure.name}&breakdown={breakdown}")
    dashboard = ""
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        dashboard = dashboard or text
        read_tables(shown, text, PAGES, url)
    return shown, dashboard


def _expected(model: DisclosedFigures, key: Key, kind: str) -> Figure:
    if kind == SHARE:  # a part's share of its cohort, from the two disclosed counts
        return model.share(*key)
    return model.figure(*key, kind=kind)


def test_report_export_and_pages_show_the_same_figures_in_the_same_order(
    model: DisclosedFigures,
    report: Shown,
    export: pd.DataFrame,
    pages: tuple[Shown, str],
    report_cells: list[tuple[str, str]],
) -> None:
    shown_pages, dashboard = pages
    # -- every figure each consumer shows is the one model's ------------------------------------
    exported: dict[tuple[Key, str], str] = {}
    records: list[dict[Any, str]] = export.to_dict("records")
    for row in records:
        key: Key = (
            row["period"],
            row["measure"],
            row["cohort"],
            row["breakdown"],
            row["breakdown_value"],
        )
        exported[(key, VALUE)] = row["value"]
        for kind in RATIOS:
            exported[(key, kind)] = row[kind]
    assert len(exported) == 3 * len(export) > 10_000
    for (key, kind), text in exported.items():
        expected = _expected(model, key, kind)
        want = expected.plain if kind == VALUE or expected.is_shown else ""
        assert text == want, ("the export", key, kind, text, want)
    for consumer in (report, shown_pages):
        assert len(consumer.texts) > 400, consumer.name
        for (key, kind), text in consumer.texts.items():
            want = _expected(model, key, kind).text
            assert text == want, (consumer.name, key, kind, text, want)
    # -- so the same figure reads the same everywhere (the export without thousands commas; a
    # figure the marts lack is x in a table and has no row in the export) ----------------------
    both = set(report.texts) & set(shown_pages.texts)
    assert len(both) > 300
    for same in both:
        text = report.texts[same]
        assert text == shown_pages.texts[same], same
        if same not in exported:
            assert text == "x", same
        elif same[1] == VALUE or text not in ("c", "x", "z"):
            assert text.replace(",", "") == exported[same], same
        else:
            assert exported[same] == "", same
    for consumer in (report, shown_pages):
        for shown, text in consumer.texts.items():
            assert shown in exported or shown[1] == SHARE or text == "x", (consumer.name, shown)
    # -- every measure, cohort and breakdown of the marts is on the pages; the report's in the
    # export, with every section's kind of figure ---------------------------------------------
    in_marts = {(m, c, b) for (_, m, c, b, _), _kind in exported}
    on_pages = {(k[1], k[2], k[3]) for k, _ in shown_pages.texts}
    assert in_marts == on_pages, sorted(in_marts - on_pages)[:10]
    assert {kind for _, kind in shown_pages.texts} >= {VALUE, *RATIOS, SHARE}
    assert {kind for _, kind in report.texts} >= {VALUE, *RATIOS}
    periods = {k[0] for k, _ in shown_pages.texts}
    assert periods == set(model.frame.period)
    _same_order(model, report, shown_pages, export)
    _same_absence_table(dashboard, report_cells)


def _same_order(model: DisclosedFigures, report: Shown, pages: Shown, export: pd.DataFrame) -> None:
    """Rows and columns in the one model's order in every table of the report and the pages,
    and the export's rows in that order too."""
    cohorts = model.cohorts()
    checked: dict[str, int] = defaultdict(int)
    for consumer in (report, pages):
        for name, rows in consumer.tables:
            values = [row[0][0] for row in rows]  # each row's first figure's key
            row_breakdowns = {k[3] for k in values}
            row_periods = [k[0] for k in values]
            row_cohorts = [k[2] for k in values]
            if len(row_breakdowns) == 1 and "total" not in row_breakdowns:
                (period, measure, _, breakdown, _) = values[0]
                found = [k[4] for k in values]
                expected = model.breakdown_values(period, breakdown, measure)
                want = [v for v in expected if v in found]
                assert found == want, (consumer.name, name, found, want)
                checked[f"{consumer.name}: breakdown values"] += 1
            elif len(set(row_periods)) == len(row_periods) > 1:
                assert row_periods == sorted(row_periods, key=period_sort_key), name
                checked[f"{consumer.name}: periods"] += 1
            elif len(set(row_cohorts)) == len(row_cohorts) > 1:
                assert row_cohorts == [c for c in cohorts if c in row_cohorts], name
                checked[f"{consumer.name}: cohort rows"] += 1
            for row in rows:
                # A table with a column per cohort (a breakdown, a trend, the overlaps' counts):
                # the cohorts in the one order. (The headline tables pair each comparator with
                # its "times as likely", and the report's cohort tables have a row per cohort.)
                if {kind for _, kind in row} - {VALUE, SHARE} or len({k[1] for k, _ in row}) > 1:
                    continue
                columns = list(dict.fromkeys(k[2] for k, _ in row))
                if len(columns) > 1:
                    assert columns == [c for c in cohorts if c in columns], (name, columns)
                    checked[f"{consumer.name}: cohort columns"] += 1
    for what in ("breakdown values", "periods", "cohort rows", "cohort columns"):
        assert checked[f"the report: {what}"] > 0, what
    # Every measure by every breakdown; the absence measures by term; the cohorts' columns.
    for what, least in (("breakdown values", 200), ("periods", 5), ("cohort columns", 1000)):
        assert checked[f"the pages: {what}"] >= least, (what, checked)
    # The export: periods, measures, cohorts and each breakdown's values in the same order.
    first_seen = export.drop_duplicates(["period", "measure", "breakdown", "breakdown_value"])
    for group, part in first_seen.groupby(["period", "measure", "breakdown"], sort=False):
        at, of, by = (str(name) for name in group)
        assert list(part.breakdown_value) == list(model.breakdown_values(at, by, of)), group
    for _, part in export.groupby(["period", "measure", "breakdown", "breakdown_value"]):
        assert list(part.cohort) == [c for c in cohorts if c in set(part.cohort)]
    order = list(dict.fromkeys(export.period))
    assert order == sorted(order, key=period_sort_key)
    # The model's orders are DfE's.
    year = model.academic_years[-1]
    assert model.breakdown_values(year, "sen") == (
        "No SEN",
        "SEN support",
        "EHC plan",
        "Unknown",
    )
    assert model.breakdown_values(year, "phase", "pupils")[:3] == (
        "Primary",
        "Secondary",
        "Special",
    )
    assert model.breakdown_values(year, "nc_year")[:3] == ("R", "1", "2")
    assert model.breakdown_values(year, "fsm_sen") == (
        "FSM and SEN",
        "FSM, no SEN",
        "SEN, not FSM",
        "Neither FSM nor SEN",
    )
    assert cohorts[:3] == ("CINO", "CPPO", "CLA 12 months")
    assert cohorts[-2:] == ("Not CIN in last 6 years", "All pupils")
    assert model.periods("overall_absence") == (
        year,
        f"{year} autumn term",
        f"{year} spring term",
        f"{year} summer term",
    )


@pytest.fixture(scope="module")
def report_cells(built_la: BuiltLA) -> list[tuple[str, str]]:
    root = html.parse(str(built_la.report_path)).getroot()
    return [_text(td) for td in _all(root, "//table[@id='table-attendance']//td")]


def _same_absence_table(dashboard: str, report_cells: list[tuple[str, str]]) -> None:
    """The dashboard's absence table is the report's attendance table's first columns: the
    same cells (``cell-<cohort>-<field>``), texts and rows, in the same order."""
    page = html.fromstring(dashboard)
    on_page = [_text(td) for td in _all(page, "//table[@data-testid='absence-table']//td")]
    ids = {testid for testid, _ in on_page}
    assert on_page == [(testid, text) for testid, text in report_cells if testid in ids]
    assert len(on_page) == 5 * len({t.rsplit("-", 1)[0] for t, _ in on_page}) > 30
