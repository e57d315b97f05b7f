"""The Virtual School Head's absence report: static HTML, chart and table side by side.

Everything it shows comes from :func:`cwsw.indicators.service.absence_summary`, already
through disclosure control; the chart is rendered to inline SVG (no CDN, no JavaScript).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import altair as alt
import jinja2
import pandas as pd
import vl_convert

from cwsw import __version__
from cwsw.indicators.summary import AbsenceSummary

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cwsw.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)

REPORT_NAME = "absence-report.html"


def persistent_absence_chart_svg(summary: AbsenceSummary) -> str:
    """A bar chart of persistent absence by group; suppressed groups are left out and said so."""
    shown = [
        {"group": g.label, "persistent_absence": float(g.persistent_absence)}
        for g in summary.groups
        if g.persistent_absence.replace(".", "", 1).isdigit()
    ]
    data = pd.DataFrame(shown, columns=["group", "persistent_absence"])
    order = [g.label for g in summary.groups]
    bars = (
        alt.Chart(data)
        .mark_bar(color="#1d70b8")
        .encode(
            x=alt.X("persistent_absence:Q", title="Persistently absent (% of enrolments)"),
            y=alt.Y("group:N", sort=order, title=None, axis=alt.Axis(labelLimit=360)),
            tooltip=["group", "persistent_absence"],
        )
    )
    labels = bars.mark_text(align="left", dx=3, color="#0b0c0c").encode(
        text=alt.Text("persistent_absence:Q", format=".1f")
    )
    chart = (bars + labels).properties(width=520, height=28 * max(len(order), 1))
    return str(vl_convert.vegalite_to_svg(chart.to_json()))


def write_absence_report(summary: AbsenceSummary, out_dir: Path, *, threshold: int) -> Path:
    """Write the report into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    reference = dt.date.fromisoformat(summary.reference_date)
    html = _TEMPLATES.get_template("absence_report.html.j2").render(
        summary=summary,
        reference_date_long=f"{reference.day} {reference:%B %Y}",
        chart_svg=persistent_absence_chart_svg(summary),
        threshold=threshold,
        version=__version__,
    )
    path = out_dir / REPORT_NAME
    path.write_text(html, encoding="utf-8")
    return path
