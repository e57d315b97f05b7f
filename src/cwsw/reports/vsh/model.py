"""The report's model: sections of tables of shown figures, each table with its chart plan.

A figure, its source (the mart row it stands for), a column and a row are the one model's
(:mod:`cwsw.indicators.figures`), so the report shows every figure as the export and the
insight pages do. A :class:`ReportTable` is that model's :class:`~cwsw.indicators.figures.Table`
with what the report adds: which columns its chart draws (:class:`ChartPlan`), a note, and
the ids of its cells. The writers (:mod:`cwsw.reports.writers`) only format a
:class:`VshReport`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from cwsw.errors import UserError
from cwsw.indicators.figures import (
    TIMES_ALL_PUPILS,
    TIMES_NOT_CIN,
    VALUE,
    Column,
    Figure,
    Row,
    Source,
    Table,
    slug,
)
from cwsw.reports import charts

__all__ = [
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
    "plain",
    "slug",
]


class NoMarts(UserError, LookupError):
    """The warehouse has no marts (or none for the period asked for)."""


@dataclass(frozen=True)
class ChartPlan:
    """Which of a table's columns a chart draws (as series, or one series), and how."""

    columns: tuple[str, ...]  # column fields
    kind: str = "bar"  # bar or line
    rows: tuple[str, ...] | None = None  # row keys (None: every row)
    value_title: str = "%"
    description: str = ""


@dataclass(frozen=True)
class ReportTable(Table):
    """A table of the report: the one model's table, with its chart plan, a note under it, and
    the prefix of its cells' ids (``<prefix>-<row key>-<column field>``)."""

    chart_plan: ChartPlan | None = None
    note: str = ""
    testid_prefix: str = ""

    def testid(self, row: Row, column: Column) -> str:
        return f"{self.testid_prefix or self.key}-{row.key}-{column.field}"

    def chart_frame(self) -> pd.DataFrame:
        """The figures the chart draws: one row per (table row, column), from this table."""
        plan = self.chart_plan
        if plan is None:
            return pd.DataFrame(columns=["category", "series", "value", "symbol"])
        index = {c.field: i for i, c in enumerate(self.columns)}
        records = [
            {
                "category": row.label,
                "series": self.columns[index[name]].heading,
                "value": row.figures[index[name]].number,
                "symbol": row.figures[index[name]].symbol,
            }
            for row in self.rows
            if plan.rows is None or row.key in plan.rows
            for name in plan.columns
            if name in index
        ]
        return pd.DataFrame(records, columns=["category", "series", "value", "symbol"])

    @cached_property
    def chart(self) -> charts.Chart | None:
        """The table's chart, or None (no plan, or every figure in it withheld)."""
        plan = self.chart_plan
        if plan is None:
            return None
        frame = self.chart_frame()
        if not any(charts.is_shown(v, s) for v, s in zip(frame.value, frame.symbol, strict=True)):
            return None
        index = {c.field: i for i, c in enumerate(self.columns)}
        places = max(
            (
                r.figures[index[c]].places
                for r in self.rows
                for c in plan.columns
                if c in index and r.figures[index[c]].number is not None
            ),
            default=1,
        )
        options: dict[str, Any] = {
            "value": "value",
            "title": self.title,
            "description": plan.description or f"Chart of the figures in the table '{self.title}'.",
            "value_title": plan.value_title,
            "series": "series" if len(plan.columns) > 1 else None,
            "series_order": [c.heading for c in self.columns if c.field in plan.columns],
            "value_format": f",.{places}f",
        }
        order = list(dict.fromkeys(frame.category))
        if plan.kind == "line":
            return charts.line_chart(frame, period="category", order=order, **options)
        return charts.bar_chart(frame, category="category", order=order, **options)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    tables: tuple[ReportTable, ...]


@dataclass(frozen=True)
class Summary:
    """The first page: the headline figures against all pupils, what they say in words, and
    what changed since the previous year (or why that cannot be said)."""

    intro: str
    points: tuple[str, ...]
    headline: ReportTable
    previous_period: str  # "" when the marts hold no earlier year to compare with
    changes: ReportTable | None
    change_points: tuple[str, ...]
    change_note: str

    @property
    def tables(self) -> tuple[ReportTable, ...]:
        return (self.headline,) if self.changes is None else (self.headline, self.changes)

    def section(self) -> Section:
        """The summary as a section (for the writers that lay every section out alike)."""
        return Section("summary", "Summary", self.intro, self.tables)


@dataclass(frozen=True)
class VshReport:
    academic_year: str
    period: str
    reference_date: str
    threshold: int
    sections: tuple[Section, ...]
    definitions: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]
    generated_at: str
    notes: tuple[str, ...] = field(default=())
    la_name: str = ""
    summary: Summary | None = None

    @property
    def tables(self) -> list[tuple[Section, ReportTable]]:
        """Every table with its section, the summary's first."""
        first = [self.summary.section()] if self.summary is not None else []
        return [(s, t) for s in (*first, *self.sections) for t in s.tables]


# Markup a source text may carry (reStructuredText literals, Markdown emphasis, HTML breaks):
# the report shows words, never the markup around them.
_LITERAL = re.compile(r"`+([^`]*)`+")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_BREAK = re.compile(r"<br\s*/?>|<[^>]+>", re.IGNORECASE)


def plain(text: str) -> str:
    """``text`` without markup: ``EES ``susp_rate`` `` -> ``EES susp_rate``."""
    text = _BREAK.sub(" ", text)
    text = _LITERAL.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return " ".join(text.replace("`", "").replace("**", "").split())
