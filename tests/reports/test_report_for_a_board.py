"""The report is one a Virtual School Head can hand to a board: the LA's name on the title, a
summary of the headline figures first (and what changed since last year, or plainly that the
marts cannot say), charts whose text is at least 12 px with no labels on top of each other,
plain-English headings, no markup in the text, and its sources listed with their years."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from lxml import etree, html
from openpyxl import load_workbook
from pypdf import PdfReader

from cwsw.indicators.export import disclosed_export
from cwsw.reports import vsh, writers
from cwsw.reports.charts import FONT_SIZE
from cwsw.warehouse.connection import Warehouse
from tests.reports.test_report_options import two_years  # noqa: F401 (a fixture)
from tests.reports.test_vsh_report import THRESHOLD

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

LA_NAME = "Anytown"
SVG = "{http://www.w3.org/2000/svg}"
MARKUP = re.compile(r"`|\*\*|<br|&lt;br|</?(b|i|em|strong|code)>", re.IGNORECASE)
HEADINGS = "//h1 | //h2 | //h3 | //caption | //th | //dt | //nav//a"


@pytest.fixture(scope="module")
def written(built_la: BuiltLA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic LA's report with the LA's name set (``CWSW_LA_NAME``), every format."""
    out = tmp_path_factory.mktemp("board")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CWSW_LA_NAME", LA_NAME)
        with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
            report = vsh.read_report(warehouse, threshold=THRESHOLD)
    assert report.la_name == LA_NAME
    return writers.write_report(report, out)


@pytest.fixture(scope="module")
def page(written: dict[str, Path]) -> html.HtmlElement:
    return html.parse(str(written["html"])).getroot()


def _svgs(page: html.HtmlElement) -> list[etree._Element]:
    return [etree.fromstring(html.tostring(s)) for s in page.xpath("//*[local-name()='svg']")]


def test_the_title_names_the_la_and_the_summary_comes_first(
    page: html.HtmlElement, written: dict[str, Path]
) -> None:
    title = page.xpath("//h1")[0].text_content()
    assert title == f"Children with a social worker: {LA_NAME} Virtual School report, 2024/25"
    assert page.xpath("//title")[0].text_content() == title
    sections = page.xpath("//body/section")
    assert sections[0].get("id") == "summary"
    # The summary sits before the contents and every other section.
    body = page.xpath("//body")[0]
    order = [e.get("id") or e.tag for e in body if e.tag in ("section", "nav")]
    assert order[:2] == ["summary", "nav"], order
    summary = sections[0]
    headline = summary.xpath(".//table")[0]
    assert headline.xpath("./caption")[0].text_content() == "Headline figures, 2024/25"
    rows = [th.text_content() for th in headline.xpath("./tbody/tr/th")]
    assert rows == [
        "Child in need (not on a plan or looked after)",
        "On a child protection plan (not looked after)",
        "Looked after for 12 months or more",
        "All pupils",
    ]
    measures = {td.get("data-measure") for td in headline.xpath(".//td")}
    assert {"overall_absence", "persistent_absence", "one_plus_suspension"} <= measures
    assert {"ks2_rwm_expected", "ks4_basics_94"} <= measures
    kinds = {td.get("data-figure") for td in headline.xpath(".//td")}
    assert kinds == {"value", "times_all_pupils"}
    # The figures in words too, and, with one year built, plainly that nothing can be compared.
    points = summary.xpath(".//ul[@data-testid='summary-points']/li")
    assert any("Persistent absence: children in need" in p.text_content() for p in points)
    note = summary.xpath(".//*[@data-testid='change-note']")[0].text_content()
    assert "no figures for 2023/24" in note and "cannot say what changed" in note
    # The PDF's first page: the name, the headline table, what changed; sections after it.
    first = PdfReader(written["pdf"]).pages[0].extract_text()
    assert LA_NAME in first and "Headline figures, 2024/25" in first
    assert "What changed since last year" in first and "The cohort" not in first
    # The workbook's first sheet is the summary.
    book = load_workbook(written["xlsx"])
    assert book.worksheets[0].title == "Summary"
    assert book.worksheets[0].cell(1, 1).value == title


