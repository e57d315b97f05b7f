"""Writers of the VSH report: one :class:`~cwsw.reports.vsh.VshReport`, five formats.

- ``html``: self-contained (inline CSS and SVG charts, no script, nothing off-site);
- ``pdf``: fpdf2 (pure Python, core fonts) with the charts as PNG from vl-convert;
- ``xlsx``: openpyxl, one sheet per section and a notes sheet; numbers as numbers, DfE
  symbols as text;
- ``csv`` and ``parquet``: every table's figures in one tidy table (:data:`TIDY_COLUMNS`).

Every format records how its figures were disclosed: the threshold used and the suppression
method's version (:func:`~cwsw.indicators.suppression.disclosure_record`), with a warning
when the threshold is below the floor: in the notes (HTML, PDF, the Excel notes sheet), in the
Excel file's custom properties, in the Parquet file's key-value metadata, and for the CSV in
a JSON file beside it (``<name>.disclosure.json``). Nothing in a file depends on the wall
clock except the report's labelled generation time (``VshReport.generated_at``), from which
the Excel and PDF files' own dates are taken.

Each writer shows the same figures: the text of every :class:`~cwsw.reports.vsh.Figure`
(the one model's, :mod:`cwsw.indicators.figures`). The summary comes first in every format.

About 500 lines by design: five short writers of one model side by side, so a change to the
model is made in every format at once; the PDF writer is the first to move out if it grows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from fpdf import FPDF
from fpdf.fonts import FontFace
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.writer.excel import ExcelWriter
from PIL import Image

from cwsw import __version__
from cwsw.indicators.suppression import METHOD_VERSION, disclosure_record
from cwsw.reports.vsh import ReportTable, Section, VshReport, slug

FORMATS = ("html", "pdf", "xlsx", "csv", "parquet")
BASENAME = "vsh-report"
TITLE = "Children with a social worker: Virtual School report"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cwsw.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def suppression_rule(report: VshReport) -> str:
    """The disclosure rule, as the report states it."""
    return (
        f"c: a count of 1 to {report.threshold} pupils (or enrolments, or events), or a figure "
        "built on one, is suppressed to protect privacy; further figures are suppressed where "
        "they could be used to work it out from totals (secondary suppression). "
        "x: not available. z: not applicable (no base, or the comparator itself). "
        "Suppressed figures are not plotted in the charts; the tables give the symbol. "
        + disclosure_note(report)
    )


def disclosure_note(report: VshReport) -> str:
    """The threshold and method the report was disclosed with, and any unsafe warning."""
    record = disclosure_record(report.threshold)
    note = f"Suppression threshold {report.threshold}; suppression method {METHOD_VERSION}."
    if record["warning"]:
        note += f" WARNING: {record['warning']}."
    return note


# Parquet key-value metadata holding the disclosure record (as in the marts' export).
METADATA_KEY = b"cwsw.disclosure"
DISCLOSURE_SUFFIX = ".disclosure.json"


def _record_json(report: VshReport) -> str:
    record = {**disclosure_record(report.threshold), "period": report.period}
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_time(report: VshReport) -> dt.datetime:
    """The report's generation time as a datetime (UTC, naive): the date the Excel and PDF
    files carry, so they change only with it (1980-01-01, the earliest a zip entry may
    carry, if it cannot be read)."""
    try:
        return dt.datetime.strptime(report.generated_at, "%d %B %Y %H:%M UTC")
    except ValueError:
        return dt.datetime(1980, 1, 1)


def title_of(report: VshReport) -> str:
    """``Children with a social worker: Kent Virtual School report, 2024/25``."""
    if report.la_name:
        return f"Children with a social worker: {report.la_name} Virtual School report, " + (
            report.period
        )
    return f"{TITLE}, {report.period}"


def caption_of(report: VshReport) -> str:
    """The line above the title: who the report is from."""
    school = f"{report.la_name} Virtual School" if report.la_name else "Virtual School report"
    return f"{school} · Children with a social worker"


# -- HTML --------------------------------------------------------------------------------------


def render_html(report: VshReport) -> str:
    """The report as one self-contained HTML page."""
    charts: dict[str, tuple[Markup, str]] = {}
    for section, table in report.tables:
        chart = table.chart
        if chart is not None:
            chart_id = f"chart-{section.key}-{table.key}"
            charts[table.key] = (Markup(chart.svg(chart_id)), chart.footnote)
    return _TEMPLATES.get_template("vsh_report.html.j2").render(
        report=report,
        title=title_of(report),
        caption=caption_of(report),
        charts=charts,
        rule=suppression_rule(report),
        version=__version__,
    )


# -- tidy CSV and Parquet ----------------------------------------------------------------------

TIDY_COLUMNS = (
    "section",
    "table",
    "table_title",
    "row",
    "column",
    "text",
    "value",
    "symbol",
    "unit",
    "figure",
    "measure",
    "cohort",
    "period",
    "breakdown",
    "breakdown_value",
)


def tidy(report: VshReport) -> pd.DataFrame:
    """Every figure of every table, one row each (``value`` null where a symbol stands)."""
    records = [
        {
            "section": section.title,
            "table": table.key,
            "table_title": table.title,
            "row": row.label,
            "column": column.heading,
            "text": figure.text,
            "value": figure.number,
            "symbol": figure.symbol,
            "unit": figure.unit,
            "figure": figure.source.kind,
            "measure": figure.source.measure,
            "cohort": figure.source.cohort,
            "period": figure.source.period,
            "breakdown": figure.source.breakdown,
            "breakdown_value": figure.source.breakdown_value,
        }
        for section, table in report.tables
        for row in table.rows
        for column, figure in zip(table.columns, row.figures, strict=True)
    ]
    frame = pd.DataFrame(records, columns=list(TIDY_COLUMNS))
    frame["value"] = frame["value"].astype("float64")
    return frame


def write_csv(report: VshReport, path: Path) -> None:
    """The tidy table as CSV: ``value`` is the figure as shown, or its symbol (EES style);
    the disclosure record beside it (``<name>.disclosure.json``), so the CSV stays plain."""
    frame = tidy(report)
    frame["value"] = frame["text"]
    frame["symbol"] = frame["symbol"].fillna("")
    frame.drop(columns=["text"]).to_csv(path, index=False)
    path.with_suffix(DISCLOSURE_SUFFIX).write_text(_record_json(report), encoding="utf-8")


def write_parquet(report: VshReport, path: Path) -> None:
    """The tidy table as Parquet: ``value`` numeric (null where a symbol stands); the
    disclosure record in the key-value metadata (:data:`METADATA_KEY`)."""
    table = pa.Table.from_pandas(tidy(report), preserve_index=False)
    metadata = {**(table.schema.metadata or {}), METADATA_KEY: _record_json(report).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)


# -- Excel -------------------------------------------------------------------------------------


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\")[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def _summary_lines(report: VshReport) -> dict[str, list[str]]:
    """The summary's words, by the key of the table they follow."""
    summary = report.summary
    if summary is None:
        return {}
    lines = {summary.headline.key: ["", *summary.points, "", "What changed since last year"]}
    lines[summary.headline.key].append(summary.change_note)
    if summary.changes is not None:
        lines[summary.changes.key] = ["", *summary.change_points]
    return lines


