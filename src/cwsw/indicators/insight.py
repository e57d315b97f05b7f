"""The disclosed marts, read once per warehouse build, and the tables the insight pages show.

Every figure here has been through :func:`cwsw.indicators.export.disclosed_export` (the
export's columns, through :func:`cwsw.indicators.marts.disclosed_mart` and so the one
suppression function), the same function ``cwsw export marts`` writes its files with. Running
disclosure control over the whole mart takes about a second on an LA, so
:class:`DisclosedMartCache` keeps the result for as long as the warehouse file is unchanged
(:func:`build_stamp`: its size and modification time, and its write-ahead log's), per
threshold and per unrestricted-or-not. A page then only looks figures up.

No Django here: the web app's insight pages shape these tables into HTML; anything else (the
CLI, a report) can call the same functions.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from cwsw.cohort.definitions import ALL_PUPILS, CIN_IN_YEAR, EVER_CIN_6_YEARS, NEVER_CIN_6_YEARS
from cwsw.cohort.groups import CINO, CLA_12_MONTHS, CPPO
from cwsw.indicators import benchmarks, breakdowns
from cwsw.indicators.export import EXPORT_COLUMNS, disclosed_export
from cwsw.indicators.marts import COHORT_LABELS, MART, TERM, YEAR
from cwsw.indicators.measures import BY_NAME, MEASURES, Measure
from cwsw.indicators.rounding import format_rounded
from cwsw.indicators.suppression import Symbol
from cwsw.warehouse.connection import Warehouse

log = logging.getLogger(__name__)

# The groups the headline compares, and what they are compared with.
HEADLINE_COHORTS = (CINO, CPPO, CLA_12_MONTHS, EVER_CIN_6_YEARS)
COMPARATOR_COHORTS = (NEVER_CIN_6_YEARS, ALL_PUPILS)
COHORT_ORDER = (*HEADLINE_COHORTS, CIN_IN_YEAR, *COMPARATOR_COHORTS)
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
BREAKDOWN_LABELS = {
    "total": "All",
    "school": "School",
    "phase": "Phase",
    "nc_year": "National Curriculum year",
    "sex": "Sex",
    "ethnicity": "Ethnicity (major group)",
    "sen": "Special educational needs",
    "fsm": "Free school meals",
    "social_care_group": "Social care group at 31 March",
    "fsm_sen": "Free school meals and SEN",
}
OVERLAP_BREAKDOWN = "fsm_sen"
TERM_ORDER = {"autumn": 0, "spring": 1, "summer": 2}


# -- the cache ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildStamp:
    """What identifies one state of the warehouse file: a rebuild (any write) changes it."""

    path: str
    size: int
    mtime_ns: int
    wal: tuple[int, int] | None  # the write-ahead log's size and mtime, if there is one


def build_stamp(path: Path) -> BuildStamp | None:
    """The warehouse file's stamp, or None if it does not exist. A ``stat``, microseconds."""
    target = Path(path).resolve()
    try:
        stat = target.stat()
    except FileNotFoundError:
        return None
    wal_path = target.with_name(target.name + ".wal")
    try:
        wal_stat = wal_path.stat()
        wal: tuple[int, int] | None = (wal_stat.st_size, wal_stat.st_mtime_ns)
    except FileNotFoundError:
        wal = None
    return BuildStamp(str(target), stat.st_size, stat.st_mtime_ns, wal)


class WarehouseBusy(RuntimeError):
    """The warehouse cannot be opened (a load is writing it) and nothing is cached."""


FigureKey = tuple[str, str, str, str, str]  # period, measure, cohort, breakdown, value


@dataclass(frozen=True)
class Figure:
    """One disclosed figure: a value or a symbol, and its 'x times as likely' ratios."""

    value: float | None
    symbol: str | None
    times_all_pupils: float | None
    times_not_cin: float | None

    @property
    def shown(self) -> bool:
        return self.symbol is None and self.value is not None


MISSING = Figure(None, str(Symbol.NOT_AVAILABLE), None, None)


