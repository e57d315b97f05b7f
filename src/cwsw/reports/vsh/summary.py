"""The first page: the headline figures of the social care groups against all pupils, in a
table and in words, and what changed since the year before (or that the marts cannot say)."""

from __future__ import annotations

from cwsw.domain.labels import ALL_PUPILS, CINO, CLA_12_MONTHS, CPPO, cohort_label
from cwsw.indicators.figures import (
    CHANGE_UNITS,
    TIMES_ALL_PUPILS,
    VALUE,
    ColumnSpec,
    DisclosedFigures,
    Figure,
    Row,
    change,
    column_field,
    previous_period,
    with_unit,
)
from cwsw.indicators.measures import BY_NAME
from cwsw.reports.vsh.model import Column, ReportTable, Summary

# The groups the summary speaks of, and what they are set beside.
GROUPS = (CINO, CPPO, CLA_12_MONTHS)
COMPARATOR = ALL_PUPILS
# How a sentence names each group.
IN_WORDS = {
    CINO: "children in need",
    CPPO: "children on a protection plan",
    CLA_12_MONTHS: "children looked after",
    ALL_PUPILS: "all pupils",
}
HEADLINE: tuple[ColumnSpec, ...] = (
    ("Overall absence (%)", "overall_absence", VALUE),
    ("Persistent absence (%)", "persistent_absence", VALUE),
    ("Persistently absent: times as likely as all pupils", "persistent_absence", TIMES_ALL_PUPILS),
    ("One or more suspensions (%)", "one_plus_suspension", VALUE),
    ("KS2 expected standard in reading, writing and maths (%)", "ks2_rwm_expected", VALUE),
    ("KS4 grade 4 or above in English and maths (%)", "ks4_basics_94", VALUE),
)
ABSENCE_POPULATION = "enrolments"


def _period(measure: str, year: str, attendance_period: str) -> str:
    """Absence is the attendance period's (a term in a termly report); the rest the year's."""
    return attendance_period if BY_NAME[measure].population == ABSENCE_POPULATION else year


def summary(figures: DisclosedFigures, year: str, attendance_period: str) -> Summary:
    cohorts = [c for c in (*GROUPS, COMPARATOR) if c in figures.cohorts()]
    columns = [c for c in HEADLINE if figures.has(c[1], _period(c[1], year, attendance_period))]
    rows = tuple(
        Row(
            cohort_label(c),
            c,
            tuple(
                figures.figure(_period(m, year, attendance_period), m, c, kind=k)
                for _, m, k in columns
            ),
        )
        for c in cohorts
    )
    headline = ReportTable(
        "summary",
        f"Headline figures, {attendance_period}"
        + (f" (absence) and {year}" if attendance_period != year else ""),
        "Cohort",
        tuple(Column(h, column_field(m, k)) for h, m, k in columns),
        rows,
        testid_prefix="summary",
    )
    previous = previous_period(year)
    changes, change_points = _changes(figures, year, attendance_period, cohorts, previous)
    if changes is None:
        earlier = [y for y in figures.academic_years if y < year]
        note = (
            f"The marts hold no figures for {previous}, the year before {year}, so this report "
            "cannot say what changed since last year"
            + (f" (the nearest earlier year built is {earlier[-1]})." if earlier else ".")
        )
    else:
        note = (
            f"Change from {previous} to {year}, from the figures as shown (rounded), for the "
            "same cohorts each at its own year's 31 March."
        )
    return Summary(
        intro=f"The education of children with a social worker in {year}: each DfE social care "
        "group at 31 March beside all pupils. Every figure has passed disclosure control; c "
        "marks a figure withheld to protect privacy, x one not available.",
        points=_points(headline),
        headline=headline,
        previous_period=previous if changes is not None else "",
        changes=changes,
        change_points=change_points,
        change_note=note,
    )


def _listed(row_figures: list[tuple[str, Figure]], *, units: bool = True) -> str:
    """``children in need 46.0%, children on a protection plan c (withheld); all pupils 17.9%``."""

    def said(figure: Figure) -> str:
        return with_unit(figure) if units or not figure.is_shown else figure.text

    groups = [f"{IN_WORDS.get(c, c)} {said(f)}" for c, f in row_figures if c != COMPARATOR]
    text = ", ".join(groups)
    comparator = [f for c, f in row_figures if c == COMPARATOR]
    if comparator:
        text += f"; {IN_WORDS[COMPARATOR]} {said(comparator[0])}"
    return text


def _points(headline: ReportTable) -> tuple[str, ...]:
    """The headline table in sentences, one per column."""
    points = []
    for i, column in enumerate(headline.columns):
        found = [(row.key, row.figures[i]) for row in headline.rows]
        if not found:
            continue
        if found[0][1].source.kind == TIMES_ALL_PUPILS:
            measure = BY_NAME[found[0][1].source.measure].title.lower()
            found = [(c, f) for c, f in found if c != COMPARATOR]
            listed = _listed(found, units=False)
            points.append(f"Times as likely as all pupils to be in {measure}: {listed}.")
        else:
            heading = column.heading.rsplit(" (", 1)[0]
            points.append(f"{heading}: {_listed(found)}.")
    return tuple(points)


def _changes(
    figures: DisclosedFigures,
    year: str,
    attendance_period: str,
    cohorts: list[str],
    previous: str,
) -> tuple[ReportTable | None, tuple[str, ...]]:
    """The change of each headline value since ``previous`` (the same term, in a termly
    report), and the same in sentences; (None, ()) if the marts lack the earlier figures."""
    measures = []
    for _, measure, kind in HEADLINE:
        now = _period(measure, year, attendance_period)
        if (
            kind == VALUE
            and figures.has(measure, now)
            and figures.has(measure, previous_period(now))
        ):
            measures.append(measure)
    if not previous or not measures:
        return None, ()
    rows = []
    for cohort in cohorts:
        cells = []
        for measure in measures:
            now = _period(measure, year, attendance_period)
            cells.append(
                change(
                    figures.figure(now, measure, cohort),
                    figures.figure(previous_period(now), measure, cohort),
                )
            )
        rows.append(Row(cohort_label(cohort), cohort, tuple(cells)))
    columns = tuple(
        Column(f"{BY_NAME[m].title} ({CHANGE_UNITS.get(BY_NAME[m].unit, 'change')})", m)
        for m in measures
    )
    table = ReportTable(
        "summary-changes",
        f"What changed since {previous}",
        "Cohort",
        columns,
        tuple(rows),
        testid_prefix="change",
    )
    points = []
    for i, measure in enumerate(measures):
        found = [(row.key, row.figures[i]) for row in rows]
        unit = CHANGE_UNITS.get(BY_NAME[measure].unit, "change")
        points.append(
            f"{BY_NAME[measure].title}, change since {previous} in {unit}: "
            f"{_listed(found, units=False)}."
        )
    return table, tuple(points)
