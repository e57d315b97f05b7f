"""The Virtual School Head's report: the cohort's figures, section by section, as tables.

:func:`build_report` reads the marts through the export's disclosure gate
(:func:`cwsw.indicators.export.disclosed_export`: aggregate-role output, primary and secondary
suppression, DfE symbols, "x times as likely" from disclosed figures only) and lays the
figures out as :class:`ReportTable` s. It computes no measure: every number is a disclosed
mart figure (rounded to DfE's published places) or a published DfE figure. Each chart is
drawn from its own table's figures, so the chart and the table cannot disagree. The writers
(:mod:`cwsw.reports.writers`) turn one :class:`VshReport` into HTML, PDF, Excel, CSV and Parquet.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from cwsw.cohort.definitions import ALL_PUPILS, CIN_IN_YEAR, DEFAULT_COHORTS, NEVER_CIN_6_YEARS
from cwsw.cohort.groups import CINO, CLA_12_MONTHS, CPPO
from cwsw.indicators import benchmarks
from cwsw.indicators.export import disclosed_export
from cwsw.indicators.marts import EVER_CIN_6_YEARS, MART, TERM
from cwsw.indicators.measures import BY_NAME
from cwsw.indicators.rounding import format_rounded, round_half_up
from cwsw.indicators.suppression import Symbol
from cwsw.reports import charts
from cwsw.warehouse.connection import Warehouse

# The report's cohorts, in display order, with the label a reader sees.
LABELS = {spec.name: spec.display_label for spec in DEFAULT_COHORTS}
COHORTS = (CINO, CPPO, CLA_12_MONTHS, CIN_IN_YEAR, EVER_CIN_6_YEARS, NEVER_CIN_6_YEARS, ALL_PUPILS)
# Cohorts a breakdown or trend is shown for (one column each).
COMPARED = (CINO, CPPO, CLA_12_MONTHS, EVER_CIN_6_YEARS, ALL_PUPILS)
COHORT_DEFINITIONS = {
    CINO: "In need at 31 March, not on a child protection plan or looked after (DfE's "
    "hierarchy: looked after, then on a plan, then in need).",
    CPPO: "On a child protection plan at 31 March, not looked after.",
    CLA_12_MONTHS: "Looked after at 31 March, the current period of care having begun on or "
    "before 31 March a year earlier.",
    CIN_IN_YEAR: "Any child in need episode, child protection plan or period of care open at "
    "any time from 1 April to 31 March.",
    EVER_CIN_6_YEARS: "A child in need episode open at any time in the six collection years to "
    "31 March.",
    NEVER_CIN_6_YEARS: "Pupils not in the cohort above: no social worker in the last 6 years.",
    ALL_PUPILS: "Every pupil of the population.",
}
CONFIGURED = "Defined in the cohorts configuration given to `cwsw build --cohorts`."
TERM_ORDER = ("autumn", "spring", "summer")
VALUE = "value"
TIMES_ALL_PUPILS = "times_all_pupils"
TIMES_NOT_CIN = "times_not_cin"


class NoMarts(LookupError):
    """The warehouse has no marts (or none for the period asked for)."""


@dataclass(frozen=True)
class Source:
    """Where a figure came from: the mart row (or the published figure) and which part."""

    measure: str
    cohort: str = ""
    period: str = ""
    breakdown: str = "total"
    breakdown_value: str = "All"
    kind: str = VALUE  # value, times_all_pupils, times_not_cin, england, region, ...


@dataclass(frozen=True)
class Figure:
    """One figure as shown: its text (a number as DfE rounds it, or a symbol), the number
    itself (None where a symbol stands), its unit and where it came from."""

    text: str
    number: float | None
    symbol: str | None
    unit: str
    source: Source
    places: int = 1

    @classmethod
    def withheld(cls, symbol: str, unit: str, source: Source) -> Figure:
        return cls(symbol, None, symbol, unit, source)

    @classmethod
    def shown(cls, value: float | Decimal, places: int, unit: str, source: Source) -> Figure:
        """A number, rounded half away from zero to ``places`` as DfE publishes it."""
        rounded = round_half_up(value, places)
        return cls(format_rounded(rounded, places), float(rounded), None, unit, source, places)


@dataclass(frozen=True)
class Column:
    heading: str
    field: str  # part of each cell's data-testid


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class ChartPlan:
    """Which of a table's columns a chart draws (as series, or one series), and how."""

    columns: tuple[str, ...]  # column fields
    kind: str = "bar"  # bar or line
    rows: tuple[str, ...] | None = None  # row keys (None: every row)
    value_title: str = "%"
    description: str = ""


