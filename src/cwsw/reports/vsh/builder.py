"""Build the report: the disclosed marts, section by section, into a :class:`VshReport`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from cwsw.indicators import benchmarks
from cwsw.indicators.export import read_disclosed_export
from cwsw.indicators.figures import DisclosedFigures, cohort_order
from cwsw.indicators.marts import TERM
from cwsw.reports.vsh.attainment import attainment_section
from cwsw.reports.vsh.attendance import attendance_section
from cwsw.reports.vsh.benchmarks import benchmark_section
from cwsw.reports.vsh.cohort import cohort_section
from cwsw.reports.vsh.exclusions import exclusions_section
from cwsw.reports.vsh.model import NoMarts, VshReport
from cwsw.reports.vsh.notes import LoadedFile, definitions, loaded_files, sources
from cwsw.reports.vsh.sen_fsm import sen_fsm_section
from cwsw.reports.vsh.summary import summary
from cwsw.reports.vsh.trends import trends_section
from cwsw.settings import get_settings
from cwsw.warehouse.connection import Warehouse

NOTHING_BUILT = "no marts have been built: run `cwsw build` first"
load_published = benchmarks.load_published


def report_cohorts(present: set[str]) -> list[str]:
    """The marts' cohorts in display order (the one model's, :func:`cohort_order`)."""
    return list(cohort_order(present))


def build_report(
    disclosed: pd.DataFrame,
    *,
    threshold: int,
    period: str | None = None,
    published: pd.DataFrame | None = None,
    la_code: str | None = None,
    neighbours: pd.DataFrame | None = None,
    la_name: str = "",
    loads: dict[str, LoadedFile] | None = None,
) -> VshReport:
    """The report's tables from the disclosed marts (``disclosed_export`` of ``mart_measure``).

    ``period`` is an academic year (``2024/25``, the default the newest) or one of its terms
    (``2024/25 autumn term``: attendance is then that term's). ``published`` (from
    :func:`cwsw.indicators.benchmarks.published_measures`) adds England, the region and the
    statistical neighbours (``la_code``, ``neighbours``) where they are given. ``la_name`` goes
    on the title; ``loads`` (the warehouse's ``loads``, :func:`loaded_files`) names each source
    file's return and year.
    """
    if disclosed.empty:
        raise NoMarts(NOTHING_BUILT)
    figures = DisclosedFigures(disclosed)
    years = list(figures.academic_years)
    year, term_period = _resolve_period(disclosed, period, years)
    attendance_period = term_period or year
    cohorts = report_cohorts(set(disclosed.cohort))
    terms = list(figures.terms(year))
    if term_period is not None:  # a termly report: the terms up to its own
        terms = terms[: terms.index(term_period) + 1]
    earlier_years = [y for y in years if y <= year]
    sections = [
        cohort_section(figures, year, cohorts),
        attendance_section(figures, year, attendance_period, cohorts),
        exclusions_section(figures, year, cohorts),
        sen_fsm_section(figures, year, cohorts),
        attainment_section(figures, year, cohorts),
    ]
    trends = trends_section(figures, earlier_years, terms, year)
    if trends is not None:
        sections.append(trends)
    published_year = ""
    if published is not None and not published.empty:
        comparison = benchmark_section(figures, year, published, la_code, neighbours)
        if comparison is not None:
            sections.append(comparison[0])
            published_year = comparison[1]
    first = summary(figures, year, attendance_period)
    shown = [s for s in sections if s.tables]
    reference = pd.Timestamp(disclosed[disclosed.academic_year == year].reference_date.iloc[0])
    used_years = earlier_years if trends is not None else [year]
    if first.previous_period:
        used_years = sorted({*used_years, first.previous_period.split(" ")[0]})
    return VshReport(
        academic_year=year,
        period=attendance_period,
        reference_date=f"{reference.day} {reference:%B %Y}",
        threshold=threshold,
        sections=tuple(shown),
        definitions=definitions([first.section(), *shown], cohorts),
        sources=sources(figures, used_years, loads, published_year),
        generated_at=dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
        la_name=la_name.strip(),
        summary=first,
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


def _la_name_from(published: pd.DataFrame | None, la_code: str | None) -> str:
    """The LA's name as DfE's published files give it for ``la_code`` ('' if not found)."""
    if published is None or not la_code or "la_name" not in published.columns:
        return ""
    names = published[(published.la_code == la_code) & published.la_name.notna()].la_name
    return str(names.iloc[0]) if not names.empty else ""


def read_report(
    warehouse: Warehouse,
    *,
    threshold: int,
    period: str | None = None,
    benchmarks_dir: Path | None = None,
    la_code: str | None = None,
    la_name: str | None = None,
) -> VshReport:
    """The report from an open warehouse: ``mart_measure`` through the export's gate.

    ``la_name`` defaults to ``CWSW_LA_NAME``, else DfE's name for ``la_code`` when the
    published files are given."""
    disclosed = read_disclosed_export(warehouse, threshold=threshold)
    if disclosed is None or disclosed.empty:
        raise NoMarts(NOTHING_BUILT)
    published, neighbours = (None, None)
    if benchmarks_dir is not None:
        published, neighbours = load_published(benchmarks_dir)
    name = get_settings().la_name if la_name is None else la_name
    loads = None
    if "loads" in warehouse.ibis.list_tables():
        loads = loaded_files(warehouse.ibis.table("loads").execute())
    return build_report(
        disclosed,
        threshold=threshold,
        period=period,
        published=published,
        la_code=la_code,
        neighbours=neighbours,
        la_name=name or _la_name_from(published, la_code),
        loads=loads,
    )
