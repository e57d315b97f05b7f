"""The VSH report of the synthetic LA (``tests/conftest.py``'s pipeline run): every figure in
every output equals the disclosed mart figure worked out here from ``mart_measure``, no count
of 1 to 5 appears anywhere, every chart has its table, and the HTML needs nothing off-site.

The expected figures are computed in this file: values as exact decimal ratios of the mart's
numerator and denominator, rounded half away from zero; "times as likely" as the ratio of the
two exact rates; primary suppression checked against the raw counts. Which further cells are
withheld (secondary suppression) is the one suppression function's pattern
(``disclosed_mart``), which ``tests/indicators/test_suppression.py`` proves.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import pytest
from lxml import etree, html
from openpyxl import load_workbook
from pypdf import PdfReader

from cwsw.indicators.marts import MART, disclosed_mart
from cwsw.indicators.measures import BY_NAME
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

THRESHOLD = 5
Key = tuple[str, str, str, str, str]  # period, measure, cohort, breakdown, breakdown value


def _rounded(value: Decimal, places: int) -> str:
    exact = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{exact:,.{places}f}"


class Expected:
    """The disclosed figures, worked out from the raw mart and the suppression pattern."""

    def __init__(self, mart: pd.DataFrame) -> None:
        shown = disclosed_mart(mart, threshold=THRESHOLD)
        columns = ["period", "measure", "cohort", "breakdown", "breakdown_value"]
        self.raw: dict[Key, Any] = {
            tuple(getattr(r, c) for c in columns): r for r in mart.itertuples(index=False)
        }
        self.symbol: dict[Key, str | None] = {
            tuple(getattr(r, c) for c in columns): (
                r.symbol if isinstance(r.symbol, str) and r.symbol else None
            )
            for r in shown.itertuples(index=False)
        }
        assert set(self.raw) == set(self.symbol) and len(self.raw) == len(mart)

    def exact(self, key: Key) -> Decimal | None:
        """The measure's exact value (None with no base)."""
        row = self.raw[key]
        measure = BY_NAME[row.measure]
        if measure.is_count:
            return Decimal(repr(row.numerator))
        if not row.denominator:
            return None
        return (
            Decimal(measure.scale) * Decimal(repr(row.numerator)) / Decimal(repr(row.denominator))
        )

    def small_count(self, key: Key) -> bool:
        row = self.raw[key]
        measure = BY_NAME[row.measure]
        return (measure.numerator_is_count and 0 < row.numerator <= THRESHOLD) or (
            measure.denominator_is_count and 0 < row.denominator <= THRESHOLD
        )

    def text(self, source: dict[str, str]) -> str:
        key: Key = (
            source["period"],
            source["measure"],
            source["cohort"],
            source["breakdown"],
            source["breakdown_value"],
        )
        if key not in self.raw:
            return "x"
        if source["figure"] == "value":
            if self.symbol[key]:
                return str(self.symbol[key])
            value = self.exact(key)
            assert value is not None
            return _rounded(value, BY_NAME[key[1]].places)
        comparator = (
            "All pupils" if source["figure"] == "times_all_pupils" else ("Not CIN in last 6 years")
        )
        if key[2] == comparator:
            return "z"
        if self.symbol[key]:
            return str(self.symbol[key])
        other: Key = (key[0], key[1], comparator, key[3], key[4])
        if other not in self.raw or self.symbol[other]:
            return "x"
        mine, theirs = self.exact(key), self.exact(other)
        if mine is None or not theirs:
            return "x"
        return _rounded(mine / theirs, 1)


@pytest.fixture(scope="module")
def expected(built_la: BuiltLA) -> Expected:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        return Expected(warehouse.ibis.table(MART).execute())


@pytest.fixture(scope="module")
def outputs(built_la: BuiltLA) -> dict[str, Path]:
    html_path = built_la.report_path
    stem = html_path.with_suffix("")
    return {
        suffix: stem.with_suffix(f".{suffix}")
        for suffix in ("html", "pdf", "xlsx", "csv", "parquet")
    }


@pytest.fixture(scope="module")
def figures(outputs: dict[str, Path]) -> pd.DataFrame:
    """The report's tidy table (Parquet): every figure with the mart row it stands for."""
    return pd.read_parquet(outputs["parquet"])


@pytest.fixture(scope="module")
def page(outputs: dict[str, Path]) -> html.HtmlElement:
    return html.parse(str(outputs["html"])).getroot()


