"""The insight pages: dashboard, breakdowns, overlaps and schools (ADR 0010).

Checked against a mart written straight into a warehouse file (random figures, with many
counts of 1 to 5) and disclosed here through :func:`disclosed_mart` independently of the
pages: every figure on every page equals the disclosed mart's; no page of a role that sees
suppressed figures shows a count of 1 to 5; the analyst sees the unsuppressed mart; a DSL sees
only their own school; disclosure control runs once per warehouse build (not per request) and
again after a rebuild.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import pytest
from django.test import Client

from cwsw.indicators import disclosure, insight, marts
from cwsw.indicators.figures import compared_as_ratio
from cwsw.indicators.measures import BY_NAME, MEASURES
from cwsw.indicators.rounding import round_half_up
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.snapshot import WarehouseUnavailable
from cwsw.web.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

THRESHOLD = 5
SCHOOLS = {"9990001": "Ash Primary", "9990002": "Beech Academy", "9990003": "Cedar School"}
DSL_SCHOOL = "9990001"
YEARS = {"2023/24": dt.date(2024, 3, 31), "2024/25": dt.date(2025, 3, 31)}
COHORTS = {  # cohort -> (kind, complement_of)
    "CINO": ("at", ""),
    "CPPO": ("at", ""),
    "CLA 12 months": ("at", ""),
    "CIN at any point in the year": ("in_year", ""),
    "Ever CIN last 6 years": ("ever", ""),
    "Not CIN in last 6 years": ("not", "Ever CIN last 6 years"),
    "All pupils": ("all", ""),
}
BREAKDOWN_VALUES = {
    "total": ["All"],
    "school": list(SCHOOLS),
    "sen": ["No SEN", "SEN support", "EHC plan"],
    "fsm_sen": ["FSM and SEN", "FSM, no SEN", "SEN, not FSM", "Neither FSM nor SEN"],
    "social_care_group": ["CLA 12 months", "CPPO", "CINO", "Not in a group"],
}
COUNT_QUANTITIES = {"enrolments", "pupils", "ks2_pupils", "ks4_pupils", "p8_pupils"}
PAGES = ("/", "/breakdowns/", "/overlaps/", "/schools/")
SUPPRESSED_ROLES = ("vsh", "adviser", "advisory_teacher", "school_dsl", "admin")


def _quantity(name: str, base: int, rng: random.Random) -> float:
    """A random figure for a quantity, given the cell's number of pupils ``base``."""
    if name in COUNT_QUANTITIES:
        return float(base)
    if name.startswith("sessions_"):
        return float(base * (300 if name == "sessions_possible" else rng.randint(5, 40)))
    if name == "att8_points":
        return round(base * rng.uniform(15, 50), 1)
    if name == "p8_points":
        return round(base * rng.uniform(-1.5, 0.5), 2)
    if name == "suspensions":
        return float(rng.randint(0, 2 * base))
    return float(rng.randint(0, base))


def make_mart(seed: int) -> pd.DataFrame:
    """Mart rows for two years: every measure x cohort x breakdown value, absence by term too.

    Figures are random (a quarter of the cells have 1 to 5 pupils) and need not add up:
    disclosure control's patterns follow the relations between figures, not their values.
    """
    rng = random.Random(seed)
    built_at = dt.datetime(2026, 12, 1, 9, 0)
    rows = []
    for year, reference in YEARS.items():
        periods = [(year, "year")] + [
            (f"{year} {term} term", "term") for term in ("autumn", "spring", "summer")
        ]
        for period, period_type in periods:
            for cohort, (kind, complement) in COHORTS.items():
                for breakdown, values in BREAKDOWN_VALUES.items():
                    if period_type == "term" and breakdown != "total":
                        continue
                    for value in values:
                        base = rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 20, 35, 60, 150, 400])
                        figures: dict[str, float] = {}
                        for measure in MEASURES:
                            if period_type == "term" and measure.population != "enrolments":
                                continue
                            for name in (measure.numerator, measure.denominator):
                                figures.setdefault(name, _quantity(name, base, rng))
                            numerator = figures[measure.numerator]
                            denominator = figures[measure.denominator]
                            rows.append(
                                {
                                    "academic_year": year,
                                    "period": period,
                                    "period_type": period_type,
                                    "reference_date": reference,
                                    "population": measure.population,
                                    "measure": measure.name,
                                    "cohort": cohort,
                                    "cohort_kind": kind,
                                    "complement_of": complement,
                                    "breakdown": breakdown,
                                    "breakdown_value": value,
                                    "numerator": numerator,
                                    "denominator": denominator,
                                    "value": measure.value(numerator, denominator),
                                    "numerator_quantity": measure.numerator,
                                    "denominator_quantity": measure.denominator,
                                    "definition_version": "test",
                                    "source_loads": "school_census.csv (abc),cin_census.xml (def)",
                                    "built_at": built_at,
                                }
                            )
    return pd.DataFrame(rows, columns=list(marts.MART_COLUMNS))


