"""The dashboard's figures: read through :mod:`cwsw.indicators`, shaped for the template.

No figure is computed here: the indicators package has already applied disclosure control.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings

from cwsw.indicators.summary import AbsenceSummary, GroupFigures

log = logging.getLogger(__name__)

# (GroupFigures field, column heading). The field names are part of the cells' data-testid.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("pupils", "Pupil enrolments"),
    ("overall_absence", "Overall absence (%)"),
    ("persistent_absence", "Persistent absence (%)"),
    ("severe_absence", "Severe absence (%)"),
    ("persistent_absence_ratio", "Persistently absent: times as likely as all pupils"),
)


def current_absence_summary() -> AbsenceSummary | None:
    """The headline absence figures from the warehouse, or None if nothing has been built."""
    try:
        from cwsw.indicators import service
    except ModuleNotFoundError as exc:  # the indicators service is not installed yet
        if exc.name != "cwsw.indicators.service":
            raise
        log.warning("cwsw.indicators.service is not available; showing no figures")
        return None
    return service.absence_summary(settings.CWSW.warehouse_path)


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