@dataclass
class DisclosedMarts:
    """The whole mart through disclosure control, indexed for look-ups, and school names."""

    stamp: BuildStamp
    threshold: int
    unrestricted: bool
    frame: pd.DataFrame  # disclosed_export's columns
    school_names: dict[str, str]
    figures: dict[FigureKey, Figure] = field(init=False)
    # Memo of derived, render-once things (charts), keyed by the caller.
    memo: dict[Hashable, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        frame = self.frame
        self.figures = {}
        columns = (
            frame.period,
            frame.measure,
            frame.cohort,
            frame.breakdown,
            frame.breakdown_value,
            frame.value,
            frame.symbol,
            frame.times_all_pupils,
            frame.times_not_cin,
        )
        for period, measure, cohort, breakdown, value, number, symbol, t_all, t_not in zip(
            *columns, strict=True
        ):
            self.figures[(period, measure, cohort, breakdown, value)] = Figure(
                None if pd.isna(number) else float(number),
                symbol if isinstance(symbol, str) and symbol else None,
                None if pd.isna(t_all) else float(t_all),
                None if pd.isna(t_not) else float(t_not),
            )

    @property
    def empty(self) -> bool:
        return self.frame.empty

    @cached_property
    def academic_years(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.frame.academic_year)))

    def figure(
        self,
        period: str,
        measure: str,
        cohort: str,
        breakdown: str = "total",
        value: str = breakdowns.TOTAL,
    ) -> Figure:
        return self.figures.get((period, measure, cohort, breakdown, value), MISSING)

    @cached_property
    def _cohorts(self) -> tuple[str, ...]:
        present = set(self.frame.cohort)
        known = [c for c in COHORT_ORDER if c in present]
        return (*known, *sorted(present - set(known)))

    def cohorts(self) -> tuple[str, ...]:
        """The mart's cohorts: the headline's order first, then any others by name."""
        return self._cohorts

    @cached_property
    def _measures(self) -> tuple[Measure, ...]:
        present = set(self.frame.measure)
        return tuple(m for m in MEASURES if m.name in present)

    def measures(self) -> tuple[Measure, ...]:
        return self._measures

    @cached_property
    def breakdowns(self) -> frozenset[str]:
        return frozenset(self.frame.breakdown)

    def breakdown_values(
        self, period: str, breakdown: str, measure: str | None = None
    ) -> tuple[str, ...]:
        """The values of a breakdown in a period (that hold ``measure``), in reading order."""
        key = ("breakdown_values", period, breakdown, measure)
        if key not in self.memo:
            self.memo[key] = self._breakdown_values(period, breakdown, measure)
        found: tuple[str, ...] = self.memo[key]
        return found

    def _breakdown_values(
        self, period: str, breakdown: str, measure: str | None
    ) -> tuple[str, ...]:
        frame = self.frame
        chosen = (frame.period == period) & (frame.breakdown == breakdown)
        if measure is not None:
            chosen &= frame.measure == measure
        rows = frame[chosen]
        values = set(rows.breakdown_value)
        return tuple(sorted(values, key=lambda v: _value_sort_key(breakdown, v)))

    def periods(self, measure: str) -> tuple[str, ...]:
        """The periods that hold ``measure``, oldest first: each year, then its terms."""
        key = ("periods", measure)
        if key not in self.memo:
            self.memo[key] = self._periods(measure)
        found: tuple[str, ...] = self.memo[key]
        return found

    def _periods(self, measure: str) -> tuple[str, ...]:
        rows = self.frame[self.frame.measure == measure][["period", "period_type"]]
        found = set(zip(rows.period, rows.period_type, strict=True))
        return tuple(p for p, _ in sorted(found, key=_period_sort_key))

    def year_attributes(self, academic_year: str) -> tuple[str, tuple[str, ...]]:
        """The reference date (ISO) and source files of a year's figures."""
        rows = self.frame[
            (self.frame.academic_year == academic_year) & (self.frame.period_type == YEAR)
        ]
        if rows.empty:
            return "", ()
        absence = rows[rows.population == "enrolments"]
        first = (absence if not absence.empty else rows).iloc[0]
        reference = pd.Timestamp(first["reference_date"]).date().isoformat()
        return reference, tuple(s for s in str(first["source_loads"]).split(",") if s)


def _period_sort_key(item: tuple[str, str]) -> tuple[str, int, int]:
    period, period_type = item
    year = period.split(" ")[0]
    if period_type != TERM:
        return (year, 0, 0)
    return (year, 1, TERM_ORDER.get(period.split(" ")[1], 9))