def write_warehouse(path: Path, mart: pd.DataFrame) -> None:
    """(Re)write the warehouse's mart and establishments, as ``cwsw build`` replaces rows."""
    with Warehouse.open(path) as warehouse:
        warehouse.execute(
            "CREATE TABLE IF NOT EXISTS establishment (load_id INTEGER, laestab VARCHAR, "
            "urn VARCHAR, establishment_name VARCHAR, phase VARCHAR)"
        )
        warehouse.execute("DELETE FROM establishment")
        for laestab, name in SCHOOLS.items():
            warehouse.execute(
                "INSERT INTO establishment VALUES (1, ?, '1', ?, 'Primary')", [laestab, name]
            )
        warehouse.execute(f"DROP TABLE IF EXISTS {marts.MART}")
        columns = ", ".join(
            f"{name} {'TIMESTAMP' if t == 'timestamp' else 'DATE' if t == 'date' else 'DOUBLE' if t == 'float64' else 'VARCHAR'}"  # noqa: E501
            for name, t in marts.MART_COLUMNS.items()
        )
        warehouse.execute(f"CREATE TABLE {marts.MART} ({columns})")
        warehouse.insert_arrow(marts.MART, pa.Table.from_pandas(mart, preserve_index=False))


@pytest.fixture(scope="module")
def mart() -> pd.DataFrame:
    return make_mart(seed=2026)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, mart: pd.DataFrame) -> Path:
    """One warehouse file for the module's read-only tests (so its cache entry is shared)."""
    path = tmp_path_factory.mktemp("insight") / "warehouse.duckdb"
    write_warehouse(path, mart)
    return path


def point_at(settings: Any, path: Path) -> Path:
    settings.CWSW = replace(settings.CWSW, warehouse_path=path, suppression_threshold=THRESHOLD)
    return path


@pytest.fixture
def site(settings: Any, warehouse: Path) -> Path:
    return point_at(settings, warehouse)


def _key(row: Any) -> tuple[str, ...]:
    """A mart row's (period, measure, cohort, breakdown, breakdown value): strings, though
    pandas-stubs types an ``itertuples()`` row's fields as any scalar."""
    return cast(
        "tuple[str, ...]", (row.period, row.measure, row.cohort, row.breakdown, row.breakdown_value)
    )


@pytest.fixture(scope="module")
def disclosed(mart: pd.DataFrame) -> dict[bool, dict[tuple[str, ...], Any]]:
    """The mart through disclosure control, computed here: (unrestricted) -> key -> row."""
    out: dict[bool, dict[tuple[str, ...], Any]] = {}
    for unrestricted in (False, True):
        shown = marts.disclosed_mart(mart, threshold=THRESHOLD, unrestricted=unrestricted)
        out[unrestricted] = {_key(r): r for r in shown.itertuples()}
    return out


RAW = dict[tuple[str, ...], Any]


@pytest.fixture(scope="module")
def raw(mart: pd.DataFrame) -> RAW:
    return {_key(r): r for r in mart.itertuples()}


@dataclass
class Td:
    attrs: dict[str, str]
    text: str


