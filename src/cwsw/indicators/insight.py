"""The disclosed marts, read once per warehouse build, and the tables the insight pages show.

Every figure here has been through :func:`cwsw.indicators.export.disclosed_export` (the
export's columns, through :func:`cwsw.indicators.marts.disclosed_mart` and so the one
suppression function), the same function ``cwsw export marts`` writes its files with. Running
disclosure control over the whole mart takes about a second on an LA, so
:class:`DisclosedMartCache` keeps the result for as long as the warehouse file is unchanged
(:func:`cwsw.warehouse.snapshot.signature`: its size and modification time, and its
write-ahead log's), per
threshold and per unrestricted-or-not. A page then only looks figures up.

The figures are shown, ordered and laid out in tables by :mod:`cwsw.indicators.figures`, the
one model the VSH report and the export use too. No Django here: the web app's insight pages
put these tables into HTML; anything else (the CLI, a report) can call the same functions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cwsw.domain.labels import (
    ALL_PUPILS,
    CINO,
    CLA_12_MONTHS,
    CPPO,
    EVER_CIN_6_YEARS,
    NEVER_CIN_6_YEARS,
    cohort_label,
)
from cwsw.indicators import benchmarks
from cwsw.indicators.export import (
    EXPORT_COLUMNS,
    disclosed_export,
    read_disclosed_export,
    school_phases,
)
from cwsw.indicators.figures import (
    ABSENCE_COLUMNS,
    TIMES_ALL_PUPILS,
    TIMES_NOT_CIN,
    Column,
    DisclosedFigures,
    Row,
    Table,
    benchmark_headings,
    benchmark_rows,
    breakdown_label,
    breakdown_rows,
    breakdown_title,
    cohort_columns,
    measure_heading,
    period_rows,
)
from cwsw.indicators.marts import MART
from cwsw.indicators.measures import BY_NAME, MEASURES, Measure
from cwsw.indicators.summary import AbsenceSummary, GroupFigures
from cwsw.settings import get_settings
from cwsw.warehouse.snapshot import Signature, WarehouseUnavailable, open_snapshot, signature

log = logging.getLogger(__name__)

# The groups the headline compares, and what they are compared with.
HEADLINE_COHORTS = (CINO, CPPO, CLA_12_MONTHS, EVER_CIN_6_YEARS)
COMPARATOR_COHORTS = (NEVER_CIN_6_YEARS, ALL_PUPILS)
# The headline measures, one or two per population.
HEADLINE_MEASURES = (
    "overall_absence",
    "persistent_absence",
    "severe_absence",
    "one_plus_suspension",
    "sen_support",
    "ehc_plan",
    "fsm",
    "ks2_rwm_expected",
    "ks4_attainment8",
    "ks4_basics_94",
)
# The cohort a school's count of children with a social worker is taken from.
CWSW_COHORT = EVER_CIN_6_YEARS
SCHOOL_MEASURES = ("overall_absence", "persistent_absence", "one_plus_suspension")
OVERLAP_BREAKDOWN = "fsm_sen"


# -- the cache ----------------------------------------------------------------------------------


class DisclosedMarts(DisclosedFigures):
    """The whole mart through disclosure control for one warehouse build: its figures, looked
    up as shown (:class:`~cwsw.indicators.figures.DisclosedFigures`), the schools' names, and a
    memo of things derived from them (charts, summaries), so each is computed once per build."""

    def __init__(
        self,
        stamp: Signature,
        threshold: int,
        unrestricted: bool,
        frame: pd.DataFrame,
        school_names: dict[str, str],
    ) -> None:
        super().__init__(frame, school_names)
        self.stamp = stamp
        self.threshold = threshold
        self.unrestricted = unrestricted
        # Memo of derived, render-once things (charts), keyed by the caller.
        self.memo: dict[Hashable, Any] = {}


def read_disclosed(
    warehouse_path: Path, *, threshold: int, unrestricted: bool, stamp: Signature
) -> DisclosedMarts:
    """Read the mart and establishment names from the warehouse; disclose the mart.

    Read once per build, so the snapshot does not hold the process's anchor (a load that
    follows at once is not kept waiting).
    """
    with open_snapshot(warehouse_path, hold=False) as warehouse:
        tables = set(warehouse.ibis.list_tables())
        mart = warehouse.ibis.table(MART).execute() if MART in tables else pd.DataFrame()
        names: dict[str, str] = {}
        if "establishment" in tables:
            rows = warehouse.execute(
                "SELECT laestab, any_value(establishment_name) FROM establishment "
                "WHERE laestab IS NOT NULL GROUP BY laestab"
            )
            names = {str(laestab): str(name or "") for laestab, name in rows}
        phases = school_phases(warehouse)
    frame = (
        disclosed_export(mart, threshold=threshold, unrestricted=unrestricted, school_phases=phases)
        if not mart.empty
        else pd.DataFrame(columns=list(EXPORT_COLUMNS))
    )
    return DisclosedMarts(stamp, threshold, unrestricted, frame, names)


Reader = Callable[..., DisclosedMarts]
Published = tuple[pd.DataFrame, pd.DataFrame | None]  # the figures, the neighbour groupings


class DisclosedMartCache:
    """Disclosed marts per warehouse file, threshold and restriction, while the file is
    unchanged. ``computed`` counts the reads (each one a run of disclosure control)."""

    def __init__(self, reader: Reader = read_disclosed) -> None:
        self._reader = reader
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int, bool], DisclosedMarts] = {}
        self._published: dict[str, Published] = {}
        self.computed = 0

    def get(
        self, warehouse_path: Path, *, threshold: int, unrestricted: bool = False
    ) -> DisclosedMarts | None:
        """The disclosed marts of the warehouse as it is now; None if there is no warehouse.

        While a load holds the file, the last disclosed marts of it are served if there are
        any (they were right a moment ago); otherwise
        :class:`~cwsw.warehouse.snapshot.WarehouseUnavailable`.
        """
        stamp = signature(warehouse_path)
        if stamp is None:
            return None
        key = (str(Path(warehouse_path).resolve()), threshold, unrestricted)
        # One lock for all: the first request after a build computes, the others wait for it
        # rather than each running disclosure control again.
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached.stamp == stamp:
                return cached
            try:
                fresh = self._reader(
                    warehouse_path, threshold=threshold, unrestricted=unrestricted, stamp=stamp
                )
            except WarehouseUnavailable:
                if cached is not None:
                    return cached
                raise
            self.computed += 1
            log.info(
                "disclosed marts computed (%d rows, unrestricted=%s)",
                len(fresh.frame),
                unrestricted,
            )
            self._entries[key] = fresh
            return fresh

    def published(self, folder: Path) -> Published:
        """DfE's published figures in ``folder``, read once (they change only when DfE
        publishes, and the folder is replaced). An unreadable folder raises
        :class:`benchmarks.BenchmarkFileError` or :class:`FileNotFoundError`, not cached."""
        key = str(Path(folder).resolve())
        with self._lock:
            if key not in self._published:
                self._published[key] = benchmarks.load_published(Path(key))
            return self._published[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._published.clear()


CACHE = DisclosedMartCache()


# -- the pages' tables --------------------------------------------------------------------------


def _compared(marts: DisclosedMarts) -> list[str]:
    """The headline groups and the comparators, in the marts' cohort order."""
    return [c for c in marts.cohorts() if c in (*HEADLINE_COHORTS, *COMPARATOR_COHORTS)]