def write_xlsx(report: VshReport, path: Path) -> None:
    """One sheet per section, the summary's first (each table: title, headings, rows) and a
    notes sheet."""
    book = Workbook()
    used: set[str] = set()
    bold = Font(bold=True)
    first = True
    after = _summary_lines(report)
    sections: list[Section] = [report.summary.section()] if report.summary is not None else []
    for section in (*sections, *report.sections):
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = _sheet_name(section.title, used)
        sheet.append([title_of(report) if section.key == "summary" else section.title])
        sheet.cell(1, 1).font = Font(bold=True, size=14)
        sheet.append([section.intro])
        sheet.column_dimensions["A"].width = 48
        for table in section.tables:
            sheet.append([])
            sheet.append([table.title])
            sheet.cell(sheet.max_row, 1).font = bold
            sheet.append([table.row_heading, *[c.heading for c in table.columns]])
            for i in range(1, len(table.columns) + 2):
                cell = sheet.cell(sheet.max_row, i)
                cell.font = bold
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for row in table.rows:
                sheet.append(
                    [row.label, *[f.number if f.symbol is None else f.text for f in row.figures]]
                )
                for i, figure in enumerate(row.figures, start=2):
                    cell = sheet.cell(sheet.max_row, i)
                    cell.alignment = Alignment(horizontal="right")
                    if figure.symbol is None:
                        cell.number_format = (
                            "#,##0" if figure.places == 0 else ("0." + "0" * figure.places)
                        )
            if table.note:
                sheet.append([table.note])
            chart = table.chart
            if chart is not None and chart.footnote:
                sheet.append([chart.footnote])
            for words in after.get(table.key, []):
                sheet.append([words])
        for letter in "BCDEFGHIJK":
            sheet.column_dimensions[letter].width = 16
    notes = book.create_sheet(_sheet_name("Notes", used))
    notes.column_dimensions["A"].width = 40
    notes.column_dimensions["B"].width = 120
    for line in _notes_lines(report):
        notes.append(list(line))
    notes.cell(1, 1).font = Font(bold=True, size=14)
    record = disclosure_record(report.threshold)
    book.custom_doc_props.append(IntProperty("cwsw.suppression_threshold", report.threshold))
    book.custom_doc_props.append(StringProperty("cwsw.suppression_method", METHOD_VERSION))
    if record["warning"]:
        book.custom_doc_props.append(StringProperty("cwsw.warning", str(record["warning"])))
    when = generated_time(report)
    book.properties.created = when
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # openpyxl's own writer, not book.save(): save() stamps the file with the wall clock.
        book.properties.modified = when
        ExcelWriter(book, archive).write_data()
    path.write_bytes(_zip_dated(buffer.getvalue(), when))