def test_what_changed_since_last_year(two_years: pd.DataFrame) -> None:  # noqa: F811
    report = vsh.build_report(disclosed_export(two_years, threshold=THRESHOLD), threshold=5)
    summary = report.summary
    assert summary is not None and summary.previous_period == "2023/24"
    assert summary.changes is not None
    assert summary.changes.title == "What changed since 2023/24"
    earlier = vsh.build_report(
        disclosed_export(two_years, threshold=THRESHOLD), threshold=5, period="2023/24"
    )
    assert earlier.summary is not None
    before = {(r.key, c.field): f for r, c, f in earlier.summary.headline.figures()}
    now = {(r.key, c.field): f for r, c, f in summary.headline.figures()}
    checked = 0
    for row, column, figure in summary.changes.figures():
        assert figure.source.kind == "change"
        old, new = before[(row.key, column.field)], now[(row.key, column.field)]
        if old.symbol or new.symbol:
            assert figure.text == (new.symbol or old.symbol)
            continue
        difference = Decimal(new.plain) - Decimal(old.plain)
        assert Decimal(figure.text) == difference
        assert figure.text.startswith(("+", "-")) or difference == 0
        checked += 1
    assert checked >= 4
    assert "percentage points" in summary.changes.columns[0].heading
    assert any("since 2023/24" in p for p in summary.change_points)
    # The earlier year has nothing before it, and says so.
    assert earlier.summary.changes is None
    assert "no figures for 2022/23" in earlier.summary.change_note


def test_chart_text_is_at_least_12px(page: html.HtmlElement) -> None:
    svgs = _svgs(page)
    assert len(svgs) > 10
    sizes = []
    for svg in svgs:
        for text in svg.iter(f"{SVG}text"):
            size = text.get("font-size")
            assert size is not None, etree.tostring(text)[:200]
            sizes.append(float(size.removesuffix("px")))
    assert sizes and min(sizes) >= FONT_SIZE


def _boxes(group: etree._Element) -> list[tuple[float, float, float, float, str]]:
    """Each label of an axis or legend: an estimate of its box (left, top, right, bottom)."""
    found = []
    for text in group.iter(f"{SVG}text"):
        match = re.search(r"translate\(([-\d.]+),([-\d.]+)\)", text.get("transform") or "")
        if match is None:
            continue
        x, y = float(match[1]), float(match[2])
        size = float((text.get("font-size") or "12px").removesuffix("px"))
        lines = [t.text or "" for t in text.iter(f"{SVG}tspan")] or [text.text or ""]
        width = 0.55 * size * max(len(line) for line in lines)
        height = size * 1.2 * len(lines)
        anchor = text.get("text-anchor") or "start"
        left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
        found.append((left, y - size, left + width, y - size + height, "|".join(lines)))
    return found


def test_no_chart_label_sits_on_another(page: html.HtmlElement) -> None:
    checked = 0
    for svg in _svgs(page):
        for group in svg.iter(f"{SVG}g"):
            if "role-axis-label" not in (group.get("class") or ""):
                continue
            boxes = _boxes(group)
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                    assert apart, (svg.findtext(f"{SVG}title"), a, b)
                    checked += 1
    assert checked > 100
    # Long category labels are wrapped onto lines rather than cut short with an ellipsis.
    text = " ".join(str(t) for svg in _svgs(page) for t in svg.itertext())
    assert "…" not in text
    assert "Child in need (not on a plan" in text


def test_headings_are_plain_english(page: html.HtmlElement) -> None:
    headings = [h.text_content().strip() for h in page.xpath(HEADINGS)]
    assert len(headings) > 100
    assert not [h for h in headings if re.search(r"\bSen\b|\bFsm\b|\bsen\b|\bfsm\b", h)]
    assert "Special educational needs" in headings
    assert "Persistent absence (%) by SEN provision, 2024/25" in headings
    assert "Persistent absence (%) by free school meals and SEN, 2024/25" in headings


def test_no_markup_in_any_text_shown(page: html.HtmlElement, written: dict[str, Path]) -> None:
    body = page.xpath("//body")[0]
    shown = " ".join(body.itertext())
    assert not MARKUP.search(shown), MARKUP.search(shown)
    definitions = page.xpath("//dd")
    assert any("susp_rate" in d.text_content() for d in definitions)  # the words, not the marks
    pdf = " ".join(p.extract_text() for p in PdfReader(written["pdf"]).pages)
    assert not MARKUP.search(pdf), MARKUP.search(pdf)
    book = load_workbook(written["xlsx"])
    cells = [
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    ]
    assert not [c for c in cells if MARKUP.search(c)]
    assert vsh.plain("EES ``susp_rate`` and **bold**<br>`x`") == "EES susp_rate and bold x"


def test_the_sources_are_listed_with_their_years(page: html.HtmlElement) -> None:
    sources = [li.text_content() for li in page.xpath("//ul[@data-testid='sources']/li")]
    assert len(sources) > 10
    assert all(re.search(r"\b20\d\d\b", s) for s in sources), sources
    assert "CIN census 2024/25: cin_census_2025.xml (SHA-256 " in " ".join(sources)
    assert any(s.startswith("School census spring 2025: ") for s in sources)
    assert any(s.startswith("KS4 results 2024/25: ") for s in sources)


def test_without_a_name_the_title_is_the_generic_one(built_la: BuiltLA) -> None:
    page = html.parse(str(built_la.report_path)).getroot()
    title = page.xpath("//h1")[0].text_content()
    assert title == "Children with a social worker: Virtual School report, 2024/25"