@dataclass(frozen=True)
class ReportTable:
    key: str
    title: str
    row_heading: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
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
        if plan.kind == "line":
            return charts.line_chart(
                frame, period="category", order=list(dict.fromkeys(frame.category)), **options
            )
        return charts.bar_chart(
            frame, category="category", order=list(dict.fromkeys(frame.category)), **options
        )


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    tables: tuple[ReportTable, ...]


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

    @property
    def tables(self) -> list[tuple[Section, ReportTable]]:
        return [(s, t) for s in self.sections for t in s.tables]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# -- reading the disclosed marts ---------------------------------------------------------------


class Figures:
    """The disclosed marts, looked up by period, measure, cohort and breakdown value."""

    def __init__(self, disclosed: pd.DataFrame) -> None:
        self.frame = disclosed
        keys = zip(
            disclosed.period,
            disclosed.measure,
            disclosed.cohort,
            disclosed.breakdown,
            disclosed.breakdown_value,
            strict=True,
        )
        self.rows = dict(zip(keys, disclosed.to_dict("records"), strict=True))

    def has(self, measure: str, period: str) -> bool:
        return any(k[0] == period and k[1] == measure for k in self.rows)

    def breakdown_values(self, breakdown: str, period: str, measure: str) -> list[str]:
        found = {
            k[4] for k in self.rows if k[0] == period and k[1] == measure and k[3] == breakdown
        }
        return sorted(found, key=_value_order)

    def get(
        self,
        period: str,
        measure: str,
        cohort: str,
        breakdown: str = "total",
        breakdown_value: str = "All",
        kind: str = VALUE,
    ) -> Figure:
        spec = BY_NAME[measure]
        unit = "times as likely" if kind != VALUE else spec.unit
        source = Source(measure, cohort, period, breakdown, breakdown_value, kind)
        record = self.rows.get((period, measure, cohort, breakdown, breakdown_value))
        if record is None:
            return Figure.withheld(str(Symbol.NOT_AVAILABLE), unit, source)
        comparator = ALL_PUPILS if kind == TIMES_ALL_PUPILS else NEVER_CIN_6_YEARS
        if kind != VALUE and cohort == comparator:  # a cohort against itself
            return Figure.withheld(str(Symbol.NOT_APPLICABLE), unit, source)
        symbol = record["symbol"]
        if isinstance(symbol, str) and symbol:
            return Figure.withheld(symbol, unit, source)
        if kind == VALUE:
            return Figure.shown(record["value"], spec.places, unit, source)
        ratio = record[kind]
        if ratio is None or pd.isna(ratio):
            return Figure.withheld(str(Symbol.NOT_AVAILABLE), unit, source)
        return Figure.shown(float(ratio), 1, unit, source)


_ORDER = {
    v: i
    for i, v in enumerate(
        (
            "Primary",
            "Secondary",
            "Special",
            "Alternative provision",
            "Male",
            "Female",
            "No SEN",
            "SEN support",
            "EHC plan",
            "FSM",
            "Not FSM",
            "FSM and SEN",
            "FSM, no SEN",
            "SEN, not FSM",
            "Neither FSM nor SEN",
            "White",
            "Mixed",
            "Asian",
            "Black",
            "Any other ethnic group",
            "Unclassified",
            "Not in a group",
            "Unknown",
        )
    )
}


def _value_order(value: str) -> tuple[int, int, str]:
    """Known values in DfE's order, NC years by number (R first), then the rest."""
    if value == "R":
        return (0, -1, value)
    if value.isdigit():
        return (0, int(value), value)
    return (1, _ORDER.get(value, len(_ORDER)), value)


# -- the tables --------------------------------------------------------------------------------


