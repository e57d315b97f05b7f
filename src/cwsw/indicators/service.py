"""The figures as they leave the system: marts read back through disclosure control.

The report, the web page and exports all call :func:`absence_summary`, so they show the same
numbers, suppressed the same way.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cwsw.indicators import rounding
from cwsw.indicators.marts import ALL_PUPILS, COHORT_LABELS, MART, YEAR, disclosed_mart
from cwsw.indicators.summary import AbsenceSummary, GroupFigures
from cwsw.indicators.suppression import Disclosed, Symbol
from cwsw.settings import get_settings
from cwsw.warehouse.connection import Warehouse


def round_half_up(value: float, places: int = 1) -> str:
    """Round as DfE publishes (half away from zero), not Python's round-half-to-even."""
    return str(rounding.round_half_up(value, places))


def _show(figure: Disclosed, *, percentage: bool) -> str:
    if figure.symbol is not None:
        return str(figure.symbol)
    assert figure.value is not None
    if percentage:
        return round_half_up(figure.value)
    return f"{round(figure.value):,}"


def _ratio(group: Disclosed, comparator: Disclosed) -> str:
    """'x times as likely': the group's rate over the comparator's, to one decimal place."""
    if group.symbol is not None:
        return str(group.symbol)
    if comparator.symbol is not None or not comparator.value:
        return str(Symbol.NOT_AVAILABLE)
    assert group.value is not None
    return round_half_up(group.value / comparator.value)


def summarise_absence_mart(
    mart: pd.DataFrame, *, threshold: int, unrestricted: bool = False
) -> AbsenceSummary | None:
    """Turn mart rows into the disclosed summary (newest academic year)."""
    if mart.empty:
        return None
    year = max(mart["academic_year"])
    shown = disclosed_mart(
        mart[mart["academic_year"] == year], threshold=threshold, unrestricted=unrestricted
    )
    return summarise_disclosed(shown, str(year))


def summarise_disclosed(shown: pd.DataFrame, year: str) -> AbsenceSummary | None:
    """The summary of one academic year from rows already through disclosure control
    (:func:`~cwsw.indicators.marts.disclosed_mart`, or the export's columns)."""
    shown = shown[shown["academic_year"] == year]
    rows = shown[(shown["period_type"] == YEAR) & (shown["breakdown"] == "total")]
    if rows.empty:
        return None
    disclosed: dict[tuple[str, str], Disclosed] = {}
    for row in rows.to_dict("records"):
        symbol = row["symbol"]
        value = row["value"]
        disclosed[(row["cohort"], row["measure"])] = (
            Disclosed(None, Symbol(symbol)) if isinstance(symbol, str) else Disclosed(value, None)
        )
    missing = Disclosed(None, Symbol.NOT_AVAILABLE)
    comparator = disclosed.get((ALL_PUPILS, "persistent_absence"), missing)
    groups = []
    for cohort, label in COHORT_LABELS.items():
        get = lambda measure, c=cohort: disclosed.get((c, measure), missing)  # noqa: E731
        groups.append(
            GroupFigures(
                group=cohort,
                label=label,
                pupils=_show(get("enrolments"), percentage=False),
                overall_absence=_show(get("overall_absence"), percentage=True),
                persistent_absence=_show(get("persistent_absence"), percentage=True),
                severe_absence=_show(get("severe_absence"), percentage=True),
                persistent_absence_ratio=(
                    str(Symbol.NOT_APPLICABLE)
                    if cohort == ALL_PUPILS
                    else _ratio(get("persistent_absence"), comparator)
                ),
            )
        )
    absence_rows = rows[rows["population"] == "enrolments"]
    first = (absence_rows if not absence_rows.empty else rows).iloc[0]
    return AbsenceSummary(
        academic_year=str(year),
        reference_date=pd.Timestamp(first["reference_date"]).date().isoformat(),
        groups=tuple(groups),
        sources=tuple(s for s in str(first["source_loads"]).split(",") if s),
    )


def summary_from(
    warehouse: Warehouse, *, threshold: int, unrestricted: bool = False
) -> AbsenceSummary | None:
    """The disclosed headline figures from an open warehouse, or None if nothing is built."""
    if MART not in warehouse.ibis.list_tables():
        return None
    mart = warehouse.ibis.table(MART).execute()
    return summarise_absence_mart(mart, threshold=threshold, unrestricted=unrestricted)


def absence_summary(warehouse_path: Path, *, unrestricted: bool = False) -> AbsenceSummary | None:
    """The headline absence figures from the warehouse file, or None if nothing is built yet."""
    if not Path(warehouse_path).exists():
        return None
    with Warehouse.open(warehouse_path, read_only=True) as warehouse:
        return summary_from(
            warehouse, threshold=get_settings().suppression_threshold, unrestricted=unrestricted
        )