class Cells(HTMLParser):
    """Every table cell of a page: its data attributes and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[Td] = []
        self.tables: list[dict[str, Any]] = []
        self.headings: list[int] = []
        self._open: Td | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "td":
            self._open = Td(found, "")
        elif tag == "table":
            self.tables.append({"caption": False, "th_without_scope": 0})
        elif tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True
        elif tag == "th" and self.tables and "scope" not in found:
            self.tables[-1]["th_without_scope"] += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._open is not None:
            self._open.text = self._open.text.strip()
            self.cells.append(self._open)
            self._open = None


def parse(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def figure_cells(html: str) -> list[Td]:
    return [c for c in parse(html).cells if "data-measure" in c.attrs]


def key_of(cell: Td) -> tuple[str, ...]:
    a = cell.attrs
    return (
        a["data-period"],
        a["data-measure"],
        a["data-cohort"],
        a["data-breakdown"],
        a["data-value"],
    )


def expected_text(row: Any) -> str:
    """A disclosed figure as a reader should see it, from the disclosed row alone."""
    if isinstance(row.symbol, str):
        return row.symbol
    return f"{round_half_up(row.value, BY_NAME[row.measure].places):,}"


def signed_in(client: Client, accounts: dict[str, Any], role: str) -> Client:
    client.force_login(accounts[role])
    return client


def every_page(client: Client, *, choices: bool = True) -> dict[str, str]:
    """Each page in both years and (``choices``) with every breakdown and some measures."""
    urls = [f"{p}?year={y}" for p in PAGES for y in YEARS]
    if not choices:
        return {url: client.get(url).content.decode() for url in urls}
    urls += [f"/breakdowns/?breakdown={b}" for b in BREAKDOWN_VALUES if b != "total"]
    urls += [f"/breakdowns/?breakdown=school&measure={m}" for m in ("pupils", "enrolments")]
    urls += [f"/overlaps/?measure={m}" for m in ("pupils", "overall_absence")]
    urls += ["/?measure=enrolments"]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
    return pages


def test_every_figure_is_the_disclosed_marts(
    client: Client, site: Path, accounts: dict[str, Any], disclosed: Any
) -> None:
    signed_in(client, accounts, "vsh")
    shown = disclosed[False]
    checked = 0
    for url, html in every_page(client).items():
        for cell in figure_cells(html):
            row = shown[key_of(cell)]
            kind = cell.attrs["data-kind"]
            if kind == "value":
                assert cell.text == expected_text(row), (url, key_of(cell))
                checked += 1
            elif kind.startswith("times_"):
                comparator = (
                    "All pupils" if kind == "times_all_pupils" else "Not CIN in last 6 years"
                )
                base = shown[(*key_of(cell)[:2], comparator, *key_of(cell)[3:])]
                if isinstance(row.symbol, str):
                    assert cell.text == row.symbol
                elif not compared_as_ratio(BY_NAME[str(row.measure)]):
                    assert cell.text == "z"  # an average is no likelihood (Progress 8)
                elif isinstance(base.symbol, str) or not base.value:
                    assert cell.text == "x"
                else:
                    ratio = Decimal(repr(row.value)) / Decimal(repr(base.value))
                    assert cell.text == f"{round_half_up(ratio, 1):,}", (url, key_of(cell))
    assert checked > 500


def test_the_headline_compares_each_group_with_all_pupils_and_no_social_worker(
    client: Client, site: Path, accounts: dict[str, Any], disclosed: Any
) -> None:
    html = signed_in(client, accounts, "vsh").get("/?year=2024/25").content.decode()
    for group in ("CINO", "CPPO", "CLA 12 months", "Ever CIN last 6 years"):
        assert f'data-testid="headline-{group}"' in html
    cells = [c for c in figure_cells(html) if c.attrs["data-period"] == "2024/25"]
    cohorts = {c.attrs["data-cohort"] for c in cells}
    assert {"All pupils", "Not CIN in last 6 years"} <= cohorts
    measures = {c.attrs["data-measure"] for c in cells}
    assert set(insight.HEADLINE_MEASURES) <= measures
    # The trend table has both years and the terms of the absence measures.
    periods = [
        c.attrs["data-period"] for c in figure_cells(html) if c.attrs["data-kind"] == "value"
    ]
    assert {"2023/24", "2024/25", "2024/25 autumn term"} <= set(periods)


def test_no_suppressed_count_on_any_page_of_a_role_without_unsuppressed_figures(
    client: Client, site: Path, accounts: dict[str, Any], raw: RAW
) -> None:
    small_seen = 0
    for role in SUPPRESSED_ROLES:
        client = Client()
        signed_in(client, accounts, role)
        for url, html in every_page(client, choices=role == "vsh").items():
            for cell in figure_cells(html):
                row = raw[key_of(cell)]
                measure = BY_NAME[row.measure]
                parts = [(row.numerator, measure.numerator_is_count)]
                parts.append((row.denominator, measure.denominator_is_count))
                if any(counted and 1 <= n <= THRESHOLD for n, counted in parts):
                    small_seen += 1
                    assert cell.text == "c", (role, url, key_of(cell), cell.text)
                text = cell.text.replace(",", "")
                if measure.is_count and text.isdigit():
                    assert not 1 <= int(text) <= THRESHOLD, (role, url, key_of(cell))
    assert small_seen > 100  # the pages did show cells whose count is small


def test_the_analyst_sees_unsuppressed_figures(
    client: Client, site: Path, accounts: dict[str, Any], disclosed: Any, raw: RAW
) -> None:
    signed_in(client, accounts, "analyst")
    html = client.get("/breakdowns/?breakdown=school&measure=pupils").content.decode()
    cells = figure_cells(html)
    assert cells
    small = 0
    for cell in cells:
        assert cell.text == expected_text(disclosed[True][key_of(cell)])
        if 1 <= raw[key_of(cell)].numerator <= THRESHOLD:
            small += 1
            assert cell.text == f"{raw[key_of(cell)].numerator:.0f}"
    assert small > 0
    assert 'data-testid="unrestricted-note"' in html


def test_a_dsl_sees_only_their_own_school(
    client: Client, site: Path, accounts: dict[str, Any], settings: Any
) -> None:
    accounts["school_dsl"].school_laestab = DSL_SCHOOL
    accounts["school_dsl"].save()
    signed_in(client, accounts, "school_dsl")
    for url in (
        "/schools/",
        "/breakdowns/?breakdown=school",
        "/breakdowns/?breakdown=school&measure=pupils",
    ):
        html = client.get(url).content.decode()
        schools = {c.attrs["data-value"] for c in figure_cells(html)}
        assert schools == {DSL_SCHOOL}, url
        assert "Beech Academy" not in html and "9990002" not in html
    vsh = signed_in(Client(), accounts, "vsh")
    html = vsh.get("/schools/").content.decode()
    assert {c.attrs["data-value"] for c in figure_cells(html)} == set(SCHOOLS)
    assert "Cedar School (9990003)" in html


def test_the_school_list_has_each_schools_count_and_measures(
    client: Client, site: Path, accounts: dict[str, Any], disclosed: Any
) -> None:
    html = signed_in(client, accounts, "adviser").get("/schools/?year=2024/25").content.decode()
    cells = figure_cells(html)
    for laestab in SCHOOLS:
        mine = [c for c in cells if c.attrs["data-value"] == laestab]
        count = next(
            c
            for c in mine
            if c.attrs["data-measure"] == "pupils"
            and c.attrs["data-cohort"] == "Ever CIN last 6 years"
        )
        row = disclosed[False][("2024/25", "pupils", "Ever CIN last 6 years", "school", laestab)]
        assert count.text == expected_text(row)
        assert {c.attrs["data-measure"] for c in mine} == {"pupils", *insight.SCHOOL_MEASURES}


def test_overlaps_count_each_group_by_fsm_and_sen(
    client: Client, site: Path, accounts: dict[str, Any], disclosed: Any
) -> None:
    html = signed_in(client, accounts, "vsh").get("/overlaps/?measure=pupils").content.decode()
    shares = [c for c in figure_cells(html) if c.attrs["data-kind"] == "share"]
    assert shares
    for cell in shares:
        part = disclosed[False][key_of(cell)]
        whole = disclosed[False][(*key_of(cell)[:3], "total", "All")]
        if isinstance(part.symbol, str):
            assert cell.text == part.symbol
        elif isinstance(whole.symbol, str) or not whole.value:
            assert cell.text in ("x", "z")
        else:
            assert cell.text == str(round_half_up(100 * part.value / whole.value, 1))
    assert {c.attrs["data-value"] for c in shares} == set(BREAKDOWN_VALUES["fsm_sen"])


def test_suppression_runs_once_per_build_and_again_after_a_rebuild(
    client: Client,
    settings: Any,
    tmp_path: Path,
    accounts: dict[str, Any],
    mart: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = point_at(settings, tmp_path / "warehouse.duckdb")
    write_warehouse(site, mart)
    runs: list[int] = []
    real = disclosure.suppress

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(disclosure, "suppress", counted)
    signed_in(client, accounts, "vsh")
    url = "/?measure=pupils"

    def pupils() -> dict[str, str]:
        html = client.get(url).content.decode()
        return {
            c.attrs["data-cohort"]: c.text
            for c in figure_cells(html)
            if key_of(c)[:2] == ("2024/25", "pupils")
        }

    before = pupils()
    assert len(runs) == len(YEARS)  # one run per academic year of the mart
    for page in PAGES:
        assert client.get(page).status_code == 200
    assert Client().get("/").status_code == 302
    assert len(runs) == len(YEARS), "a second request re-ran disclosure control"
    # A rebuild changes the figures; the next request discloses the new mart.
    cohort = next(c for c, text in before.items() if text.replace(",", "").isdigit())
    rebuilt = mart.copy()
    cell = (rebuilt.period == "2024/25") & (rebuilt.cohort == cohort)
    cell &= rebuilt.breakdown == "total"
    rebuilt.loc[cell & (rebuilt.numerator_quantity == "pupils"), "numerator"] = 4321.0
    rebuilt.loc[cell & (rebuilt.denominator_quantity == "pupils"), "denominator"] = 4321.0
    rebuilt["value"] = [
        BY_NAME[m].value(n, d)
        for m, n, d in zip(rebuilt.measure, rebuilt.numerator, rebuilt.denominator, strict=True)
    ]
    write_warehouse(site, rebuilt)
    after = pupils()
    assert len(runs) == 2 * len(YEARS)
    assert before[cohort] != "4,321" and after[cohort] == "4,321"
    # The analyst's unsuppressed figures are a separate entry, computed once too.
    analyst = signed_in(Client(), accounts, "analyst")
    analyst.get(url)
    analyst.get(url)
    assert len(runs) == 3 * len(YEARS)


def test_unknown_choices_are_not_found(
    client: Client, site: Path, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "vsh")
    for url in (
        "/?year=1999/00",
        "/breakdowns/?breakdown=name",
        "/breakdowns/?breakdown=total",
        "/overlaps/?measure=<script>",
        "/schools/?year=2024",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"<script>" not in response.content


def test_each_page_view_is_audited(client: Client, site: Path, accounts: dict[str, Any]) -> None:
    signed_in(client, accounts, "adviser")
    client.get("/breakdowns/?breakdown=sen&measure=fsm&year=2023/24")
    client.get("/overlaps/")
    client.get("/schools/")
    rows = list(AuditEvent.objects.filter(action="view").order_by("id"))
    assert [(r.actor, r.object_type, r.object_ref) for r in rows] == [
        ("adviser", "insight_breakdown", "2023/24 fsm sen"),
        ("adviser", "insight_overlaps", "2024/25 persistent_absence"),
        ("adviser", "insight_schools", "2024/25"),
    ]


def test_pages_are_accessible_tables_with_no_inline_style_or_script(
    client: Client, site: Path, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "vsh")
    charts = 0
    for url in ("/", "/?measure=fsm", "/breakdowns/", "/overlaps/", "/schools/"):
        response = client.get(url)
        html = response.content.decode()
        assert "no-store" in response["Cache-Control"]
        assert " style=" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "<style" not in html, url
        parsed = parse(html)
        assert parsed.tables, url
        for table in parsed.tables:
            assert table["caption"] and table["th_without_scope"] == 0, url
        assert parsed.headings[0] == 1
        for previous, heading in zip(parsed.headings, parsed.headings[1:], strict=False):
            assert heading <= previous + 1, (url, parsed.headings)
        charts += html.count('role="img"')
    assert charts >= 3  # the dashboard's trend, the breakdown and the overlap charts


def test_a_chart_leaves_withheld_figures_out_and_its_table_gives_them(
    client: Client, site: Path, accounts: dict[str, Any], disclosed: Any
) -> None:
    html = signed_in(client, accounts, "vsh").get("/breakdowns/?breakdown=sen").content.decode()
    figure = re.search(r'<figure class="cwsw-chart".*?</figure>', html, re.S)
    assert figure is not None
    withheld = [
        c
        for c in figure_cells(html)
        if c.text == "c" and c.attrs["data-cohort"] in ("CINO", "CPPO", "CLA 12 months")
    ]
    assert withheld
    assert "Not plotted (suppressed or not available)" in figure.group(0)


def test_pages_without_a_mart_say_so(
    client: Client, settings: Any, tmp_path: Path, accounts: dict[str, Any]
) -> None:
    settings.CWSW = replace(settings.CWSW, warehouse_path=tmp_path / "none.duckdb")
    signed_in(client, accounts, "vsh")
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200
        assert 'data-testid="no-data"' in response.content.decode()


def test_the_dashboards_absence_table_is_the_reports_summary(
    client: Client, site: Path, accounts: dict[str, Any]
) -> None:
    """The cached dashboard shows what the report's uncached function computes."""
    from cwsw.indicators.insight import absence_summary
    from cwsw.web.insight.services import COLUMNS, cell_testid

    summary = absence_summary(site)
    assert summary is not None and summary.academic_year == "2024/25"
    html = signed_in(client, accounts, "vsh").get("/").content.decode()
    for figures in summary.groups:
        for field, _ in COLUMNS:
            testid = cell_testid(figures.group, field)
            found = re.search(rf'data-testid="{re.escape(testid)}">([^<]*)<', html)
            assert found is not None and found.group(1) == getattr(figures, field), testid