def _value_sort_key(breakdown: str, value: str) -> tuple[int, float, str]:
    """Breakdown values in reading order: the catalogue's where it has one, numbers by number,
    'Unknown' and 'Not in a group' last."""
    if value in (breakdowns.UNKNOWN, breakdowns.NOT_IN_A_GROUP, breakdowns.UNCLASSIFIED):
        return (2, 0.0, value)
    order = {
        "sen": list(breakdowns.SEN_LABELS.values()),
        "fsm_sen": ["FSM and SEN", "FSM, no SEN", "SEN, not FSM", "Neither FSM nor SEN"],
        "social_care_group": [CLA_12_MONTHS, CPPO, CINO],
    }.get(breakdown)
    if order and value in order:
        return (0, float(order.index(value)), value)
    digits = "".join(ch for ch in value if ch.isdigit())
    if breakdown == "nc_year" and digits:
        return (0, float(digits), value)
    return (1, 0.0, value)


def read_disclosed(
    warehouse_path: Path, *, threshold: int, unrestricted: bool, stamp: BuildStamp
) -> DisclosedMarts:
    """Read the mart and establishment names from the warehouse; disclose the mart."""
    try:
        warehouse = Warehouse.open(warehouse_path, read_only=True)
    except Exception as error:  # DuckDB's lock error while a load writes the file
        raise WarehouseBusy("The data is being updated: try again in a few minutes") from error
    with warehouse:
        tables = set(warehouse.ibis.list_tables())
        mart = warehouse.ibis.table(MART).execute() if MART in tables else pd.DataFrame()
        names: dict[str, str] = {}
        if "establishment" in tables:
            rows = warehouse.execute(
                "SELECT laestab, any_value(establishment_name) FROM establishment "
                "WHERE laestab IS NOT NULL GROUP BY laestab"
            )
            names = {str(laestab): str(name or "") for laestab, name in rows}
    frame = (
        disclosed_export(mart, threshold=threshold, unrestricted=unrestricted)
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
        any (they were right a moment ago); otherwise :class:`WarehouseBusy`.
        """
        stamp = build_stamp(warehouse_path)
        if stamp is None:
            return None
        key = (stamp.path, threshold, unrestricted)
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
            except WarehouseBusy:
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


# -- display ------------------------------------------------------------------------------------


def shown(figure: Figure, measure: Measure) -> str:
    """A figure as a person reads it: rounded as DfE publishes the measure, or its symbol."""
    if figure.symbol is not None:
        return figure.symbol
    if figure.value is None:
        return str(Symbol.NOT_AVAILABLE)
    return format_rounded(figure.value, measure.places)


def shown_ratio(figure: Figure, ratio: float | None) -> str:
    """'x times as likely', or the group's own symbol, or ``x`` where a comparator is withheld."""
    if figure.symbol is not None:
        return figure.symbol
    if ratio is None:
        return str(Symbol.NOT_AVAILABLE)
    return format_rounded(ratio, 1)


def cohort_label(cohort: str) -> str:
    return COHORT_LABELS.get(cohort, cohort)


def unit_label(measure: Measure) -> str:
    return {"%": "%", "per 100 pupils": "per 100 pupils", "average": "average"}.get(
        measure.unit, "number"
    )


@dataclass(frozen=True)
class Cell:
    """One table cell and where its figure came from (for tests and browser walks)."""

    text: str
    period: str
    measure: str
    cohort: str
    breakdown: str
    value: str
    kind: str  # "value", "times_all_pupils", "times_not_cin", "share"


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: tuple[Cell, ...]
    key: str = ""


@dataclass(frozen=True)
class Table:
    caption: str
    row_heading: str
    headings: tuple[str, ...]
    rows: tuple[TableRow, ...]
    testid: str
    numeric: bool = True


def _cell(
    marts: DisclosedMarts,
    period: str,
    measure: Measure,
    cohort: str,
    breakdown: str = "total",
    value: str = breakdowns.TOTAL,
    kind: str = "value",
) -> Cell:
    figure = marts.figure(period, measure.name, cohort, breakdown, value)
    if kind == "value":
        text = shown(figure, measure)
    elif kind == "times_all_pupils":
        text = shown_ratio(figure, figure.times_all_pupils)
    else:
        text = shown_ratio(figure, figure.times_not_cin)
    return Cell(text, period, measure.name, cohort, breakdown, value, kind)


def headline_table(marts: DisclosedMarts, period: str, cohort: str) -> Table:
    """One group's headline measures beside all pupils and pupils with no social worker."""
    rows = []
    for name in HEADLINE_MEASURES:
        if name not in BY_NAME:
            continue
        measure = BY_NAME[name]
        rows.append(
            TableRow(
                f"{measure.title} ({unit_label(measure)})",
                (
                    _cell(marts, period, measure, cohort),
                    _cell(marts, period, measure, ALL_PUPILS),
                    _cell(marts, period, measure, cohort, kind="times_all_pupils"),
                    _cell(marts, period, measure, NEVER_CIN_6_YEARS),
                    _cell(marts, period, measure, cohort, kind="times_not_cin"),
                ),
                key=name,
            )
        )
    return Table(
        caption=f"{cohort_label(cohort)}: headline measures, {period}",
        row_heading="Measure",
        headings=(
            cohort_label(cohort),
            cohort_label(ALL_PUPILS),
            "Times as likely as all pupils",
            cohort_label(NEVER_CIN_6_YEARS),
            "Times as likely as pupils with no social worker",
        ),
        rows=tuple(rows),
        testid=f"headline-{cohort}",
    )


def trend_table(marts: DisclosedMarts, measure: Measure) -> Table:
    """A measure for every group over every period it has (years, and terms for absence)."""
    cohorts = [c for c in marts.cohorts() if c in (*HEADLINE_COHORTS, *COMPARATOR_COHORTS)]
    rows = tuple(
        TableRow(period, tuple(_cell(marts, period, measure, c) for c in cohorts), key=period)
        for period in marts.periods(measure.name)
    )
    return Table(
        caption=f"{measure.title} ({unit_label(measure)}) by period",
        row_heading="Period",
        headings=tuple(cohort_label(c) for c in cohorts),
        rows=rows,
        testid="trend",
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
    chosen = (
        marts.breakdown_values(period, breakdown, measure.name) if values is None else tuple(values)
    )
    rows = tuple(
        TableRow(
            value_label(marts, breakdown, value),
            tuple(_cell(marts, period, measure, c, breakdown, value) for c in cohorts),
            key=value,
        )
        for value in chosen
    )
    return Table(
        caption=f"{measure.title} ({unit_label(measure)}) by "
        f"{BREAKDOWN_LABELS.get(breakdown, breakdown).lower()}, {period}",
        row_heading=BREAKDOWN_LABELS.get(breakdown, breakdown),
        headings=tuple(cohort_label(c) for c in cohorts),
        rows=rows,
        testid=f"breakdown-{breakdown}",
    )


def value_label(marts: DisclosedMarts, breakdown: str, value: str) -> str:
    if breakdown == "school":
        name = marts.school_names.get(value, "")
        return f"{name} ({value})" if name else value
    if breakdown == "nc_year" and value.isdigit():
        return f"Year {value}"
    return value


def count_measure(measure: Measure) -> Measure:
    """The count of the population a measure is taken over (enrolments, pupils...)."""
    return next(m for m in MEASURES if m.population == measure.population and m.is_count)


def overlap_tables(marts: DisclosedMarts, period: str, measure: Measure) -> tuple[Table, Table]:
    """FSM x SEN x social care group: how many pupils of each group are in each overlap (and
    what share of the group that is), and ``measure`` for each."""
    cohorts = [c for c in marts.cohorts() if c in (*HEADLINE_COHORTS, *COMPARATOR_COHORTS)]
    counted = count_measure(measure)
    values = marts.breakdown_values(period, OVERLAP_BREAKDOWN, counted.name)
    count_rows = []
    for value in values:
        cells: list[Cell] = []
        for cohort in cohorts:
            part = _cell(marts, period, counted, cohort, OVERLAP_BREAKDOWN, value)
            cells.append(part)
            cells.append(_share(marts, period, counted, cohort, value))
        count_rows.append(TableRow(value, tuple(cells), key=value))
    headings = []
    for cohort in cohorts:
        headings += [f"{cohort_label(cohort)}: number", f"{cohort_label(cohort)}: % of group"]
    counts = Table(
        caption=f"{counted.title} by free school meals and SEN, {period}",
        row_heading="Free school meals and SEN",
        headings=tuple(headings),
        rows=tuple(count_rows),
        testid="overlap-counts",
    )
    return counts, breakdown_table(marts, period, measure, OVERLAP_BREAKDOWN)


def _share(marts: DisclosedMarts, period: str, counted: Measure, cohort: str, value: str) -> Cell:
    """A part's share of its cohort, from the two disclosed counts only: withheld if either
    is, so it reveals nothing the counts do not."""
    part = marts.figure(period, counted.name, cohort, OVERLAP_BREAKDOWN, value)
    whole = marts.figure(period, counted.name, cohort)
    if part.symbol is not None:
        text = part.symbol
    elif not whole.shown or not whole.value or part.value is None:
        text = str(Symbol.NOT_AVAILABLE if whole.value != 0 else Symbol.NOT_APPLICABLE)
    else:
        text = format_rounded(100 * part.value / whole.value, 1)
    return Cell(text, period, counted.name, cohort, OVERLAP_BREAKDOWN, value, "share")


def school_table(
    marts: DisclosedMarts, period: str, *, schools: Sequence[str] | None = None
) -> Table:
    """Each school's count of pupils with a social worker (in the last 6 years), its pupils,
    and key measures for those pupils beside all its pupils. ``schools`` limits the rows."""
    pupils = BY_NAME["pupils"]
    chosen = (
        marts.breakdown_values(period, "school", pupils.name) if schools is None else tuple(schools)
    )
    rows = []
    headings = [f"{cohort_label(CWSW_COHORT)}: pupils", "All pupils"]
    for name in SCHOOL_MEASURES:
        title = BY_NAME[name].title
        headings += [
            f"{title}: {cohort_label(CWSW_COHORT).lower()} (%)",
            f"{title}: all pupils (%)",
            f"{title}: times as likely",
        ]
    for laestab in chosen:
        cells = [
            _cell(marts, period, pupils, CWSW_COHORT, "school", laestab),
            _cell(marts, period, pupils, ALL_PUPILS, "school", laestab),
        ]
        for name in SCHOOL_MEASURES:
            measure = BY_NAME[name]
            cells += [
                _cell(marts, period, measure, CWSW_COHORT, "school", laestab),
                _cell(marts, period, measure, ALL_PUPILS, "school", laestab),
                _cell(marts, period, measure, CWSW_COHORT, "school", laestab, "times_all_pupils"),
            ]
        rows.append(TableRow(value_label(marts, "school", laestab), tuple(cells), key=laestab))
    return Table(
        caption=f"Schools: pupils with a social worker and their measures, {period}",
        row_heading="School",
        headings=tuple(headings),
        rows=tuple(rows),
        testid="schools",
    )


def _published(
    number: object, symbol: object, year: str, measure: Measure, cohort: str, kind: str
) -> Cell:
    """A DfE published figure as shown: rounded as DfE publishes it, or DfE's symbol."""
    if isinstance(symbol, str) and symbol:
        text = symbol
    elif isinstance(number, Decimal) and number.is_finite():
        text = format_rounded(number, measure.places)
    elif isinstance(number, float | int) and math.isfinite(number):
        text = format_rounded(float(number), measure.places)
    else:
        text = str(Symbol.NOT_AVAILABLE)
    return Cell(text, year, measure.name, cohort, "total", breakdowns.TOTAL, kind)


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
    tables = []
    for name, rows in found.tables:
        measure = BY_NAME[name]
        table_rows = []
        for row in rows:
            cells = [
                _cell(marts, period, measure, row.cohort),
                _published(row.england, row.england_symbol, year, measure, row.cohort, "england"),
            ]
            if found.local:
                cells.append(_published(row.region, None, year, measure, row.cohort, "region"))
                cells.append(
                    _published(
                        row.statistical_neighbours,
                        None,
                        year,
                        measure,
                        row.cohort,
                        "statistical_neighbours",
                    )
                )
            table_rows.append(TableRow(cohort_label(row.cohort), tuple(cells), key=row.cohort))
        headings = ["This local authority", f"England ({year})"]
        if found.local:
            headings += [f"Region ({year})", f"Statistical neighbours ({year})"]
        tables.append(
            Table(
                caption=f"{measure.title} ({unit_label(measure)}): this local authority "
                f"({period}) beside DfE's published figures ({year})",
                row_heading="Social care group",
                headings=tuple(headings),
                rows=tuple(table_rows),
                testid=f"benchmark-{name}",
            )
        )
    return year, tables
