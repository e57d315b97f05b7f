"""The cohort and measure logic compiles for PostgreSQL and Spark (DuckDB runs it everywhere).

Only Ibis expressions over the canonical tables: here they are built on unbound tables with
the warehouse schema and compiled for each dialect, so an operation one engine lacks fails
here. (Running them on the engines themselves is the engine tests' job.)
"""

from __future__ import annotations

import datetime as dt

import ibis
import pytest
from ibis.backends.pyspark import Backend as PySparkBackend

from cwsw.cohort.definitions import DEFAULT_COHORTS, Timelines, cohort_tagged, pupil_memberships
from cwsw.indicators import breakdowns, marts, measures
from cwsw.warehouse.schema import TABLES

TYPES = {
    "VARCHAR": "string",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}
LINK = {"la_child_id": "string", "upn": "string", "match_method": "string"}


class UnboundTables:
    """Stands in for a backend: ``table(name)`` is an unbound table with the canonical schema."""

    def table(self, name: str) -> ibis.Table:
        if name == "child_pupil_link":
            return ibis.table(LINK, name=name)
        return ibis.table({c: TYPES[t] for c, t in TABLES[name].items()}, name=name)


@pytest.mark.parametrize("dialect", ["postgres", "pyspark"])
def test_every_population_compiles(dialect: str) -> None:
    if dialect == "pyspark":
        PySparkBackend.register_options()  # its compiler reads a backend option
    con = UnboundTables()
    reference = dt.date(2025, 3, 31)
    memberships = pupil_memberships(
        DEFAULT_COHORTS, Timelines.from_backend(con), con.table("child_pupil_link"), reference
    )
    groups = marts.pupil_social_care_groups(con, reference)
    for population, table in marts.populations(con, 2025).items():
        tagged = cohort_tagged(marts._with_group(table, groups), memberships, DEFAULT_COHORTS)
        long = breakdowns.by_breakdown(tagged, ("total", "ethnicity", "fsm_sen"))
        sql = ibis.to_sql(marts._aggregate(long, measures.measures_of(population)), dialect=dialect)
        assert "GROUP BY" in sql.upper(), population
