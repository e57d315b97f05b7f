"""Charts of disclosed figures: withheld figures are left out (never drawn as zero) and named,
the SVG is accessible and self-contained, and several charts can share one page."""

from __future__ import annotations

import re
from typing import cast

import pandas as pd
from lxml import etree

from cwsw.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def _figures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["CINO", "CPPO", "CLA 12 months", "All pupils"],
            "value": [23.4, None, 17.25, 0.0],
            "symbol": [None, "c", "", None],
        }
    )


def _plotted(chart: charts.Chart) -> list[dict[str, object]]:
    datasets = chart.spec["datasets"]
    return [row for rows in datasets.values() for row in rows]


def test_a_withheld_figure_is_not_plotted_and_is_named() -> None:
    chart = charts.bar_chart(
        _figures(), category="group", value="value", title="T", description="D", value_title="%"
    )
    plotted = {row["group"]: row["value"] for row in _plotted(chart)}
    # The suppressed CPPO figure is absent, not a zero bar; a real zero is still drawn.
    assert plotted == {"CINO": 23.4, "CLA 12 months": 17.25, "All pupils": 0.0}
    assert chart.omitted == ("CPPO: c",)
    assert "CPPO: c" in chart.footnote
    texts = [t.text for t in etree.fromstring(chart.svg().encode()).iter(f"{SVG}text")]
    assert "23.4" in texts and "17.3" in texts  # labels at one decimal place
    assert any(t and "Not plotted" in t and "CPPO: c" in t for t in texts)


def test_a_figure_without_a_number_is_withheld_as_x() -> None:
    table = pd.DataFrame({"period": ["2023/24", "2024/25"], "value": [5.0, float("nan")]})
    chart = charts.line_chart(
        table, period="period", value="value", title="T", description="D", value_title="%"
    )
    assert [row["period"] for row in _plotted(chart)] == ["2023/24"]
    assert chart.omitted == ("2024/25: x",)


def test_series_are_named_with_their_category() -> None:
    table = pd.DataFrame(
        {
            "group": ["CINO", "CINO", "All pupils", "All pupils"],
            "sex": ["Male", "Female", "Male", "Female"],
            "value": [10.0, None, 4.0, 3.0],
            "symbol": [None, "c", None, None],
        }
    )
    chart = charts.bar_chart(
        table,
        category="group",
        series="sex",
        value="value",
        title="T",
        description="D",
        value_title="%",
    )
    assert len(_plotted(chart)) == 3
    assert chart.omitted == ("CINO – Female: c",)


def test_svg_is_accessible_self_contained_and_ids_are_unique_per_chart() -> None:
    chart = charts.bar_chart(
        _figures(),
        category="group",
        value="value",
        title="Persistent absence & more",
        description="Bars by group",
        value_title="%",
    )
    first, second = chart.svg("one"), chart.svg("two")
    root = etree.fromstring(first.encode())
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "one-title one-desc"
    # The chart has both: find() gives None only for an element that is not there.
    assert cast(etree._Element, root.find(f"{SVG}title")).text == "Persistent absence & more"
    assert cast(etree._Element, root.find(f"{SVG}desc")).text == "Bars by group"
    ids_one = set(re.findall(r'\bid="([^"]+)"', first))
    ids_two = set(re.findall(r'\bid="([^"]+)"', second))
    assert ids_one and not ids_one & ids_two
    # No reference out of the document: only namespace names mention a scheme.
    for element in root.iter():
        for name, value in element.attrib.items():
            if "href" in name or name == "src":
                # lxml-stubs allow bytes; a parsed document's attribute values are str.
                assert cast(str, value).startswith("#"), (name, value)
    assert "url(http" not in first and "@import" not in first


def test_png_is_a_png() -> None:
    chart = charts.bar_chart(
        _figures(), category="group", value="value", title="T", description="D", value_title="%"
    )
    assert chart.png(scale=1).startswith(b"\x89PNG\r\n\x1a\n")
