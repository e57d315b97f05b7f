"""The insight pages' figures: the disclosed marts of :mod:`cwsw.indicators.insight`, chosen
for the signed-in role and shaped for the templates.

No figure is computed here: :mod:`cwsw.indicators.insight` has already applied disclosure
control (through the one suppression function) and caches the result per warehouse build.
Who sees what (ADR 0010):

- **unsuppressed figures**: the analyst only, whose child-level scope is every child of the
  LA (pseudonymised), so an unsuppressed count tells them nothing they cannot already see.
  The advisory teacher and the DSL are child-level roles too, but only for their caseload or
  school: an LA-wide count of 3 is about children outside their scope, so they see
  suppressed figures, as the VSH, advisers and the administrator do;
- **schools**: a DSL sees their own school's row (and its values in the school breakdown)
  only; every other role sees every school.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from cwsw.domain.labels import BREAKDOWN_LABELS
from cwsw.indicators import insight
from cwsw.indicators.figures import ABSENCE_COLUMNS, Table
from cwsw.indicators.insight import DisclosedMarts
from cwsw.indicators.measures import BY_NAME, Measure
from cwsw.indicators.summary import AbsenceSummary, GroupFigures
from cwsw.web.accounts.models import Role, User
from cwsw.web.accounts.services import role_of

log = logging.getLogger(__name__)

# The roles shown unsuppressed figures on the insight pages (see the module docstring).
UNRESTRICTED_ROLES = frozenset({Role.ANALYST.value})

# (GroupFigures field, column heading): the absence table's columns, as the one model has them
# (the VSH report's attendance table starts with the same). The fields are part of the cells'
# data-testid.
COLUMNS: tuple[tuple[str, str], ...] = tuple((f, heading) for f, heading, _, _ in ABSENCE_COLUMNS)
DEFAULT_MEASURE = "persistent_absence"
DEFAULT_BREAKDOWN = "sen"


class UnknownChoice(ValueError):
    """A selector's value (year, measure, breakdown) that the marts do not hold."""


def unrestricted(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) in UNRESTRICTED_ROLES


def disclosed_marts(user: AbstractBaseUser | AnonymousUser) -> DisclosedMarts | None:
    """The warehouse's disclosed marts as this user may see them (cached per build)."""
    return insight.CACHE.get(
        settings.CWSW.warehouse_path,
        threshold=settings.CWSW.suppression_threshold,
        unrestricted=unrestricted(user),
    )


def own_schools(user: AbstractBaseUser | AnonymousUser) -> tuple[str, ...] | None:
    """The schools a user's school rows are limited to: a DSL's own; None for everyone."""
    if role_of(user) == Role.SCHOOL_DSL.value and isinstance(user, User):
        return (user.school_laestab,)
    return None


def choose_year(marts: DisclosedMarts, asked: str | None) -> str:
    years = marts.academic_years
    if not asked:
        return years[-1]
    if asked not in years:
        raise UnknownChoice("year")
    return asked


def choose_measure(marts: DisclosedMarts, asked: str | None) -> Measure:
    names = {m.name for m in marts.measures()}
    name = asked or (DEFAULT_MEASURE if DEFAULT_MEASURE in names else min(names))
    if name not in names:
        raise UnknownChoice("measure")
    return BY_NAME[name]


def choose_breakdown(marts: DisclosedMarts, asked: str | None) -> str:
    name = asked or DEFAULT_BREAKDOWN
    if name == "total" or name not in marts.breakdowns:
        raise UnknownChoice("breakdown")
    return name


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


def year_options(marts: DisclosedMarts, chosen: str) -> list[Option]:
    return [Option(y, y, y == chosen) for y in reversed(marts.academic_years)]


def measure_options(marts: DisclosedMarts, chosen: Measure) -> list[Option]:
    return [Option(m.name, m.title, m.name == chosen.name) for m in marts.measures()]


def breakdown_options(marts: DisclosedMarts, chosen: str) -> list[Option]:
    return [
        Option(name, label, name == chosen)
        for name, label in BREAKDOWN_LABELS.items()
        if name in marts.breakdowns and name != "total"
    ]


# -- the dashboard ------------------------------------------------------------------------------