def test_while_a_load_writes_the_last_figures_are_served_else_503(
    client: Client,
    settings: Any,
    tmp_path: Path,
    accounts: dict[str, Any],
    mart: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    site = point_at(settings, tmp_path / "warehouse.duckdb")
    write_warehouse(site, mart)
    signed_in(client, accounts, "vsh")
    first = client.get("/schools/").content.decode()

    def busy(*_args: Any, **_kwargs: Any) -> Any:
        raise WarehouseUnavailable("The data is being updated: try again in a few minutes")

    monkeypatch.setattr(insight.CACHE, "_reader", busy)
    stat = site.stat()
    os.utime(site, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a load began
    again = client.get("/schools/")
    assert again.status_code == 200
    assert [c.text for c in figure_cells(again.content.decode())] == [
        c.text for c in figure_cells(first)
    ]
    insight.CACHE.clear()
    refused = client.get("/schools/")
    assert refused.status_code == 503
    assert b"being updated" in refused.content


# -- benchmarks: DfE's published figures beside the LA's (CWSW_BENCHMARKS_DIR) ----------------


def published_rows(folder: Path) -> list[dict[str, str]]:
    """absence_la.csv as DfE publishes it, read here with the csv module alone."""
    import csv

    with (folder / "absence_la.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def benchmark_cells(html: str, measure: str) -> list[Td]:
    found = re.search(rf'data-testid="benchmark-{measure}".*?</table>', html, re.S)
    assert found is not None, measure
    return figure_cells(found.group(0))


def point_benchmarks_at(settings: Any, folder: Path | None, la_code: str = "") -> None:
    settings.CWSW = replace(settings.CWSW, benchmarks_dir=folder, la_code=la_code)


def test_the_dashboard_sets_the_las_figures_beside_englands(
    client: Client,
    site: Path,
    settings: Any,
    accounts: dict[str, Any],
    disclosed: Any,
    fixtures_dir: Path,
) -> None:
    folder = fixtures_dir / "dfe-outcomes"
    point_benchmarks_at(settings, folder)
    html = signed_in(client, accounts, "vsh").get("/?year=2024/25").content.decode()
    assert 'data-testid="no-benchmarks"' not in html
    england = next(
        r["pt_pupils_pa_10_exact"]
        for r in published_rows(folder)
        if r["time_period"] == "202425"
        and r["geographic_level"] == "National"
        and r["social_care_group"] == "CINO at 31 March"
        and r["phase_type_grouping"] == "Total"
    )
    cells = benchmark_cells(html, "persistent_absence")
    shown = {(c.attrs["data-cohort"], c.attrs["data-kind"]): c for c in cells}
    assert Decimal(shown[("CINO", "england")].text) == Decimal(england)
    for cohort in ("CINO", "CPPO", "CLA 12 months"):
        own = shown[(cohort, "value")]
        assert own.text == expected_text(disclosed[False][key_of(own)]), cohort
    assert not {kind for _, kind in shown} & {"region", "statistical_neighbours"}
    assert "Region (2024/25)" not in html


def test_with_an_la_code_the_region_and_statistical_neighbours_appear(
    client: Client, site: Path, settings: Any, accounts: dict[str, Any], fixtures_dir: Path
) -> None:
    folder = fixtures_dir / "dfe-outcomes"
    rows = published_rows(folder)
    la = next(
        r
        for r in rows
        if r["time_period"] == "202425" and r["geographic_level"] == "Local authority"
    )
    region = next(
        r["pt_pupils_pa_10_exact"]
        for r in rows
        if r["time_period"] == "202425"
        and r["geographic_level"] == "Regional"
        and r["region_code"] == la["region_code"]
        and r["social_care_group"] == "CINO at 31 March"
        and r["phase_type_grouping"] == "Total"
    )
    point_benchmarks_at(settings, folder, la["old_la_code"])
    html = signed_in(client, accounts, "vsh").get("/?year=2024/25").content.decode()
    assert "Region (2024/25)" in html and "Statistical neighbours (2024/25)" in html
    cells = benchmark_cells(html, "persistent_absence")
    shown = {(c.attrs["data-cohort"], c.attrs["data-kind"]): c for c in cells}
    assert Decimal(shown[("CINO", "region")].text) == Decimal(region)
    # The neighbours' figure: the mean of the ten 2025-model neighbours' published figures.
    import csv
    from decimal import ROUND_HALF_UP

    with (folder / "sn_model_2025_wide.csv").open(encoding="utf-8-sig", newline="") as handle:
        model = next(r for r in csv.DictReader(handle) if r["old_la_code"] == la["old_la_code"])
    codes = {model[f"SN_{i}"] for i in range(1, 11)}
    figures = [
        Decimal(r["pt_pupils_pa_10_exact"])
        for r in rows
        if r["time_period"] == "202425"
        and r["geographic_level"] == "Local authority"
        and r["old_la_code"] in codes
        and r["social_care_group"] == "CINO at 31 March"
        and r["phase_type_grouping"] == "Total"
        and re.fullmatch(r"[0-9.]+", r["pt_pupils_pa_10_exact"])
    ]
    assert figures
    mean = (sum(figures, Decimal(0)) / len(figures)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert Decimal(shown[("CINO", "statistical_neighbours")].text) == mean


def test_without_a_benchmark_folder_the_dashboard_says_none_are_loaded_and_a_bad_one_says_so(
    client: Client, site: Path, settings: Any, accounts: dict[str, Any], tmp_path: Path
) -> None:
    point_benchmarks_at(settings, None)
    signed_in(client, accounts, "vsh")
    assert 'data-testid="no-benchmarks"' in client.get("/").content.decode()
    point_benchmarks_at(settings, tmp_path / "empty")
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="benchmark-error"' in html and "no DfE benchmark files" in html
    assert str(tmp_path) not in html and "the benchmark folder" in html  # no server path
    # A file that cannot be read is named by its file name alone.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "absence_la.csv").write_text("not,an,ees,file\n1,2,3,4\n", encoding="utf-8")
    point_benchmarks_at(settings, broken)
    html = client.get("/").content.decode()
    assert 'data-testid="benchmark-error"' in html and "absence_la.csv" in html
    assert str(tmp_path) not in html
