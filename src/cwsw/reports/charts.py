"""Static charts of disclosed figures: Vega-Altair specs rendered by vl-convert, no network.

Used by the VSH report (HTML and PDF) and by the web dashboard, so a figure is drawn the same
way everywhere. No Django here: the module takes pandas tables and returns SVG text or PNG
bytes.

The API::

    chart = bar_chart(
        table,                       # tidy: one row per figure, already disclosed
        category="group",            # column of the bars' labels (one bar, or one cluster, each)
        value="value",               # column of the numbers (float; NaN / None where withheld)
        title="Persistent absence by group, 2024/25",
        description="Horizontal bars: percentage of enrolments persistently absent ...",
        value_title="% of enrolments",
        series="cohort",             # optional: a second column, drawn as coloured bars
        symbol="symbol",             # column of DfE symbols (c, x, z) or None / "" (default)
        order=None,                  # optional display order of the categories
        series_order=None,           # optional display order of the series
    )
    chart.svg("chart-absence")       # inline SVG text, ids prefixed so charts can share a page
    chart.png(scale=2)               # PNG bytes (for the PDF)
    chart.omitted                    # ("CPPO: c", ...): the figures withheld, not plotted
    line_chart(table, period="period", value="value", series="cohort", title=..., ...)

    bar_chart_svg(table, ...) and line_chart_svg(table, ...) are bar_chart(...).svg() in one.

Rules every chart keeps:

- A withheld figure (a symbol, or no number) is **never plotted as zero**: the row is left
  out of the chart and named in :attr:`Chart.omitted`, which is also printed under the chart
  as its footnote ("Not plotted (suppressed or not available): ..."). The table the caller
  shows beside the chart gives the symbol.
- The chart has an accessible name and description: the SVG carries ``role="img"``, a
  ``<title>`` and a ``<desc>`` linked by ``aria-labelledby``; the caller should still put the
  same numbers in a table.
- Nothing is fetched: vl-convert bundles Vega and its fonts, and the SVG has no external
  references.
- Every word is at least 12 px (:data:`FONT_SIZE`), and labels do not overlap: a long
  category or period label is wrapped onto lines of :data:`LABEL_WIDTH` characters, and each
  category gets the height its bars and its label's lines need.
"""

from __future__ import annotations

import html
import json
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

# GOV.UK colours, in an order that stays distinguishable for common colour-blindness.
PALETTE = ("#1d70b8", "#f47738", "#00703c", "#912b88", "#505a5f", "#d4351c", "#85994b")
TEXT_COLOUR = "#0b0c0c"
FONT = "Arial, Helvetica, sans-serif"
WIDTH = 460
# The smallest text in a chart (px): axis labels and titles, bar labels, legend, notes.
FONT_SIZE = 12
TITLE_SIZE = 15
LINE_HEIGHT = 15  # px, one line of a wrapped label
BAR_HEIGHT = 16  # px per bar: room for its 12 px label
# A category's label wraps at this many characters; a period's (under a line chart) at fewer.
LABEL_WIDTH = 30
PERIOD_WIDTH = 12
TITLE_WIDTH = 70
OMITTED_NOTE = "Not plotted (suppressed or not available)"
# The note inside the chart wraps at this many characters and names this many figures.
SUBTITLE_WIDTH = 80
SUBTITLE_ITEMS = 4
# A Vega expression: a label holding line breaks is drawn on several lines.
LINES = "split(datum.label, '\\n')"


@dataclass(frozen=True)
class Chart:
    """A chart ready to render: its Vega-Lite spec, its words, and what it left out."""

    spec: dict[str, Any]
    title: str
    description: str
    omitted: tuple[str, ...] = field(default=())

    @property
    def footnote(self) -> str:
        """The note under the chart naming the figures it does not plot ('' if none)."""
        return f"{OMITTED_NOTE}: {'; '.join(self.omitted)}." if self.omitted else ""

    @cached_property
    def rendered(self) -> str:
        """The SVG as vl-convert draws it (rendered once; :meth:`svg` and :meth:`png` use it)."""
        return str(vl_convert.vegalite_to_svg(json.dumps(self.spec)))

    def svg(self, chart_id: str = "chart") -> str:
        """Inline SVG, with ``role="img"``, ``<title>`` and ``<desc>``; ids are prefixed with
        ``chart_id`` so several charts can sit in one HTML page."""
        text = _prefix_ids(self.rendered, chart_id)
        return _accessible(text, chart_id, self.title, self.description)

    def png(self, scale: float = 2.0) -> bytes:
        """The chart as PNG bytes (``scale`` × its size in CSS pixels), from the same SVG
        (the same bytes as rendering the spec to PNG, at under half the cost)."""
        return bytes(vl_convert.svg_to_png(self.rendered, scale=scale))


