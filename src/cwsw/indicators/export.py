"""Exports of the marts, as they may leave the system (through disclosure control).

``cwsw export marts --out DIR`` writes ``marts.csv`` and ``marts.parquet`` with the columns of
:data:`EXPORT_COLUMNS` (documented in ``docs/marts.md``). In the CSV a suppressed or missing
figure is DfE's symbol in its own cell (EES style); in Parquet the figure is null and the
symbol is in ``symbol``, so the numeric columns stay numeric for Power BI.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cwsw.cohort.definitions import ALL_PUPILS, NEVER_CIN_6_YEARS
from cwsw.indicators.benchmarks import times_as_likely
from cwsw.indicators.marts import MART, disclosed_mart
from cwsw.indicators.measures import BY_NAME
from cwsw.indicators.rounding import round_half_up
from cwsw.warehouse.connection import Warehouse

EXPORT_COLUMNS = (
    "academic_year",
    "period",
    "period_type",
    "reference_date",
    "population",
    "measure",
    "measure_title",
    "unit",
    "cohort",
    "breakdown",
    "breakdown_value",
    "numerator",
    "denominator",
    "value",
    "symbol",
    "suppressed",
    "times_all_pupils",
    "times_not_cin",
    "definition_version",
    "source_loads",
    "built_at",
)
CSV_NAME = "marts.csv"
PARQUET_NAME = "marts.parquet"


def disclosed_export(
    mart: pd.DataFrame, *, threshold: int, unrestricted: bool = False
) -> pd.DataFrame:
    """The mart through :func:`~cwsw.indicators.marts.disclosed_mart`, in export columns.

    ``unrestricted`` only for a role that may see unsuppressed figures (ADR 0010)."""
    shown = disclosed_mart(mart, threshold=threshold, unrestricted=unrestricted)
    shown["measure_title"] = [BY_NAME[m].title for m in shown.measure]
    shown["unit"] = [BY_NAME[m].unit for m in shown.measure]
    shown["suppressed"] = shown["suppressed"].astype(bool)
    slice_key = ["period", "measure", "breakdown", "breakdown_value"]
    for column, comparator in (
        ("times_all_pupils", ALL_PUPILS),
        ("times_not_cin", NEVER_CIN_6_YEARS),
    ):
        base = shown[shown.cohort == comparator].set_index(slice_key)["value"]
        lookup = base.to_dict()
        shown[column] = [
            None if BY_NAME[m].is_count or c == comparator else _ratio(v, lookup.get((p, m, b, bv)))
            for p, m, b, bv, c, v in zip(
                shown.period,
                shown.measure,
                shown.breakdown,
                shown.breakdown_value,
                shown.cohort,
                shown.value,
                strict=True,
            )
        ]
    return shown[list(EXPORT_COLUMNS)].reset_index(drop=True)


def _ratio(value: float | None, comparator: float | None) -> float | None:
    """ "x times as likely" from two disclosed figures (None where either is withheld)."""
    if value is None or comparator is None or pd.isna(value) or pd.isna(comparator):
        return None
    ratio = times_as_likely(value, comparator)
    return None if ratio is None else float(ratio)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.copy()
    symbol = text["symbol"]
    for column in ("numerator", "denominator"):
        text[column] = [
            s if isinstance(s, str) else f"{v:.0f}" if float(v).is_integer() else repr(float(v))
            for v, s in zip(frame[column], symbol, strict=True)
        ]
    text["value"] = [
        s if isinstance(s, str) else str(round_half_up(v, BY_NAME[m].places))
        for v, s, m in zip(frame["value"], symbol, frame["measure"], strict=True)
    ]
    text["symbol"] = symbol.fillna("")
    for column in ("times_all_pupils", "times_not_cin"):
        text[column] = ["" if pd.isna(v) else f"{v:.1f}" for v in frame[column]]
    return text


def export_marts(warehouse: Warehouse, out_dir: Path, *, threshold: int) -> list[Path]:
    """Write the disclosed marts as CSV and Parquet into ``out_dir``; returns the paths."""
    if MART not in warehouse.ibis.list_tables():
        raise LookupError("no marts have been built: run `cwsw build` first")
    frame = disclosed_export(warehouse.ibis.table(MART).execute(), threshold=threshold)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = out_dir / CSV_NAME, out_dir / PARQUET_NAME
    _csv_frame(frame).to_csv(csv_path, index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet_path)
    return [csv_path, parquet_path]