def _text(row: Any, column: str) -> str:
    """A string field of an ``itertuples()`` row of the tidy table (pandas-stubs types a
    row's fields as any scalar)."""
    return cast(str, getattr(row, column))


def _source(row: Any) -> dict[str, str]:
    return {
        k: str(getattr(row, k))
        for k in ("period", "measure", "cohort", "breakdown", "breakdown_value", "figure")
    }


def test_every_figure_of_the_tidy_exports_is_the_disclosed_mart_figure(
    figures: pd.DataFrame, outputs: dict[str, Path], expected: Expected
) -> None:
    assert len(figures) > 300
    assert set(figures.figure) == {"value", "times_all_pupils", "times_not_cin"}
    wrong = [
        (row.table, row.row, row.column, row.text, expected.text(_source(row)))
        for row in figures.itertuples()
        if row.text != expected.text(_source(row))
    ]
    assert not wrong, wrong[:10]
    # Parquet: numbers as numbers, null where a symbol stands.
    for row in figures.itertuples():
        if row.symbol is None:
            assert row.value == pytest.approx(float(_text(row, "text").replace(",", "")))
        else:
            assert pd.isna(cast(float, row.value)) and _text(row, "text") == row.symbol
    # CSV: the same figures, the symbol in the value's own cell.
    csv = pd.read_csv(outputs["csv"], dtype=str, keep_default_na=False)
    assert list(csv.value) == list(figures.text)
    assert list(csv.measure) == list(figures.measure)
    # Both a real figure and a suppressed one, for every section's headline cohorts.
    assert {"c"} <= set(figures.text) and (figures.symbol.isna()).sum() > 100


def test_each_figure_sits_in_its_cohorts_row_or_column(figures: pd.DataFrame) -> None:
    from cwsw.reports.vsh import LABELS

    for row in figures.itertuples():
        label = LABELS[_text(row, "cohort")]
        assert label in (row.row, row.column), (row.table, row.row, row.column, row.cohort)


def test_every_html_cell_is_the_disclosed_mart_figure(
    page: html.HtmlElement, figures: pd.DataFrame, expected: Expected
) -> None:
    cells = page.xpath("//td[@data-measure]")
    assert len(cells) == len(figures)
    for cell in cells:
        source = {
            k: cell.get(f"data-{k.replace('_', '-')}")
            for k in ("period", "measure", "cohort", "breakdown", "breakdown_value", "figure")
        }
        assert cell.text_content().strip() == expected.text(source), source
    # The headline attendance cells keep the web page's ids (cell-<cohort>-<field>).
    cino = page.xpath('//td[@data-testid="cell-CINO-persistent_absence"]')
    assert len(cino) == 1 and cino[0].get("data-measure") == "persistent_absence"


def _excel_figures(path: Path) -> dict[tuple[str, str, str], object]:
    """(table title, row label, column heading) -> the cell's value, from every sheet."""
    book = load_workbook(path)
    found: dict[tuple[str, str, str], object] = {}
    for sheet in book.worksheets:
        if sheet.title == "Notes":
            continue
        rows = list(sheet.iter_rows(values_only=True))
        for i, row in enumerate(rows):
            # A table: its title, then its headings, then its rows up to a blank line.
            if i + 2 < len(rows) and row[0] and not any(row[1:]) and rows[i + 1][1]:
                headings = rows[i + 1]
                for line in rows[i + 2 :]:
                    if line[0] is None or all(v is None for v in line[1:]):
                        break
                    for heading, value in zip(headings[1:], line[1:], strict=False):
                        if heading is not None:
                            found[(str(row[0]), str(line[0]), str(heading))] = value
    return found


def test_every_excel_cell_is_the_figure_numbers_as_numbers(
    outputs: dict[str, Path], figures: pd.DataFrame
) -> None:
    cells = _excel_figures(outputs["xlsx"])
    for row in figures.itertuples():
        value = cells[(_text(row, "table_title"), _text(row, "row"), _text(row, "column"))]
        if row.symbol is None:
            assert isinstance(value, int | float), (row.table, row.row, row.column, value)
            assert value == pytest.approx(float(_text(row, "text").replace(",", "")))
        else:
            assert value == row.symbol
    assert len(cells) == len(figures)
    notes = load_workbook(outputs["xlsx"])["Notes"]
    text = " ".join(str(c) for r in notes.iter_rows(values_only=True) for c in r if c)
    assert f"a count of 1 to {THRESHOLD} pupils" in text and "secondary suppression" in text