def headline_table(marts: DisclosedMarts, period: str, cohort: str) -> Table:
    """One group's headline measures beside all pupils and pupils with no social worker."""
    rows = tuple(
        Row(
            measure_heading(BY_NAME[name]),
            name,
            (
                marts.figure(period, name, cohort),
                marts.figure(period, name, ALL_PUPILS),
                marts.figure(period, name, cohort, kind=TIMES_ALL_PUPILS),
                marts.figure(period, name, NEVER_CIN_6_YEARS),
                marts.figure(period, name, cohort, kind=TIMES_NOT_CIN),
            ),
        )
        for name in HEADLINE_MEASURES
        if name in BY_NAME
    )
    headings = (
        cohort_label(cohort),
        cohort_label(ALL_PUPILS),
        "Times as likely as all pupils",
        cohort_label(NEVER_CIN_6_YEARS),
        "Times as likely as pupils with no social worker",
    )
    fields = ("value", "all_pupils", TIMES_ALL_PUPILS, "not_cin", TIMES_NOT_CIN)
    return Table(
        f"headline-{cohort}",
        f"{cohort_label(cohort)}: headline measures, {period}",
        "Measure",
        tuple(Column(h, f) for h, f in zip(headings, fields, strict=True)),
        rows,
    )


def trend_table(marts: DisclosedMarts, measure: Measure) -> Table:
    """A measure for every cohort over every period it has (years, and terms for absence);
    its chart draws the headline groups and the comparators."""
    cohorts = marts.cohorts()
    return Table(
        "trend",
        f"{measure_heading(measure)} by period",
        "Period",
        cohort_columns(cohorts),
        period_rows(marts, marts.periods(measure.name), measure.name, cohorts),
    )