def _zip_dated(data: bytes, when: dt.datetime) -> bytes:
    """The zip ``data`` with every entry dated ``when`` (a zip entry otherwise carries the
    time it was written), in the same order and compression."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target,
    ):
        for entry in source.infolist():
            dated = zipfile.ZipInfo(entry.filename, date_time=stamp)
            dated.compress_type = entry.compress_type
            dated.external_attr = entry.external_attr
            target.writestr(dated, source.read(entry))
    return out.getvalue()


def _notes_lines(report: VshReport) -> list[tuple[str, ...]]:
    lines: list[tuple[str, ...]] = [
        (title_of(report),),
        ("Social care status at", report.reference_date),
        ("Suppression", suppression_rule(report)),
        ("Suppression threshold", str(report.threshold)),
        ("Suppression method", METHOD_VERSION),
        ("Generated", f"{report.generated_at} by cwsw {__version__}"),
        (),
        ("Definitions",),
        *report.definitions,
        (),
        ("Sources",),
        *((s,) for s in report.sources),
    ]
    return lines


# -- PDF ---------------------------------------------------------------------------------------

# The core PDF fonts are Latin-1; these are the only other characters the report writes.
_LATIN1 = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


def pdf_text(text: str) -> str:
    """``text`` in the core fonts' character set."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


PDF_CHART_WIDTH = 150.0  # mm
PDF_CHART_HEIGHT = 115.0  # mm at most: a taller chart is drawn narrower
PDF_LINE = 4.2  # mm, a table row
PDF_TABLE_FONT = 8  # pt
PDF_LABEL_WIDTH = 85.0  # mm, the row labels' column


class _Pdf(FPDF):
    report_title = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=7)
        self.set_text_color(80, 90, 95)
        self.cell(0, 5, pdf_text(f"{self.report_title} - page {self.page_no()}"), align="C")