def test_every_pdf_table_row_carries_the_same_figures(
    outputs: dict[str, Path], figures: pd.DataFrame, page: html.HtmlElement
) -> None:
    reader = PdfReader(outputs["pdf"])
    lines = {
        " ".join(line.split())
        for sheet in reader.pages
        for line in sheet.extract_text().splitlines()
    }
    text = " ".join(lines)
    missing = []
    for (_table, label), cells in figures.groupby(["table_title", "row"], sort=False):
        line = " ".join([str(label), *cells.text])
        if line not in lines:
            missing.append(line)
    assert not missing, missing[:5]
    assert "secondary suppression" in text
    # Every chart went in as an image.
    assert sum(len(sheet.images) for sheet in reader.pages) == len(page.xpath("//figure"))


def test_no_count_of_one_to_five_in_any_output(
    figures: pd.DataFrame, page: html.HtmlElement, outputs: dict[str, Path], expected: Expected
) -> None:
    small = re.compile(r"^[1-5]$")
    counts = figures[figures.unit == "count"]
    assert len(counts) > 20
    assert not [t for t in counts.text if small.match(t)]
    # Where the raw mart has a count of 1 to 5, the report shows c.
    primary = 0
    for row in figures[figures.figure == "value"].itertuples():
        source = _source(row)
        key = tuple(
            source[k] for k in ("period", "measure", "cohort", "breakdown", "breakdown_value")
        )
        if key in expected.raw and expected.small_count(key):
            primary += 1
            assert row.text == "c", (row.table, row.row, row.column)
    assert primary > 5
    for cell in page.xpath('//td[@data-unit="count"]'):
        assert not small.match(cell.text_content().strip())
    book = load_workbook(outputs["xlsx"])
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                if cell.number_format == "#,##0" and isinstance(cell.value, int | float):
                    assert not 1 <= cell.value <= THRESHOLD, (sheet.title, cell.coordinate)


def test_each_chart_has_its_table_and_plots_only_its_figures(page: html.HtmlElement) -> None:
    figures_ = page.xpath("//figure")
    assert len(figures_) > 10
    for figure in figures_:
        table = page.get_element_by_id(figure.get("aria-describedby"))
        assert table.tag == "table"
        svg = figure.xpath("./*[local-name()='svg']")
        assert len(svg) == 1
        assert svg[0].get("role") == "img"
        title = svg[0].xpath("./*[local-name()='title']")[0].text_content()
        assert title == table.xpath("./caption")[0].text_content()
        assert svg[0].xpath("./*[local-name()='desc']")[0].text_content()
        cells = Counter(td.text_content().strip() for td in table.xpath(".//td"))
        labels = Counter(
            t.text_content()
            for t in svg[0].xpath(
                ".//*[contains(@class, 'mark-text') and contains(@class, 'role-mark')]"
                "/*[local-name()='text']"
            )
        )
        # Bar labels are figures of the table (a zero bar only where the table has a zero).
        assert not labels - cells, (table.get("id"), labels - cells)
    # A withheld figure is named under its chart, never drawn.
    notes = " ".join(f.xpath("string(.//figcaption)") for f in figures_)
    assert "Not plotted (suppressed or not available)" in notes


def test_the_html_needs_nothing_off_site(outputs: dict[str, Path], page: html.HtmlElement) -> None:
    text = outputs["html"].read_text(encoding="utf-8")
    assert not page.xpath("//script | //link | //img | //iframe | //object | //embed")
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if name.endswith("href") or name in ("src", "srcset", "action", "poster"):
                assert value.startswith("#"), (element.tag, name, value)
    without_namespaces = re.sub(r'xmlns(:\w+)?="[^"]*"', "", text)
    assert "http:" not in without_namespaces and "https:" not in without_namespaces
    assert "@import" not in text and "url(" not in text.replace("url(#", "")
    # Well-formed inline SVG.
    for svg in re.findall(r"<svg.*?</svg>", text, flags=re.S):
        etree.fromstring(svg.encode())


def test_sections_and_notes(page: html.HtmlElement) -> None:
    headings = [h.text_content() for h in page.xpath("//h2")]
    assert headings[:5] == ["The cohort", "Attendance", "Exclusions", "SEN and FSM", "Attainment"]
    assert "Trends" in headings and headings[-1] == "Notes, definitions and sources"
    notes = page.get_element_by_id("notes").text_content()
    assert f"a count of 1 to {THRESHOLD} pupils" in notes
    assert "Persistent absence" in notes and "pupils_pa_10" not in notes
    assert "cin_census_2025.xml" in notes  # the sources