def _cohort_table(
    figures: Figures,
    period: str,
    cohorts: Sequence[str],
    key: str,
    title: str,
    columns: Sequence[tuple[str, str, str]],  # (heading, measure, kind)
    chart_plan: ChartPlan | None = None,
    note: str = "",
    testid_prefix: str = "",
    fields: Sequence[str] | None = None,
) -> ReportTable:
    names = fields or [f"{m}" if k == VALUE else f"{m}_{k}" for _, m, k in columns]
    rows = tuple(
        Row(
            LABELS.get(c, c),
            c,
            tuple(figures.get(period, m, c, kind=k) for _, m, k in columns),
        )
        for c in cohorts
    )
    return ReportTable(
        key,
        title,
        "Cohort",
        tuple(Column(h, f) for (h, _, _), f in zip(columns, names, strict=True)),
        rows,
        chart_plan,
        note,
        testid_prefix,
    )


def _breakdown_table(
    figures: Figures, period: str, measure: str, breakdown: str, heading: str, year: str
) -> ReportTable | None:
    values = figures.breakdown_values(breakdown, period, measure)
    if not values:
        return None
    cohorts = [c for c in COMPARED if any(k[2] == c for k in figures.rows)]
    spec = BY_NAME[measure]
    rows = tuple(
        Row(
            f"Year {v}" if breakdown == "nc_year" and v != "R" else v,
            slug(v),
            tuple(figures.get(period, measure, c, breakdown, v) for c in cohorts),
        )
        for v in values
    )
    title = f"{spec.title} by {heading}, {year}"
    return ReportTable(
        f"{measure}-by-{breakdown}",
        title,
        heading.capitalize(),
        tuple(Column(LABELS.get(c, c), slug(c)) for c in cohorts),
        rows,
        ChartPlan(
            tuple(slug(c) for c in cohorts),
            value_title=_unit_title(measure),
            description=f"Horizontal bars: {spec.title.lower()} ({spec.unit}) by {heading}, one "
            f"bar per cohort. Withheld figures are not drawn; the table gives every figure.",
        ),
    )


def _trend_table(
    figures: Figures,
    periods: Sequence[str],
    measure: str,
    key: str,
    title: str,
    period_heading: str,
) -> ReportTable:
    cohorts = [c for c in COMPARED if any(k[2] == c for k in figures.rows)]
    rows = tuple(
        Row(p, slug(p), tuple(figures.get(p, measure, c) for c in cohorts)) for p in periods
    )
    spec = BY_NAME[measure]
    return ReportTable(
        key,
        title,
        period_heading,
        tuple(Column(LABELS.get(c, c), slug(c)) for c in cohorts),
        rows,
        ChartPlan(
            tuple(slug(c) for c in cohorts),
            kind="line",
            value_title=_unit_title(measure),
            description=f"Lines: {spec.title.lower()} ({spec.unit}) over time, one line per "
            "cohort. Withheld figures are not drawn; the table gives every figure.",
        ),
    )


def _unit_title(measure: str) -> str:
    spec = BY_NAME[measure]
    return {
        "%": "%",
        "per 100 pupils": "per 100 pupils",
        "average": "average score",
        "count": "pupils",
    }[spec.unit]


