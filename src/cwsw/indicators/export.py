"""Exports of the marts, as they may leave the system (through disclosure control).

``cwsw export marts --out DIR`` writes ``marts.csv`` and ``marts.parquet`` with the columns of
:data:`EXPORT_COLUMNS` (documented in ``docs/marts.md``). In the CSV a suppressed or missing
figure is DfE's symbol in its own cell (EES style); in Parquet the figure is null and the
symbol is in ``symbol``, so the numeric columns stay numeric for Power BI.

Beside them, ``marts.disclosure.json`` records how they were disclosed (the threshold, the
suppression method's version, any unsafe-threshold warning: :func:`disclosure_record`); the
Parquet file carries the same JSON in its key-value metadata (:data:`METADATA_KEY`).

Rows are in the order every consumer shows them, and each CSV figure is written as
:mod:`cwsw.indicators.figures` shows it (DfE's rounding, the ratios to one place): the report
and the insight pages read the same disclosed rows through the same model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cwsw.indicators.breakdowns import UNKNOWN
from cwsw.indicators.figures import (
    COMPARATOR,
    RATIO_PLACES,
    compared_as_ratio,
    in_reading_order,
    number_text,
    times_as_likely,
)
from cwsw.indicators.marts import MART, disclosed_mart
from cwsw.indicators.measures import BY_NAME
from cwsw.indicators.suppression import disclosure_record
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
DISCLOSURE_NAME = "marts.disclosure.json"
# The Parquet key-value metadata holding the disclosure record (JSON).
METADATA_KEY = b"cwsw.disclosure"


def disclosed_export(
    mart: pd.DataFrame,
    *,
    threshold: int,
    unrestricted: bool = False,
    school_phases: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The mart through :func:`~cwsw.indicators.marts.disclosed_mart`, in export columns and
    in reading order (:func:`~cwsw.indicators.figures.in_reading_order`).

    ``unrestricted`` only for a role that may see unsuppressed figures (ADR 0010);
    ``school_phases`` as :func:`school_phases` reads it."""
    shown = disclosed_mart(
        mart, threshold=threshold, unrestricted=unrestricted, school_phases=school_phases
    )
    shown["measure_title"] = [BY_NAME[m].title for m in shown.measure]
    shown["unit"] = [BY_NAME[m].unit for m in shown.measure]
    shown["suppressed"] = shown["suppressed"].astype(bool)
    slice_key = ["period", "measure", "breakdown", "breakdown_value"]
    for column, comparator in COMPARATOR.items():
        base = shown[shown.cohort == comparator].set_index(slice_key)["value"]
        lookup = base.to_dict()
        shown[column] = [
            # "x times as likely" for rates only: not for counts, nor averages (Progress 8).
            None
            if not compared_as_ratio(BY_NAME[m]) or c == comparator
            else _ratio(v, lookup.get((p, m, b, bv)))
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
    return in_reading_order(shown[list(EXPORT_COLUMNS)])


def _ratio(value: float | None, comparator: float | None) -> float | None:
    """ "x times as likely" from two disclosed figures (None where either is withheld)."""
    if value is None or comparator is None or pd.isna(value) or pd.isna(comparator):
        return None
    ratio = times_as_likely(value, comparator)
    return None if ratio is None else float(ratio)


def _shown(value: float | None, places: int) -> str:
    """A figure of the CSV as the one model shows it, without thousands separators."""
    return "" if value is None or pd.isna(value) else number_text(value, places, grouped=False)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.copy()
    symbol = text["symbol"]
    for column in ("numerator", "denominator"):
        text[column] = [
            s if isinstance(s, str) else f"{v:.0f}" if float(v).is_integer() else repr(float(v))
            for v, s in zip(frame[column], symbol, strict=True)
        ]
    text["value"] = [
        s if isinstance(s, str) else _shown(v, BY_NAME[m].places)
        for v, s, m in zip(frame["value"], symbol, frame["measure"], strict=True)
    ]
    text["symbol"] = symbol.fillna("")
    for column in COMPARATOR:
        text[column] = [_shown(v, RATIO_PLACES) for v in frame[column]]
    return text


def read_disclosed_export(
    warehouse: Warehouse, *, threshold: int, unrestricted: bool = False
) -> pd.DataFrame | None:
    """:func:`disclosed_export` of the warehouse's marts; None if none have been built."""
    if MART not in warehouse.ibis.list_tables():
        return None
    mart = warehouse.ibis.table(MART).execute()
    if mart.empty:
        return None
    return disclosed_export(
        mart,
        threshold=threshold,
        unrestricted=unrestricted,
        school_phases=school_phases(warehouse),
    )


def school_phases(warehouse: Warehouse) -> dict[str, str]:
    """Each school's phase as the marts label it (LAESTAB to phase, from the establishments
    the warehouse holds), for secondary suppression across the school and phase breakdowns."""
    if "establishment" not in warehouse.ibis.list_tables():
        return {}
    rows = warehouse.execute(
        "SELECT laestab, min(phase) FROM establishment WHERE laestab IS NOT NULL "
        "GROUP BY laestab ORDER BY laestab"
    )
    return {str(laestab): str(phase) if phase else UNKNOWN for laestab, phase in rows}


def export_record(frame: pd.DataFrame, *, threshold: int) -> dict[str, object]:
    """The export's :func:`disclosure_record`, with the files it describes and its rows."""
    return {
        **disclosure_record(threshold),
        "files": [CSV_NAME, PARQUET_NAME],
        "rows": len(frame),
        "suppressed_rows": int(frame["suppressed"].sum()),
    }


def record_json(record: dict[str, object]) -> str:
    """The record as written: keys sorted, so the same export gives the same bytes."""
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_marts(warehouse: Warehouse, out_dir: Path, *, threshold: int) -> list[Path]:
    """Write the disclosed marts as CSV and Parquet into ``out_dir``, with the disclosure
    record beside them (and in the Parquet metadata); returns the paths."""
    frame = read_disclosed_export(warehouse, threshold=threshold)
    if frame is None:
        raise LookupError("no marts have been built: run `cwsw build` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = out_dir / CSV_NAME, out_dir / PARQUET_NAME
    record_path = out_dir / DISCLOSURE_NAME
    record = record_json(export_record(frame, threshold=threshold))
    _csv_frame(frame).to_csv(csv_path, index=False)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), METADATA_KEY: record.encode("utf-8")}
    pq.write_table(table.replace_schema_metadata(metadata), parquet_path)
    record_path.write_text(record, encoding="utf-8")
    return [csv_path, parquet_path, record_path]
