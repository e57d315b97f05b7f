"""Marts: measure x cohort x breakdown x period, with numerator, denominator and lineage.

Marts hold unsuppressed figures inside the warehouse; disclosure control is applied when a
figure leaves (:func:`disclosed_mart`, through :func:`cwsw.indicators.suppression.suppress`),
so a child-level role and an aggregate role read the same mart through the same gate.
All of the logic is Ibis expressions over the backend's tables; only the finished rows are
brought back (as pandas) to be stored. Columns are documented in ``docs/marts.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.operations as ops
import pandas as pd
from ibis import _
from ibis.expr.types import Table

from cwsw.cohort import definitions
from cwsw.cohort.definitions import (
    ALL_PUPILS,
    DEFAULT_COHORTS,
    EVER_CIN_6_YEARS,
    NEVER_CIN_6_YEARS,
    CohortSpec,
    Timelines,
    cohort_tagged,
    pupil_memberships,
)
from cwsw.cohort.groups import highest_group, social_care_group_at
from cwsw.domain.calendar import ABSENCE_TERM, academic_year_label
from cwsw.indicators import absence, attainment, breakdowns, measures, pupils
from cwsw.indicators.disclosure import cell_keys, disclosed_mart, mart_relations
from cwsw.indicators.measures import ENROLMENTS, KS2, KS4, PUPILS, TERM, YEAR, Measure

# The gate over a mart lives in cwsw.indicators.disclosure; importable from here too.
__all__ = [
    "ALL_PUPILS",
    "EVER_CIN_6_YEARS",
    "NEVER_CIN_6_YEARS",
    "cell_keys",
    "disclosed_mart",
    "mart_relations",
]

MART = "mart_measure"
MART_COLUMNS = {
    "academic_year": "string",
    "period": "string",
    "period_type": "string",
    "reference_date": "date",
    "population": "string",
    "measure": "string",
    "cohort": "string",
    "cohort_kind": "string",
    "complement_of": "string",
    "breakdown": "string",
    "breakdown_value": "string",
    "numerator": "float64",
    "denominator": "float64",
    "value": "float64",
    "numerator_quantity": "string",
    "denominator_quantity": "string",
    "definition_version": "string",
    "source_loads": "string",
    "built_at": "timestamp",
}

# The tables each population's figures are computed from (for the lineage column).
SOCIAL_CARE_TABLES = ("cin_episode", "cp_plan", "cla_episode", "child_pupil_link")
POPULATION_TABLES = {
    ENROLMENTS: ("pupil_enrolment", "pupil_absence", "pupil_fsm", "establishment"),
    PUPILS: ("pupil_enrolment", "pupil_exclusion", "pupil_fsm", "establishment"),
    KS2: ("ks2_result", "pupil_enrolment", "pupil_fsm", "establishment"),
    KS4: ("ks4_result", "pupil_enrolment", "pupil_fsm", "establishment"),
}


def pupil_social_care_groups(con: ibis.BaseBackend, reference_date: dt.date) -> Table:
    """Each linked pupil's DfE social care group at ``reference_date``.

    Columns: ``_group_upn``, ``social_care_group``. A pupil linked to two children takes the
    higher group.
    """
    link = con.table("child_pupil_link").select("la_child_id", "upn")
    child_groups = social_care_group_at(
        con.table("cin_episode"), con.table("cp_plan"), con.table("cla_episode"), reference_date
    )
    by_upn = highest_group(
        link.join(child_groups, "la_child_id").select("upn", "social_care_group"), "upn"
    )
    return by_upn.select(_group_upn="upn", social_care_group="social_care_group")


def _with_group(population: Table, groups_by_upn: Table | None) -> Table:
    if groups_by_upn is None:  # no figure reads the group
        return population
    joined = population.left_join(groups_by_upn, population.upn == groups_by_upn._group_upn)
    return joined.drop("_group_upn")


def enrolment_population(
    con: ibis.BaseBackend,
    academic_year_end: int,
    terms: tuple[str, ...] | None = None,
    fsm: Table | None = None,
    year: absence.EnrolmentYear | None = None,
    with_fsm: bool = True,
) -> Table:
    """The headline absence enrolments of the year (or of some of its census terms), with
    the pupil's FSM eligibility (unless not ``with_fsm``). DfE defines the population by age
    (5 to 15 on 31 August before the year): every enrolment on the year's censuses, leavers
    seen only as no longer on roll included, in NC years 1 to 11 by date of birth
    (:func:`~cwsw.indicators.absence.enrolment_year`). ``fsm``
    (:func:`~cwsw.indicators.pupils.fsm_flags`) and ``year``
    (:func:`~cwsw.indicators.absence.enrolment_year`) may be given already computed."""
    enrolment = con.table("pupil_enrolment")
    enrolments = absence.headline_enrolments(
        absence.enrolment_absence(
            enrolment,
            con.table("pupil_absence"),
            con.table("establishment"),
            academic_year_end,
            terms=terms,
            year=year,
        )
    )
    if not with_fsm:
        return enrolments
    if fsm is None:
        fsm = pupils.fsm_flags(enrolment, con.table("pupil_fsm"), academic_year_end)
    keyed = enrolments.mutate(_pupil=pupils.pupil_key(enrolments))
    return (
        keyed.left_join(fsm, "_pupil")
        .drop("_pupil", "_pupil_right", "fsm6")
        .mutate(fsm=_.fsm.fill_null(False))
    )


def census_population(
    con: ibis.BaseBackend,
    academic_year_end: int,
    fsm: Table | None = None,
    with_fsm: bool = True,
) -> Table:
    """The spring census headcount of the year (:func:`~cwsw.indicators.pupils.census_pupils`)."""
    return pupils.census_pupils(
        con.table("pupil_enrolment"),
        con.table("pupil_exclusion"),
        con.table("pupil_fsm"),
        con.table("establishment"),
        academic_year_end,
        fsm=fsm,
        with_fsm=with_fsm,
    )


def populations(
    con: ibis.BaseBackend,
    academic_year_end: int,
    census: Table | None = None,
    fsm: Table | None = None,
    year: absence.EnrolmentYear | None = None,
    with_fsm: bool = True,
) -> dict[str, Table]:
    """Every population of the year, before cohorts and social care groups are attached.

    ``census`` (:func:`census_population`), ``fsm`` and ``year`` (as for
    :func:`enrolment_population`) may be given already computed: the pupils, KS2 and KS4
    populations all rest on the census, the year's and each term's enrolments on ``year``.
    Without ``with_fsm`` no population carries FSM flags.
    """
    if census is None:
        census = census_population(con, academic_year_end, fsm=fsm, with_fsm=with_fsm)
    schools = con.table("establishment")
    return {
        ENROLMENTS: enrolment_population(
            con, academic_year_end, fsm=fsm, year=year, with_fsm=with_fsm
        ),
        PUPILS: census,
        KS2: attainment.ks2_pupils(con.table("ks2_result"), census, schools, academic_year_end),
        KS4: attainment.ks4_pupils(con.table("ks4_result"), census, schools, academic_year_end),
    }


def columns_read(
    con: ibis.BaseBackend,
    academic_year_end: int,
    reference_date: dt.date,
    chosen: Sequence[Measure],
    names: tuple[str, ...],
) -> set[str]:
    """The population columns the measures of ``chosen`` and the breakdowns ``names`` read.

    Found from the expressions themselves (the fields they refer to), over every population
    as built in full, so a new measure or breakdown needs no list kept beside it.
    """
    full = populations(con, academic_year_end)
    groups = pupil_social_care_groups(con, reference_date)
    read: set[str] = set()
    for population, table in full.items():
        of_population = [m for m in chosen if m.population == population]
        if not of_population:
            continue
        probe = ibis.table(_with_group(table, groups).schema(), name="probe")
        values = [v for m in of_population for v in m.function(probe).values()]
        values += [breakdowns.BREAKDOWNS[name](probe) for name in names]
        read |= {field.name for value in values for field in value.op().find(ops.Field)}
    return read


def _aggregate(table: Table, chosen: Sequence[Measure]) -> Table:
    parts: dict[str, Any] = {}
    for i, measure in enumerate(chosen):
        figures = measure.function(table)
        parts[f"n{i}"] = figures["numerator"].cast("float64")
        parts[f"d{i}"] = figures["denominator"].cast("float64")
    return table.group_by(["cohort", "breakdown", "breakdown_value"]).aggregate(**parts)


def _rows(
    wide: pd.DataFrame,
    chosen: Sequence[Measure],
    specs: dict[str, CohortSpec],
    common: dict[str, Any],
) -> pd.DataFrame:
    """The mart's long rows (:data:`MART_COLUMNS`) from one aggregate per cohort and
    breakdown value, with every measure's parts side by side (``n0``, ``d0``, ``n1``...).

    Column at a time, not row at a time: a national mart has millions of rows.
    """
    cohort = wide["cohort"].astype(str)
    kinds = {name: spec.kind for name, spec in specs.items()}
    complements = {name: spec.of if spec.kind == "not" else "" for name, spec in specs.items()}
    frames = []
    for i, measure in enumerate(chosen):
        numerator = pd.to_numeric(wide[f"n{i}"]).astype("float64").fillna(0.0)
        denominator = pd.to_numeric(wide[f"d{i}"]).astype("float64").fillna(0.0)
        if measure.is_count:
            value = numerator.copy()
        else:
            value = (measure.scale * numerator / denominator).where(denominator != 0)
        versions = {
            name: "+".join(
                (
                    f"{measure.name}-{measure.version}",
                    measures.DEFINITION_VERSION,
                    breakdowns.DEFINITION_VERSION,
                    f"{spec.name}:{spec.definition_version}",
                    definitions.DEFINITION_VERSION,
                )
            )
            for name, spec in specs.items()
        }
        frames.append(
            pd.DataFrame(
                {
                    "population": measure.population,
                    "measure": measure.name,
                    "cohort": cohort.to_numpy(),
                    "cohort_kind": cohort.map(kinds).to_numpy(),
                    "complement_of": cohort.map(complements).to_numpy(),
                    "breakdown": wide["breakdown"].astype(str).to_numpy(),
                    "breakdown_value": wide["breakdown_value"].astype(str).to_numpy(),
                    "numerator": numerator.to_numpy(),
                    "denominator": denominator.to_numpy(),
                    "value": value.to_numpy(),
                    "numerator_quantity": measure.numerator,
                    "denominator_quantity": measure.denominator,
                    "definition_version": cohort.map(versions).to_numpy(),
                    "source_loads": common["source_loads"][measure.population],
                },
                index=range(len(wide)),
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    for column in ("academic_year", "period", "period_type", "reference_date", "built_at"):
        rows[column] = common[column]
    return rows[list(MART_COLUMNS)]


def _figures(
    con: ibis.BaseBackend,
    population: Table,
    chosen: Sequence[Measure],
    memberships: Table,
    cohorts: Sequence[CohortSpec],
    names: tuple[str, ...] = tuple(breakdowns.BREAKDOWNS),
) -> pd.DataFrame:
    """Every measure of ``chosen`` on ``population`` per cohort and breakdown value.

    The population is labelled once and stored (``cache()``: a temporary table on DuckDB and
    PostgreSQL, a cached DataFrame on Spark), so that it is not computed again for each
    cohort x breakdown copy the aggregate reads. The copies themselves are not stored: on
    DuckDB, writing them out cost twice what joining them again for each breakdown does.
    """
    with breakdowns.with_labels(population, names).cache() as labelled:
        tagged = cohort_tagged(labelled, memberships, cohorts)
        return con.execute(_aggregate(breakdowns.by_breakdown(tagged, names), chosen))


def build_marts(
    con: ibis.BaseBackend,
    reference_date: dt.date,
    source_loads: dict[str, str],
    cohorts: Sequence[CohortSpec] = DEFAULT_COHORTS,
    chosen: Sequence[Measure] = measures.MEASURES,
    breakdown_names: tuple[str, ...] = tuple(breakdowns.BREAKDOWNS),
    by_term: bool = True,
) -> pd.DataFrame:
    """All the marts' rows for the academic year paired with ``reference_date``.

    Social care status at 31 March of year Y pairs with the academic year ending in summer Y
    (docs/domain.md §2). ``source_loads`` gives each population's loads (:func:`lineage`). Every
    measure (of ``chosen``) is broken down by every breakdown (of ``breakdown_names``) for the
    year; absence also by term (unless ``by_term`` is false).
    """
    year = reference_date.year
    specs = {s.name: s for s in cohorts}
    # FSM flags and pupils' social care groups are computed only if a figure reads them.
    reads = columns_read(con, year, reference_date, chosen, breakdown_names)
    with_fsm = bool({"fsm", "fsm6"} & reads)
    memberships = pupil_memberships(
        cohorts, Timelines.from_backend(con), con.table("child_pupil_link"), reference_date
    ).cache()
    groups_by_upn = (
        pupil_social_care_groups(con, reference_date).cache()
        if "social_care_group" in reads
        else None
    )
    built_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    common: dict[str, Any] = {
        "academic_year": academic_year_label(year),
        "period": academic_year_label(year),
        "period_type": YEAR,
        "reference_date": reference_date,
        "source_loads": source_loads,
        "built_at": built_at,
    }
    # Stored once, each read by several populations: FSM flags (every enrolment population),
    # the census (pupils, KS2, KS4), the year's enrolments (the year and each term).
    fsm = (
        pupils.fsm_flags(con.table("pupil_enrolment"), con.table("pupil_fsm"), year).cache()
        if with_fsm
        else None
    )
    census = census_population(con, year, fsm=fsm, with_fsm=with_fsm).cache()
    enrolments = absence.enrolment_year(
        con.table("pupil_enrolment"),
        con.table("pupil_absence"),
        year,
        by_term=by_term,
        details=tuple(reads & set(absence.PUPIL_DETAILS)),
    ).cache()
    rows: list[pd.DataFrame] = []
    built = populations(con, year, census, fsm, enrolments, with_fsm=with_fsm)
    for population, table in built.items():
        of_population = [m for m in chosen if m.population == population]
        if of_population:
            wide = _figures(
                con,
                _with_group(table, groups_by_upn),
                of_population,
                memberships,
                cohorts,
                breakdown_names,
            )
            rows.append(_rows(wide, of_population, specs, common))
    of_enrolments = [m for m in chosen if m.population == ENROLMENTS]
    terms = absence.census_terms_for_absence(year) if by_term and of_enrolments else ()
    for census_term in terms:
        term = ABSENCE_TERM[census_term.split("_")[1]]
        table = _with_group(
            enrolment_population(
                con, year, (census_term,), fsm=fsm, year=enrolments, with_fsm=with_fsm
            ),
            groups_by_upn,
        )
        wide = _figures(con, table, of_enrolments, memberships, cohorts, ("total",))
        term_common = common | {
            "period": f"{academic_year_label(year)} {term} term",
            "period_type": TERM,
        }
        rows.append(_rows(wide, of_enrolments, specs, term_common))
    for stored in (memberships, groups_by_upn, fsm, census):
        if stored is not None:
            stored.release()
    enrolments.release()
    if not rows:
        return pd.DataFrame(columns=list(MART_COLUMNS))
    frame = pd.concat(rows, ignore_index=True)
    return frame.sort_values(
        ["period_type", "period", "population", "measure", "cohort", "breakdown"],
        kind="stable",
        ignore_index=True,
    )


def lineage(con: ibis.BaseBackend, loads: pd.DataFrame) -> dict[str, str]:
    """Each population's source loads: ``name (sha256 prefix)`` of every file its tables hold.

    ``loads`` has ``load_id``, ``file_name`` and ``sha256`` (the ``loads`` table).
    """
    names = {
        int(i): f"{name} ({str(sha)[:12]})"
        for i, name, sha in zip(loads.load_id, loads.file_name, loads.sha256, strict=True)
    }
    tables = set(con.list_tables())
    ids: dict[str, set[int]] = {}
    for table in {t for ts in POPULATION_TABLES.values() for t in ts} | set(SOCIAL_CARE_TABLES):
        if table in tables and "load_id" in con.table(table).columns:
            found = con.table(table).select("load_id").distinct().execute()["load_id"]
            ids[table] = {int(i) for i in found.dropna()}
    out = {}
    for population, own in POPULATION_TABLES.items():
        used = set().union(*(ids.get(t, set()) for t in (*own, *SOCIAL_CARE_TABLES)))
        out[population] = ",".join(names[i] for i in sorted(used) if i in names)
    return out