def breakdown_table(
    marts: DisclosedMarts,
    period: str,
    measure: Measure,
    breakdown: str,
    *,
    values: Sequence[str] | None = None,
) -> Table:
    """A measure by one breakdown's values (rows) and every cohort (columns).

    ``values`` limits the rows (a DSL's own school)."""
    cohorts = marts.cohorts()
    return Table(
        f"breakdown-{breakdown}",
        breakdown_title(measure.name, breakdown, period),
        breakdown_label(breakdown),
        cohort_columns(cohorts),
        breakdown_rows(marts, period, measure.name, breakdown, cohorts, values),
    )


def count_measure(measure: Measure) -> Measure:
    """The count of the population a measure is taken over (enrolments, pupils...)."""
    return next(m for m in MEASURES if m.population == measure.population and m.is_count)


def overlap_tables(marts: DisclosedMarts, period: str, measure: Measure) -> tuple[Table, Table]:
    """FSM x SEN x social care group: how many pupils of each group are in each overlap (and
    what share of the group that is), and ``measure`` for each."""
    cohorts = _compared(marts)
    counted = count_measure(measure).name
    rows = []
    for value in marts.breakdown_values(period, OVERLAP_BREAKDOWN, counted):
        cells = []
        for cohort in cohorts:
            cells.append(marts.figure(period, counted, cohort, OVERLAP_BREAKDOWN, value))
            cells.append(marts.share(period, counted, cohort, OVERLAP_BREAKDOWN, value))
        rows.append(Row(marts.value_label(OVERLAP_BREAKDOWN, value), value, tuple(cells)))
    columns = []
    for cohort in cohorts:
        columns.append(Column(f"{cohort_label(cohort)}: number", f"{cohort}-number"))
        columns.append(Column(f"{cohort_label(cohort)}: % of group", f"{cohort}-share"))
    counts = Table(
        "overlap-counts",
        f"{BY_NAME[counted].title} by free school meals and SEN, {period}",
        breakdown_label(OVERLAP_BREAKDOWN),
        tuple(columns),
        tuple(rows),
    )
    return counts, breakdown_table(marts, period, measure, OVERLAP_BREAKDOWN)