def _present(
    figures: Figures, period: str, measures: Iterable[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    return [c for c in measures if figures.has(c[1], period)]


def _ratio_columns(measure: str, label: str) -> list[tuple[str, str, str]]:
    return [
        (label, measure, VALUE),
        (f"{label}: times as likely as all pupils", measure, TIMES_ALL_PUPILS),
        (f"{label}: times as likely as pupils with no social worker", measure, TIMES_NOT_CIN),
    ]


def report_cohorts(present: set[str]) -> list[str]:
    """The marts' cohorts in display order: DfE's groups and the other social care cohorts,
    then any a user configured, then the comparators (no social worker, all pupils)."""
    comparators = (NEVER_CIN_6_YEARS, ALL_PUPILS)
    first = [c for c in COHORTS if c in present and c not in comparators]
    configured = sorted(present - set(COHORTS))
    return [*first, *configured, *(c for c in comparators if c in present)]


def build_report(
    disclosed: pd.DataFrame,
    *,
    threshold: int,
    period: str | None = None,
    published: pd.DataFrame | None = None,
    la_code: str | None = None,
    neighbours: pd.DataFrame | None = None,
) -> VshReport:
    """The report's tables from the disclosed marts (``disclosed_export`` of ``mart_measure``).

    ``period`` is an academic year (``2024/25``, the default the newest) or one of its terms
    (``2024/25 autumn term``: attendance is then that term's). ``published`` (from
    :func:`cwsw.indicators.benchmarks.published_measures`) adds England, the region and the
    statistical neighbours (``la_code``, ``neighbours``) where they are given.
    """
    if disclosed.empty:
        raise NoMarts("no marts have been built: run `cwsw build` first")
    years = sorted(set(disclosed.academic_year))
    year, term_period = _resolve_period(disclosed, period, years)
    figures = Figures(disclosed)
    attendance_period = term_period or year
    cohorts = report_cohorts(set(disclosed.cohort))
    terms = _terms_of(disclosed, year)
    if term_period is not None:  # a termly report: the terms up to its own
        terms = terms[: terms.index(term_period) + 1]
    earlier_years = [y for y in years if y <= year]
    sections = [
        _cohort_section(figures, year, cohorts),
        _attendance_section(figures, year, attendance_period, cohorts),
        _exclusions_section(figures, year, cohorts),
        _sen_fsm_section(figures, year, cohorts),
        _attainment_section(figures, year, cohorts),
    ]
    trends = _trends_section(figures, earlier_years, terms, year)
    if trends is not None:
        sections.append(trends)
    if published is not None and not published.empty:
        comparison = _benchmark_section(figures, year, published, la_code, neighbours)
        if comparison is not None:
            sections.append(comparison)
    rows = disclosed[disclosed.academic_year == year]
    reference = pd.Timestamp(rows.reference_date.iloc[0]).date()
    used = {f.source.measure for s in sections for t in s.tables for r in t.rows for f in r.figures}
    definitions = tuple(
        (BY_NAME[m].title, BY_NAME[m].definition) for m in BY_NAME if m in used
    ) + tuple((LABELS.get(c, c), COHORT_DEFINITIONS.get(c, CONFIGURED)) for c in cohorts)
    sources = sorted({s for loads in rows.source_loads for s in str(loads).split(",") if s})
    return VshReport(
        academic_year=year,
        period=attendance_period,
        reference_date=f"{reference.day} {reference:%B %Y}",
        threshold=threshold,
        sections=tuple(s for s in sections if s.tables),
        definitions=definitions,
        sources=tuple(sources),
        generated_at=dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
    )


def _resolve_period(
    disclosed: pd.DataFrame, period: str | None, years: list[str]
) -> tuple[str, str | None]:
    if period is None:
        return years[-1], None
    if period in years:
        return period, None
    terms = disclosed[(disclosed.period_type == TERM) & (disclosed.period == period)]
    if terms.empty:
        known = ", ".join(sorted(set(disclosed.period)))
        raise NoMarts(f"no marts for period {period!r} (built: {known})")
    return str(terms.academic_year.iloc[0]), period


def _terms_of(disclosed: pd.DataFrame, year: str) -> list[str]:
    found = set(
        disclosed.period[(disclosed.period_type == TERM) & (disclosed.academic_year == year)]
    )
    return sorted(found, key=lambda p: next((i for i, t in enumerate(TERM_ORDER) if t in p), 9))


def _cohort_section(figures: Figures, year: str, cohorts: list[str]) -> Section:
    columns = _present(
        figures,
        year,
        [
            ("Pupils (spring census)", "pupils", VALUE),
            ("Enrolments (absence)", "enrolments", VALUE),
            ("Pupils at the end of KS2", "ks2_pupils", VALUE),
            ("Pupils at the end of KS4", "ks4_pupils", VALUE),
        ],
    )
    social_care = tuple(c for c in cohorts if c not in (NEVER_CIN_6_YEARS, ALL_PUPILS))
    table = _cohort_table(
        figures,
        year,
        cohorts,
        "cohort-sizes",
        f"Children in each cohort, {year}",
        columns,
        ChartPlan(
            ("pupils",),
            rows=social_care,
            value_title="pupils",
            description="Horizontal bars: the number of pupils in each social care cohort at "
            "the spring census. All pupils and pupils with no social worker are in the table.",
        ),
    )
    return Section(
        "cohort",
        "The cohort",
        "How many children had a social worker, by DfE's groups at 31 March, at any point in "
        "the year, and at any time in the last six years, beside all pupils.",
        (table,),
    )


def _attendance_section(figures: Figures, year: str, period: str, cohorts: list[str]) -> Section:
    columns = [
        ("Pupil enrolments", "enrolments", VALUE),
        ("Overall absence (%)", "overall_absence", VALUE),
        ("Persistent absence (%)", "persistent_absence", VALUE),
        ("Severe absence (%)", "severe_absence", VALUE),
        (
            "Persistently absent: times as likely as all pupils",
            "persistent_absence",
            TIMES_ALL_PUPILS,
        ),
        (
            "Persistently absent: times as likely as pupils with no social worker",
            "persistent_absence",
            TIMES_NOT_CIN,
        ),
        ("Severely absent: times as likely as all pupils", "severe_absence", TIMES_ALL_PUPILS),
        ("Authorised absence (%)", "authorised_absence", VALUE),
        ("Unauthorised absence (%)", "unauthorised_absence", VALUE),
    ]
    # The first five fields keep the names the web page's cells use (cell-<cohort>-<field>).
    fields = [
        "pupils",
        "overall_absence",
        "persistent_absence",
        "severe_absence",
        "persistent_absence_ratio",
        "persistent_absence_times_not_cin",
        "severe_absence_ratio",
        "authorised_absence",
        "unauthorised_absence",
    ]
    headline = _cohort_table(
        figures,
        period,
        cohorts,
        "attendance",
        f"Absence by cohort, {period}",
        columns,
        ChartPlan(
            ("overall_absence", "persistent_absence", "severe_absence"),
            description="Horizontal bars: overall absence rate (% of possible sessions), and "
            "persistent and severe absence (% of enrolments missing 10% or more, and 50% or "
            "more, of possible sessions), for each cohort.",
        ),
        testid_prefix="cell",
        fields=fields,
    )
    tables = [headline]
    for breakdown, heading in (
        ("phase", "phase of school"),
        ("sex", "sex"),
        ("sen", "SEN provision"),
        ("fsm_sen", "FSM and SEN"),
        ("ethnicity", "ethnic group"),
    ):
        table = _breakdown_table(figures, year, "persistent_absence", breakdown, heading, year)
        if table is not None:
            tables.append(table)
    return Section(
        "attendance",
        "Attendance",
        f"Absence over the {'term' if period != year else 'six half terms of the year'} for "
        "pupils in NC years 1 to 11 of state-funded primary, secondary and special schools, "
        "each enrolment against its own possible sessions.",
        tuple(tables),
    )


def _exclusions_section(figures: Figures, year: str, cohorts: list[str]) -> Section:
    columns = _present(
        figures,
        year,
        [
            ("Pupils", "pupils", VALUE),
            *_ratio_columns("one_plus_suspension", "One or more suspensions (%)"),
            ("Suspensions per 100 pupils", "suspension_rate", VALUE),
            *_ratio_columns("permanent_exclusion", "Permanently excluded (%)"),
        ],
    )
    table = _cohort_table(
        figures,
        year,
        cohorts,
        "exclusions",
        f"Suspensions and permanent exclusions by cohort, {year}",
        columns,
        ChartPlan(
            ("one_plus_suspension", "permanent_exclusion"),
            description="Horizontal bars: the percentage of pupils with one or more "
            "suspensions, and permanently excluded, in the year, for each cohort.",
        ),
    )
    tables = [table]
    for breakdown, heading in (("phase", "phase of school"), ("sex", "sex")):
        extra = _breakdown_table(figures, year, "one_plus_suspension", breakdown, heading, year)
        if extra is not None:
            tables.append(extra)
    return Section(
        "exclusions",
        "Exclusions",
        "Suspensions and permanent exclusions in the academic year, of pupils on roll at the "
        "spring census.",
        tuple(tables),
    )


def _sen_fsm_section(figures: Figures, year: str, cohorts: list[str]) -> Section:
    columns = _present(
        figures,
        year,
        [
            *_ratio_columns("sen_support", "SEN support (%)"),
            *_ratio_columns("ehc_plan", "EHC plan (%)"),
            *_ratio_columns("fsm", "Eligible for FSM (%)"),
            ("Eligible for FSM in the last 6 years (%)", "fsm6", VALUE),
        ],
    )
    table = _cohort_table(
        figures,
        year,
        cohorts,
        "sen-fsm",
        f"Special educational needs and free school meals by cohort, {year}",
        columns,
        ChartPlan(
            ("sen_support", "ehc_plan", "fsm"),
            description="Horizontal bars: the percentage of pupils with SEN support, with an "
            "EHC plan, and eligible for free school meals, for each cohort.",
        ),
    )
    tables = [table]
    overlap = _breakdown_table(figures, year, "pupils", "fsm_sen", "FSM and SEN", year)
    if overlap is not None:
        tables.append(
            ReportTable(
                "fsm-sen-overlap",
                f"Pupils by free school meals and SEN together, {year}",
                overlap.row_heading,
                overlap.columns,
                overlap.rows,
                None,
                "The overlap of FSM eligibility and SEN, as the 2019 Children in Need review "
                "reported it: pupils in each combination (counts).",
            )
        )
    return Section(
        "sen-fsm",
        "SEN and FSM",
        "Special educational needs provision and free school meal eligibility at the spring "
        "census.",
        tuple(tables),
    )


def _attainment_section(figures: Figures, year: str, cohorts: list[str]) -> Section:
    ks2 = _present(
        figures,
        year,
        [
            ("Pupils at the end of KS2", "ks2_pupils", VALUE),
            *_ratio_columns("ks2_rwm_expected", "Expected standard in RWM (%)"),
        ],
    )
    ks4 = _present(
        figures,
        year,
        [
            ("Pupils at the end of KS4", "ks4_pupils", VALUE),
            ("Average Attainment 8", "ks4_attainment8", VALUE),
            *_ratio_columns("ks4_basics_94", "Grade 4 or above in English and maths (%)"),
            ("Grade 5 or above in English and maths (%)", "ks4_basics_95", VALUE),
            ("Average Progress 8", "ks4_progress8", VALUE),
        ],
    )
    tables = []
    if ks2:
        tables.append(
            _cohort_table(
                figures,
                year,
                cohorts,
                "ks2",
                f"Key stage 2 by cohort, {year}",
                ks2,
                ChartPlan(
                    ("ks2_rwm_expected",),
                    description="Horizontal bars: the percentage of pupils reaching the "
                    "expected standard in reading, writing and maths at KS2, for each cohort.",
                ),
            )
        )
    if ks4:
        present = {m for _, m, _ in ks4}
        tables.append(
            _cohort_table(
                figures,
                year,
                cohorts,
                "ks4",
                f"Key stage 4 by cohort, {year}",
                ks4,
                ChartPlan(
                    tuple(m for m in ("ks4_basics_94", "ks4_basics_95") if m in present),
                    description="Horizontal bars: the percentage of pupils with grade 4 or "
                    "above, and grade 5 or above, in English and maths, for each cohort.",
                ),
                note="Progress 8 is shown where the KS4 results carry it.",
            )
        )
        if "ks4_attainment8" in present:
            tables.append(
                _cohort_table(
                    figures,
                    year,
                    cohorts,
                    "attainment8",
                    f"Average Attainment 8 by cohort, {year}",
                    [("Average Attainment 8", "ks4_attainment8", VALUE)],
                    ChartPlan(
                        ("ks4_attainment8",),
                        value_title="average score",
                        description="Horizontal bars: the average Attainment 8 score of "
                        "pupils at the end of KS4, for each cohort.",
                    ),
                )
            )
    return Section(
        "attainment",
        "Attainment",
        "Results at the end of key stage 2 and key stage 4 in the academic year.",
        tuple(tables),
    )


def _trends_section(
    figures: Figures, years: list[str], terms: list[str], year: str
) -> Section | None:
    tables = []
    if len(terms) > 1:
        for measure in ("overall_absence", "persistent_absence"):
            tables.append(
                _trend_table(
                    figures,
                    terms,
                    measure,
                    f"{measure}-by-term",
                    f"{BY_NAME[measure].title} by term, {year}",
                    "Term",
                )
            )
    if len(years) > 1:
        for measure in (
            "overall_absence",
            "persistent_absence",
            "one_plus_suspension",
            "ks2_rwm_expected",
            "ks4_attainment8",
        ):
            if any(figures.has(measure, y) for y in years):
                tables.append(
                    _trend_table(
                        figures,
                        years,
                        measure,
                        f"{measure}-by-year",
                        f"{BY_NAME[measure].title} by year",
                        "Academic year",
                    )
                )
    if not tables:
        return None
    return Section(
        "trends",
        "Trends",
        "The same measures over the terms of the year and over the years built, for each "
        "cohort (each year's social care groups at its own 31 March).",
        tuple(tables),
    )


# -- England, the region and statistical neighbours --------------------------------------------


def _published_figure(value: object, symbol: object, measure: str, kind: str) -> Figure:
    """A DfE published figure (a Decimal, or its symbol) as shown."""
    spec = BY_NAME[measure]
    source = Source(measure, kind=kind)
    if isinstance(symbol, str) and symbol:
        return Figure.withheld(symbol, spec.unit, source)
    if isinstance(value, Decimal) and value.is_finite():
        return Figure.shown(value, spec.places, spec.unit, source)
    if isinstance(value, float | int) and math.isfinite(value):
        return Figure.shown(float(value), spec.places, spec.unit, source)
    return Figure.withheld(str(Symbol.NOT_AVAILABLE), spec.unit, source)


def _benchmark_section(
    figures: Figures,
    year: str,
    published: pd.DataFrame,
    la_code: str | None,
    neighbours: pd.DataFrame | None,
) -> Section | None:
    found = benchmarks.benchmark_tables(published, year, la_code, neighbours)
    published_year = found.published_year
    tables = []
    for measure, benchmark_rows in found.tables:
        rows = []
        for row in benchmark_rows:
            cells = [
                figures.get(year, measure, row.cohort),
                _published_figure(row.england, row.england_symbol, measure, "england"),
            ]
            if found.local:
                cells.append(_published_figure(row.region, None, measure, "region"))
                cells.append(
                    _published_figure(
                        row.statistical_neighbours, None, measure, "statistical_neighbours"
                    )
                )
            rows.append(Row(LABELS.get(row.cohort, row.cohort), row.cohort, tuple(cells)))
        headings = ["This local authority", f"England ({published_year})"]
        if found.local:
            headings += [f"Region ({published_year})", f"Statistical neighbours ({published_year})"]
        columns = tuple(Column(h, slug(h.split(" (")[0])) for h in headings)
        spec = BY_NAME[measure]
        tables.append(
            ReportTable(
                f"{measure}-benchmark",
                f"{spec.title}: this local authority beside England",
                "Cohort",
                columns,
                tuple(rows),
                ChartPlan(
                    tuple(c.field for c in columns),
                    value_title=_unit_title(measure),
                    description=f"Horizontal bars: {spec.title.lower()} for each social care "
                    "group, this local authority beside DfE's published figures.",
                ),
            )
        )
    if not tables:
        return None
    note = (
        f"DfE's published figures for {published_year}"
        + (f"; this report's year is {year}" if published_year != year else "")
        + ". Statistical neighbours: the mean of the ten neighbours' published figures."
    )
    return Section(
        "benchmarks",
        "Beside England, the region and statistical neighbours",
        note,
        tuple(tables),
    )


load_published = benchmarks.load_published


def read_report(
    warehouse: Warehouse,
    *,
    threshold: int,
    period: str | None = None,
    benchmarks_dir: Path | None = None,
    la_code: str | None = None,
) -> VshReport:
    """The report from an open warehouse: ``mart_measure`` through the export's gate."""
    if MART not in warehouse.ibis.list_tables():
        raise NoMarts("no marts have been built: run `cwsw build` first")
    mart = warehouse.ibis.table(MART).execute()
    if mart.empty:
        raise NoMarts("no marts have been built: run `cwsw build` first")
    published, neighbours = (None, None)
    if benchmarks_dir is not None:
        published, neighbours = load_published(benchmarks_dir)
    return build_report(
        disclosed_export(mart, threshold=threshold),
        threshold=threshold,
        period=period,
        published=published,
        la_code=la_code,
        neighbours=neighbours,
    )


__all__ = ["NoMarts", "VshReport", "build_report", "read_report"]