def current_absence_summary(
    marts: DisclosedMarts | None = None, year: str | None = None
) -> AbsenceSummary | None:
    """The headline absence figures of ``year`` (default the newest), or None if nothing has
    been built."""
    if marts is None or marts.empty:
        return None
    chosen = year or marts.academic_years[-1]
    key = ("absence_summary", chosen)
    if key not in marts.memo:
        marts.memo[key] = insight.summarise_absence(marts, chosen)
    summary: AbsenceSummary | None = marts.memo[key]
    return summary


def headline_tables(marts: DisclosedMarts, year: str) -> list[Table]:
    cohorts = set(marts.cohorts())
    return [
        insight.headline_table(marts, year, c) for c in insight.HEADLINE_COHORTS if c in cohorts
    ]


def cell_testid(group: str, field: str) -> str:
    """The ``data-testid`` of one table cell, e.g. ``cell-CINO-persistent_absence``."""
    return f"cell-{group}-{field}"


@dataclass(frozen=True)
class Cell:
    field: str
    value: str
    testid: str


@dataclass(frozen=True)
class Row:
    group: str
    label: str
    label_testid: str
    cells: tuple[Cell, ...]


def table_rows(summary: AbsenceSummary) -> list[Row]:
    return [_row(figures) for figures in summary.groups]


def _row(figures: GroupFigures) -> Row:
    cells = tuple(
        Cell(field, getattr(figures, field), cell_testid(figures.group, field))
        for field, _ in COLUMNS
    )
    return Row(figures.group, figures.label, cell_testid(figures.group, "label"), cells)


def long_date(iso: str) -> str:
    """``2025-03-31`` -> ``31 March 2025`` (GOV.UK date style); anything else unchanged."""
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def suppression_note() -> str:
    """What ``c`` means, in plain language, with the configured threshold."""
    return (
        f"c: fewer than {settings.CWSW.suppression_threshold + 1} pupils, "
        "suppressed to protect privacy"
    )


@dataclass(frozen=True)
class BenchmarkPage:
    """The dashboard's benchmark part: tables, or why there are none."""

    tables: tuple[Table, ...] = ()
    published_year: str = ""
    error: str = ""
    configured: bool = False


def benchmark_page(marts: DisclosedMarts, year: str) -> BenchmarkPage:
    """DfE's published figures beside the LA's for ``year``, when CWSW_BENCHMARKS_DIR is set;
    a folder that cannot be read is said on the page, not a server error."""
    folder = settings.CWSW.benchmarks_dir
    if folder is None:
        return BenchmarkPage()
    try:
        published = insight.CACHE.published(folder)
        found, tables = insight.benchmark_tables(
            marts, year, published, settings.CWSW.la_code or None
        )
    except (OSError, ValueError) as error:  # BenchmarkFileError is a ValueError
        # The page names the file and the fault, never where the server keeps it; the log,
        # which administrators read, has the folder too (published files: no personal data).
        log.warning("benchmark figures not read: %s", error)
        return BenchmarkPage(
            error=f"The published benchmark figures could not be read: {_unplaced(error, folder)}",
            configured=True,
        )
    return BenchmarkPage(tuple(tables), found, configured=True)


def _unplaced(error: Exception, folder: Path) -> str:
    """``error``'s message with the benchmark folder's path taken out."""
    message = str(error)
    for place in {str(folder), str(folder.resolve())}:
        message = message.replace(place + os.sep, "").replace(place, "the benchmark folder")
    return message


# -- breakdowns, overlaps, schools --------------------------------------------------------------


def breakdown_table(
    marts: DisclosedMarts,
    year: str,
    measure: Measure,
    breakdown: str,
    schools: Sequence[str] | None,
) -> Table:
    values = None
    if breakdown == "school" and schools is not None:
        values = [s for s in marts.breakdown_values(year, "school", measure.name) if s in schools]
    return insight.breakdown_table(marts, year, measure, breakdown, values=values)


def school_table(marts: DisclosedMarts, year: str, schools: Sequence[str] | None) -> Table:
    if schools is not None:
        schools = [s for s in marts.breakdown_values(year, "school") if s in schools]
    return insight.school_table(marts, year, schools=schools)