def school_table(
    marts: DisclosedMarts, period: str, *, schools: Sequence[str] | None = None
) -> Table:
    """Each school's count of pupils with a social worker (in the last 6 years), its pupils,
    and key measures for those pupils beside all its pupils. ``schools`` limits the rows."""
    chosen = marts.breakdown_values(period, "school", "pupils") if schools is None else schools
    label = cohort_label(CWSW_COHORT)
    columns = [Column(f"{label}: pupils", "pupils"), Column("All pupils", "all_pupils")]
    for name in SCHOOL_MEASURES:
        title = BY_NAME[name].title
        columns += [
            Column(f"{title}: {label.lower()} (%)", name),
            Column(f"{title}: all pupils (%)", f"{name}_all_pupils"),
            Column(f"{title}: times as likely", f"{name}_{TIMES_ALL_PUPILS}"),
        ]
    rows = []
    for laestab in chosen:
        cells = [
            marts.figure(period, "pupils", CWSW_COHORT, "school", laestab),
            marts.figure(period, "pupils", ALL_PUPILS, "school", laestab),
        ]
        for name in SCHOOL_MEASURES:
            cells += [
                marts.figure(period, name, CWSW_COHORT, "school", laestab),
                marts.figure(period, name, ALL_PUPILS, "school", laestab),
                marts.figure(period, name, CWSW_COHORT, "school", laestab, TIMES_ALL_PUPILS),
            ]
        rows.append(Row(marts.value_label("school", laestab), laestab, tuple(cells)))
    return Table(
        "schools",
        f"Schools: pupils with a social worker and their measures, {period}",
        "School",
        tuple(columns),
        tuple(rows),
    )


def benchmark_tables(
    marts: DisclosedMarts, period: str, published: Published, la_code: str | None
) -> tuple[str, list[Table]]:
    """Each benchmarked measure for the social care groups: the LA's disclosed figure beside
    DfE's published England figure (and, with ``la_code``, its region's and its statistical
    neighbours' mean), through :func:`benchmarks.benchmark_tables` as the VSH report does.
    Returns the year DfE's figures are for (``period``'s, or the newest published)."""
    figures, neighbours = published
    found = benchmarks.benchmark_tables(figures, period, la_code, neighbours)
    year = found.published_year
    headings = benchmark_headings(year, found.local)
    tables = []
    for name, rows in found.tables:
        measure = BY_NAME[name]
        tables.append(
            Table(
                f"benchmark-{name}",
                f"{measure_heading(measure)}: this local authority ({period}) beside DfE's "
                f"published figures ({year})",
                "Social care group",
                tuple(Column(h, h.split(" (")[0].lower()) for h in headings),
                benchmark_rows(marts, period, name, rows, year, found.local),
            )
        )
    return year, tables


# -- the dashboard's absence table --------------------------------------------------------------


def summarise_absence(marts: DisclosedFigures, year: str) -> AbsenceSummary | None:
    """The dashboard's absence table for academic ``year``: each cohort's absence figures as
    shown (the first columns of the VSH report's attendance table), or None without them."""
    reference, sources = marts.year_attributes(year)
    if not reference:
        return None
    groups = []
    for cohort in marts.cohorts():
        texts = {
            field: marts.figure(year, measure, cohort, kind=kind).text
            for field, _, measure, kind in ABSENCE_COLUMNS
        }
        groups.append(GroupFigures(group=cohort, label=cohort_label(cohort), **texts))
    return AbsenceSummary(year, reference, tuple(groups), sources)


def absence_summary(warehouse_path: Path, *, unrestricted: bool = False) -> AbsenceSummary | None:
    """The dashboard's absence table of the newest year, read from the warehouse file without
    the cache (a script's way to what the dashboard shows); None if nothing is built."""
    if not Path(warehouse_path).exists():
        return None
    threshold = get_settings().suppression_threshold
    with open_snapshot(warehouse_path, hold=False) as warehouse:
        frame = read_disclosed_export(warehouse, threshold=threshold, unrestricted=unrestricted)
    if frame is None or frame.empty:
        return None
    figures = DisclosedFigures(frame)
    return summarise_absence(figures, figures.academic_years[-1])
