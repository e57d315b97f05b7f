"""Disclosed figures as people see them: the one model of the report, the export and the pages.

Every figure that leaves cwsw has been through disclosure control
(:func:`cwsw.indicators.export.disclosed_export`, so :func:`~cwsw.indicators.marts.disclosed_mart`
and the one suppression function). This module turns those disclosed rows into what a reader
sees, one way for every consumer (the VSH report, ``cwsw export marts``, the insight pages):

- **rounding**: DfE's, the exact decimal half away from zero, to the measure's published
  places (:func:`round_half_up`, the one function, from :mod:`cwsw.indicators.rounding`);
- **the shown figure**: :class:`Figure`, its text (``17.4``, ``1,234``) or DfE's symbol (``c``
  suppressed, ``x`` not available, ``z`` not applicable), its number as rounded, its unit and
  the mart row it stands for (:class:`Source`);
- **"x times as likely"**: a cohort's rate over all pupils' (``times_all_pupils``) or over
  pupils with no social worker in the last 6 years (``times_not_cin``), to one decimal place
  (:func:`times_as_likely`), ``z`` for a comparator against itself or a measure that is not
  a rate (:func:`compared_as_ratio`), ``x`` where it is withheld; an average (Attainment 8,
  Progress 8) compares by its difference in points instead
  (:meth:`DisclosedFigures.compared`, :func:`difference`);
- **order**: cohorts (:func:`cohort_order`), a breakdown's values (:func:`value_sort_key`),
  periods (:func:`period_sort_key`); **labels** from :mod:`cwsw.domain.labels`;
- **tables**: :class:`Table` of :class:`Row` of :class:`Figure`, built from
  :class:`DisclosedFigures` (the disclosed rows, looked up by mart key).

No Django, no file: the web pages, the report and the export lay these tables out.
"""

from __future__ import annotations

from cwsw.domain.labels import BREAKDOWN_LABELS, COHORT_LABELS, breakdown_label, cohort_label
from cwsw.indicators.benchmarks import times_as_likely
from cwsw.indicators.figures.lookup import DisclosedFigures
from cwsw.indicators.figures.order import (
    COHORT_ORDER,
    COMPARATORS,
    breakdown_phrase,
    cohort_order,
    in_reading_order,
    period_sort_key,
    previous_period,
    value_sort_key,
)
from cwsw.indicators.figures.shown import (
    ABSENCE_COLUMNS,
    CHANGE,
    CHANGE_UNITS,
    COMPARATOR,
    DIFFERENCE,
    RATE_UNITS,
    RATIO_PLACES,
    SHARE,
    TIMES_ALL_PUPILS,
    TIMES_AS_LIKELY,
    TIMES_NOT_CIN,
    VALUE,
    Figure,
    Source,
    change,
    compared_as_ratio,
    difference,
    measure_heading,
    number_text,
    published_figure,
    unit_title,
    with_unit,
)
from cwsw.indicators.figures.tables import (
    Column,
    ColumnSpec,
    Row,
    Table,
    benchmark_headings,
    benchmark_rows,
    breakdown_rows,
    breakdown_title,
    cohort_columns,
    cohort_rows,
    column_field,
    period_rows,
    present,
    ratio_columns,
    slug,
)
from cwsw.indicators.rounding import round_half_up

__all__ = [
    "ABSENCE_COLUMNS",
    "BREAKDOWN_LABELS",
    "CHANGE",
    "CHANGE_UNITS",
    "COHORT_LABELS",
    "COHORT_ORDER",
    "COMPARATOR",
    "COMPARATORS",
    "DIFFERENCE",
    "RATE_UNITS",
    "RATIO_PLACES",
    "SHARE",
    "TIMES_ALL_PUPILS",
    "TIMES_AS_LIKELY",
    "TIMES_NOT_CIN",
    "VALUE",
    "Column",
    "ColumnSpec",
    "DisclosedFigures",
    "Figure",
    "Row",
    "Source",
    "Table",
    "benchmark_headings",
    "benchmark_rows",
    "breakdown_label",
    "breakdown_phrase",
    "breakdown_rows",
    "breakdown_title",
    "change",
    "cohort_columns",
    "cohort_label",
    "cohort_order",
    "cohort_rows",
    "column_field",
    "compared_as_ratio",
    "difference",
    "in_reading_order",
    "measure_heading",
    "number_text",
    "period_rows",
    "period_sort_key",
    "present",
    "previous_period",
    "published_figure",
    "ratio_columns",
    "round_half_up",
    "slug",
    "times_as_likely",
    "unit_title",
    "value_sort_key",
    "with_unit",
]