def _para(pdf: _Pdf, height: float, text: str) -> None:
    """A paragraph across the page; the next starts at the left margin below it."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _pdf_table(pdf: _Pdf, table: ReportTable) -> None:
    label_width = PDF_LABEL_WIDTH
    usable = pdf.epw - label_width
    widths = [label_width] + [usable / len(table.columns)] * len(table.columns)
    pdf.set_font("Helvetica", size=PDF_TABLE_FONT)
    headings = FontFace(emphasis="BOLD", fill_color=(243, 242, 241))
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align=("LEFT", *(["RIGHT"] * len(table.columns))),
        headings_style=headings,
        line_height=PDF_LINE,
        borders_layout="HORIZONTAL_LINES",
    ) as grid:
        heading = grid.row()
        for text in (table.row_heading, *[c.heading for c in table.columns]):
            heading.cell(pdf_text(text))
        for row in table.rows:
            cells = grid.row()
            cells.cell(pdf_text(row.label))
            for figure in row.figures:
                cells.cell(figure.text)


def _bullets(pdf: _Pdf, lines: Sequence[str]) -> None:
    pdf.set_font("Helvetica", size=9)
    for line in lines:
        pdf.set_x(pdf.l_margin + 3)
        pdf.multi_cell(0, 4.5, pdf_text(f"- {line}"), new_x="LMARGIN", new_y="NEXT")


def _pdf_summary(pdf: _Pdf, report: VshReport) -> None:
    """The first page: the headline table, what it says, and what changed since last year."""
    summary = report.summary
    if summary is None:
        return
    pdf.ln(2)
    pdf.set_font("Helvetica", size=10)
    _para(pdf, 5, pdf_text(summary.intro))
    pdf.ln(2)
    pdf.set_font("Helvetica", style="B", size=10)
    _para(pdf, 5, pdf_text(summary.headline.title))
    _pdf_table(pdf, summary.headline)
    pdf.ln(2)
    _bullets(pdf, summary.points)
    pdf.ln(2)
    pdf.set_font("Helvetica", style="B", size=11)
    _para(pdf, 6, "What changed since last year")
    pdf.set_font("Helvetica", size=9)
    _para(pdf, 4.5, pdf_text(summary.change_note))
    if summary.changes is not None:
        pdf.ln(1)
        pdf.set_font("Helvetica", style="B", size=10)
        _para(pdf, 5, pdf_text(summary.changes.title))
        _pdf_table(pdf, summary.changes)
        pdf.ln(1)
        _bullets(pdf, summary.change_points)


def write_pdf(report: VshReport, path: Path) -> None:
    """The report as A4 landscape PDF: the summary on the first page, then each section with
    each table's chart above it, then the notes."""
    pdf = _Pdf(orientation="landscape", format="A4")
    pdf.report_title = pdf_text(title_of(report))
    pdf.set_title(pdf.report_title)
    pdf.set_creator(f"cwsw {__version__}")
    pdf.set_creation_date(generated_time(report).replace(tzinfo=dt.UTC))
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_text_color(80, 90, 95)
    _para(pdf, 5, pdf_text(caption_of(report)))
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", style="B", size=18)
    _para(pdf, 9, pdf.report_title)
    pdf.set_font("Helvetica", size=10)
    _para(
        pdf,
        5,
        pdf_text(f"Social care status at {report.reference_date}. {suppression_rule(report)}"),
    )
    _pdf_summary(pdf, report)
    for section in report.sections:
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=15)
        _para(pdf, 8, pdf_text(section.title))
        pdf.set_font("Helvetica", size=9)
        _para(pdf, 4.5, pdf_text(section.intro))
        for table in section.tables:
            pdf.ln(3)
            chart = table.chart
            png = chart.png(scale=2) if chart is not None else b""
            width, height = 0.0, 0.0
            if png:
                width_px, height_px = Image.open(io.BytesIO(png)).size
                width = min(PDF_CHART_WIDTH, PDF_CHART_HEIGHT * width_px / height_px)
                height = width * height_px / width_px
            # Keep the title, the chart and the start of its table on one page (unless the
            # page has barely begun: a new one would hold no more).
            table_start = PDF_LINE * (min(len(table.rows), 8) + 4)
            fresh = pdf.get_y() < pdf.t_margin + 30
            if not fresh and pdf.get_y() + 6 + height + table_start > pdf.page_break_trigger:
                pdf.add_page()
            pdf.set_font("Helvetica", style="B", size=10)
            _para(pdf, 5, pdf_text(table.title))
            if chart is not None:
                pdf.image(io.BytesIO(png), w=width, alt_text=pdf_text(chart.description))
            _pdf_table(pdf, table)
            pdf.set_font("Helvetica", size=7)
            if table.note:
                _para(pdf, 3.5, pdf_text(table.note))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=15)
    _para(pdf, 8, "Notes")
    for line in _notes_lines(report)[1:]:
        pdf.set_font("Helvetica", style="B" if len(line) == 1 else "", size=8)
        _para(pdf, 4, pdf_text(": ".join(line)) if line else "")
    pdf.output(str(path))


# -- all of them -------------------------------------------------------------------------------

_WRITERS: dict[str, Callable[[VshReport, Path], None]] = {
    "html": lambda report, path: _write_text(path, render_html(report)),
    "pdf": write_pdf,
    "xlsx": write_xlsx,
    "csv": write_csv,
    "parquet": write_parquet,
}


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def parse_formats(text: str) -> tuple[str, ...]:
    """``"html,pdf"`` -> ``("html", "pdf")``; an unknown format is refused by name."""
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ValueError(
            f"unknown report format {', '.join(unknown) or repr(text)}: choose from "
            f"{', '.join(FORMATS)}"
        )
    return chosen


def write_report(
    report: VshReport, out_dir: Path, formats: Sequence[str] = FORMATS
) -> dict[str, Path]:
    """Write the report in each of ``formats`` into ``out_dir``; returns format -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in formats:
        path = out_dir / f"{BASENAME}-{slug(report.period)}.{name}"
        _WRITERS[name](report, path)
        paths[name] = path
    return paths


__all__ = ["FORMATS", "parse_formats", "render_html", "tidy", "write_report"]
