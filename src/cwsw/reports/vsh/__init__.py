"""The Virtual School Head's report: the cohort's figures, section by section, as tables.

:func:`build_report` reads the marts through the export's disclosure gate
(:func:`cwsw.indicators.export.disclosed_export`: aggregate-role output, primary and secondary
suppression, DfE symbols, "x times as likely" from disclosed figures only) and lays the
figures out as :class:`ReportTable` s of the one model of shown figures
(:mod:`cwsw.indicators.figures`, which the export and the insight pages use too). It computes
no measure: every number is a disclosed mart figure (rounded to DfE's published places), a
published DfE figure, or a change between two figures shown. Each chart is drawn from its
own table's figures, so the chart and the table cannot disagree. The writers
(:mod:`cwsw.reports.writers`) turn one :class:`VshReport` into HTML, PDF, Excel, CSV and
Parquet.

The package: :mod:`.model` (report, section, table, chart plan; figure, source, row and
column are the one model's), one module per section (:mod:`.summary`, :mod:`.cohort`,
:mod:`.attendance`, :mod:`.exclusions`, :mod:`.sen_fsm`, :mod:`.attainment`, :mod:`.trends`,
:mod:`.benchmarks`), :mod:`.notes` (definitions and sources) and :mod:`.builder`.
"""

from __future__ import annotations

from cwsw.domain.labels import COHORT_LABELS as LABELS
from cwsw.indicators.figures import COHORT_ORDER as COHORTS
from cwsw.reports.vsh.builder import build_report, load_published, read_report, report_cohorts
from cwsw.reports.vsh.model import (
    TIMES_ALL_PUPILS,
    TIMES_NOT_CIN,
    VALUE,
    ChartPlan,
    Column,
    Figure,
    NoMarts,
    ReportTable,
    Row,
    Section,
    Source,
    Summary,
    VshReport,
    plain,
    slug,
)
from cwsw.reports.vsh.notes import COHORT_DEFINITIONS, CONFIGURED
from cwsw.reports.vsh.tables import COMPARED

__all__ = [
    "COHORTS",
    "COHORT_DEFINITIONS",
    "COMPARED",
    "CONFIGURED",
    "LABELS",
    "TIMES_ALL_PUPILS",
    "TIMES_NOT_CIN",
    "VALUE",
    "ChartPlan",
    "Column",
    "Figure",
    "NoMarts",
    "ReportTable",
    "Row",
    "Section",
    "Source",
    "Summary",
    "VshReport",
    "build_report",
    "load_published",
    "plain",
    "read_report",
    "report_cohorts",
    "slug",
]