def is_shown(value: object, symbol: object) -> bool:
    """Whether a disclosed figure has a number to plot (no symbol, and a finite value)."""
    if isinstance(symbol, str) and symbol.strip():
        return False
    if value is None:
        return False
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(number)


def _symbol_text(symbol: object) -> str:
    return symbol.strip() if isinstance(symbol, str) and symbol.strip() else "x"


def _split(
    table: pd.DataFrame, columns: Sequence[str], value: str, symbol: str
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The rows to plot (value as float) and the labels of those withheld."""
    symbols = table[symbol] if symbol in table.columns else pd.Series(None, index=table.index)
    shown_mask = [is_shown(v, s) for v, s in zip(table[value], symbols, strict=True)]
    plotted = table.loc[shown_mask, [*columns, value]].copy()
    plotted[value] = plotted[value].astype(float)
    omitted = tuple(
        f"{' – '.join(str(row[c]) for c in columns)}: {_symbol_text(s)}"
        for (_, row), s, shown in zip(table.iterrows(), symbols, shown_mask, strict=True)
        if not shown
    )
    return plotted, omitted


def wrapped(label: str, width: int = LABEL_WIDTH) -> str:
    """``label`` with line breaks so that no line is longer than ``width`` (if it can be)."""
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _lines(label: str) -> int:
    return label.count("\n") + 1


def _title(title: str, footnote: str) -> alt.Title:
    return alt.Title(
        textwrap.wrap(title, TITLE_WIDTH) or [title],
        subtitle=textwrap.wrap(footnote, SUBTITLE_WIDTH),
        anchor="start",
        fontSize=TITLE_SIZE,
        subtitleFontSize=FONT_SIZE,
        subtitleColor="#505a5f",
        font=FONT,
        subtitleFont=FONT,
        color=TEXT_COLOUR,
    )


def _configured(chart: alt.LayerChart | alt.FacetChart) -> dict[str, Any]:
    configured = (
        # aria=False: the marks and guides are hidden from assistive technology, being parts of
        # one role="img" picture (axe: svg-img-alt); the title, desc and table carry the figures.
        chart.configure(font=FONT, background="white", aria=False)
        .configure_mark(aria=False)
        .configure_view(stroke=None)
        .configure_axis(
            labelColor=TEXT_COLOUR,
            titleColor=TEXT_COLOUR,
            labelFontSize=FONT_SIZE,
            titleFontSize=FONT_SIZE,
        )
        .configure_legend(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE, symbolSize=120)
        .configure_text(fontSize=FONT_SIZE)
    )
    spec: dict[str, Any] = configured.to_dict()
    return spec


def _value_axis() -> alt.Axis:
    """The value axis: round ticks without trailing zeros, never touching each other."""
    return alt.Axis(format=",~f", labelOverlap="greedy", tickCount=6)


def _series_names(
    table: pd.DataFrame, series: str, series_order: Sequence[str] | None
) -> list[str]:
    return list(series_order) if series_order is not None else list(dict.fromkeys(table[series]))


def _colour(table: pd.DataFrame, series: str | None, series_order: Sequence[str] | None) -> Any:
    """One colour, or a colour per series (the palette repeats past its length)."""
    if series is None:
        return alt.value(PALETTE[0])
    names = _series_names(table, series, series_order)
    return alt.Color(
        f"{series}:N",
        sort=names,
        scale=alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in range(len(names))]),
        legend=alt.Legend(title=None, orient="bottom", labelLimit=360, columns=2, rowPadding=4),
    )


def bar_chart(
    table: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    description: str,
    value_title: str,
    series: str | None = None,
    symbol: str = "symbol",
    order: Sequence[str] | None = None,
    series_order: Sequence[str] | None = None,
    value_format: str = ",.1f",
) -> Chart:
    """Horizontal bars of ``value`` by ``category`` (clustered and coloured by ``series``).

    ``table`` holds disclosed figures: rows with a symbol or no number are not drawn (see the
    module docstring). Each bar is labelled with its value (``value_format``, d3 format).
    """
    columns = [category] if series is None else [category, series]
    plotted, omitted = _split(table, columns, value, symbol)
    # Long labels on several lines, each category as tall as its bars and its label's lines.
    categories = [
        wrapped(c) for c in (order if order is not None else dict.fromkeys(table[category]))
    ]
    plotted[category] = [wrapped(c) for c in plotted[category]]
    y = alt.Y(
        f"{category}:N",
        sort=categories,
        title=None,
        axis=alt.Axis(labelExpr=LINES, labelLimit=0, labelLineHeight=LINE_HEIGHT),
        scale=alt.Scale(domain=categories, paddingInner=0.2),
    )
    x = alt.X(f"{value}:Q", title=value_title, axis=_value_axis())
    encoding: dict[str, Any] = {"y": y, "x": x}
    bars_per_category = 1
    if series is not None:
        names = _series_names(table, series, series_order)
        encoding["yOffset"] = alt.YOffset(f"{series}:N", sort=names, scale=alt.Scale(domain=names))
        bars_per_category = len(names)
    encoding["color"] = _colour(table, series, series_order)
    base = alt.Chart(plotted).encode(**encoding)
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=3, fontSize=FONT_SIZE).encode(
        text=alt.Text(f"{value}:Q", format=value_format), color=alt.value(TEXT_COLOUR)
    )
    lines = max((_lines(c) for c in categories), default=1)
    step = max(BAR_HEIGHT * bars_per_category, LINE_HEIGHT * lines + 6) / 0.8
    chart = alt.layer(bars, labels).properties(
        title=_title(title, _footnote(omitted)),
        description=description,
        width=WIDTH,
        # The step is each category's band (its cluster of bars), not each bar's.
        height=alt.Step(round(step), **{"for": "position"}),
    )
    return Chart(_configured(chart), title, description, omitted)


def line_chart(
    table: pd.DataFrame,
    *,
    period: str,
    value: str,
    title: str,
    description: str,
    value_title: str,
    series: str | None = None,
    symbol: str = "symbol",
    order: Sequence[str] | None = None,
    series_order: Sequence[str] | None = None,
    value_format: str = ",.1f",
) -> Chart:
    """Lines of ``value`` over ``period`` (one line per ``series``), with a point per figure.

    Withheld figures are not drawn (a line joins the figures either side of one; the footnote
    names it).
    """
    columns = [period] if series is None else [series, period]
    plotted, omitted = _split(table, columns, value, symbol)
    periods = [
        wrapped(p, PERIOD_WIDTH)
        for p in (order if order is not None else sorted(dict.fromkeys(table[period])))
    ]
    plotted[period] = [wrapped(p, PERIOD_WIDTH) for p in plotted[period]]
    encoding: dict[str, Any] = {
        "x": alt.X(
            f"{period}:O",
            sort=periods,
            scale=alt.Scale(domain=periods),
            title=None,
            axis=alt.Axis(labelAngle=0, labelLimit=0, labelExpr=LINES, labelLineHeight=LINE_HEIGHT),
        ),
        "y": alt.Y(f"{value}:Q", title=value_title, axis=_value_axis()),
    }
    encoding["color"] = _colour(table, series, series_order)
    base = alt.Chart(plotted).encode(**encoding)
    chart = alt.layer(base.mark_line(), base.mark_point(filled=True, size=40)).properties(
        title=_title(title, _footnote(omitted)),
        description=description,
        width=WIDTH,
        height=220,
    )
    return Chart(_configured(chart), title, description, omitted)


def bar_chart_svg(table: pd.DataFrame, *, chart_id: str = "chart", **options: Any) -> str:
    """:func:`bar_chart` rendered to inline SVG in one call (same keyword arguments)."""
    return bar_chart(table, **options).svg(chart_id)


def line_chart_svg(table: pd.DataFrame, *, chart_id: str = "chart", **options: Any) -> str:
    """:func:`line_chart` rendered to inline SVG in one call (same keyword arguments)."""
    return line_chart(table, **options).svg(chart_id)


def _footnote(omitted: Sequence[str]) -> str:
    """The chart's own note of what it leaves out (the first few; the table has them all)."""
    if not omitted:
        return ""
    shown = list(omitted[:SUBTITLE_ITEMS])
    more = len(omitted) - len(shown)
    return f"{OMITTED_NOTE}: {'; '.join(shown)}{f'; and {more} more' if more else ''}"


_ID = re.compile(r'\bid="([^"]+)"')


def _prefix_ids(svg: str, prefix: str) -> str:
    """Prefix every id (and its ``url(#...)`` / ``href="#..."`` uses) with ``prefix``."""
    for name in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        new = f"{prefix}-{name}"
        svg = svg.replace(f'id="{name}"', f'id="{new}"')
        svg = svg.replace(f"url(#{name})", f"url(#{new})")
        svg = svg.replace(f'href="#{name}"', f'href="#{new}"')
    return svg


def _accessible(svg: str, chart_id: str, title: str, description: str) -> str:
    """Give the root ``<svg>`` a role, an accessible name and a description."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    opening_end = svg.index(">", svg.index("<svg")) + 1
    opening = svg[:opening_end]
    opening = opening.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{title_id} {desc_id}" id="{chart_id}" ',
        1,
    )
    words = (
        f'<title id="{title_id}">{html.escape(title)}</title>'
        f'<desc id="{desc_id}">{html.escape(description)}</desc>'
    )
    return opening + words + svg[opening_end:]
