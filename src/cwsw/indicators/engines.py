"""Where the marts are built: DuckDB (the warehouse itself, the default), PostgreSQL or Spark.

The cohort and measure logic is Ibis expressions over the canonical tables, written once; an
engine only has to hold those tables. :func:`build_backend` copies the tables the marts read
from the DuckDB warehouse into a PostgreSQL schema of its own (CSV through ``COPY``) or into a
Spark session (Parquet files registered as temporary views) and yields an Ibis backend over
them; the finished rows come back as pandas and are stored in the DuckDB ``mart_measure``
table whichever engine computed them (``cwsw.pipeline.build``). The copy is scratch: the
PostgreSQL schema is dropped and the Spark session stopped (if this module started it) when
the build ends. See docs/adr/0007-marts-on-three-engines.md.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import ibis

from cwsw.errors import UserError
from cwsw.indicators.marts import POPULATION_TABLES, SOCIAL_CARE_TABLES
from cwsw.warehouse.connection import Warehouse

DUCKDB = "duckdb"
POSTGRES = "postgres"
SPARK = "spark"
ENGINES = (DUCKDB, POSTGRES, SPARK)

# The canonical tables the cohorts and measures read: all an engine needs to hold.
MART_TABLES = tuple(
    sorted({t for tables in POPULATION_TABLES.values() for t in tables} | set(SOCIAL_CARE_TABLES))
)
# A schema this module creates (and drops): never one a user named for something else.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class EngineError(UserError, ValueError):
    """An engine that cannot be used (unknown, unreachable, misconfigured): the message says
    which and what to set, without a traceback."""


@dataclass(frozen=True)
class EngineOptions:
    """How to reach the engines other than DuckDB.

    ``postgres_url``: a libpq URL (``postgresql://user@host:5432/database``);
    ``postgres_schema``: the scratch schema to copy the tables into (default: a new
    ``cwsw_build_<random>``), created and dropped by the build, so it must not exist;
    ``spark_master`` and ``spark_shuffle_partitions``: as for linkage on Spark.
    """

    postgres_url: str = ""
    postgres_schema: str | None = None
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4


def check_engine(engine: str) -> str:
    """``engine`` normalised, or an :class:`EngineError` naming the choices."""
    name = engine.strip().lower()
    if name not in ENGINES:
        raise EngineError(
            f"unknown build engine {engine!r} (--engine, CWSW_BUILD_ENGINE): "
            f"use one of {', '.join(ENGINES)}"
        )
    return name


@contextmanager
def build_backend(
    warehouse: Warehouse, engine: str = DUCKDB, options: EngineOptions | None = None
) -> Iterator[ibis.BaseBackend]:
    """An Ibis backend holding the warehouse's :data:`MART_TABLES`, on ``engine``."""
    engine = check_engine(engine)
    options = options or EngineOptions()
    if engine == DUCKDB:
        yield warehouse.ibis
    elif engine == POSTGRES:
        with _postgres(warehouse, options) as con:
            yield con
    else:
        with _spark(warehouse, options) as con:
            yield con


def _present(warehouse: Warehouse) -> list[str]:
    tables = set(warehouse.ibis.list_tables())
    missing = [t for t in MART_TABLES if t not in tables]
    if missing:
        raise EngineError(
            f"the warehouse lacks {', '.join(missing)}: run `cwsw ingest` and `cwsw link` first"
        )
    return list(MART_TABLES)


# -- PostgreSQL ---------------------------------------------------------------------------------


def _where(url: str) -> str:
    """Host, port and database of a URL, for messages (never its password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "the configured server"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


@contextmanager
def _postgres(warehouse: Warehouse, options: EngineOptions) -> Iterator[ibis.BaseBackend]:
    import psycopg

    if not options.postgres_url:
        raise EngineError(
            "no PostgreSQL server configured: set CWSW_BUILD_POSTGRES_URL "
            "(e.g. postgresql://user@127.0.0.1:5432/database)"
        )
    schema = options.postgres_schema or f"cwsw_build_{uuid4().hex[:12]}"
    if not SCHEMA_NAME.fullmatch(schema):
        raise EngineError(f"{schema!r} is not a plain PostgreSQL schema name (a-z, 0-9, _)")
    tables = _present(warehouse)
    try:
        connection = psycopg.connect(options.postgres_url, autocommit=True, connect_timeout=10)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise EngineError(
            f"cannot reach PostgreSQL at {_where(options.postgres_url)} "
            f"(CWSW_BUILD_POSTGRES_URL): {reason}"
        ) from None
    with connection:
        try:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.errors.DuplicateSchema:
            raise EngineError(
                f"PostgreSQL schema {schema!r} already exists: the build copies into a schema "
                "of its own and drops it afterwards, so name one that does not exist"
            ) from None
        try:
            # Unqualified names (con.table("cin_episode")) resolve in the scratch schema only;
            # Ibis's cache() tables go to the session's pg_temp schema as usual.
            connection.execute("SELECT set_config('search_path', %s, false)", (f'"{schema}"',))
            con = ibis.postgres.from_connection(connection)
            with tempfile.TemporaryDirectory(prefix="cwsw-build-") as scratch:
                for table in tables:
                    _copy_to_postgres(warehouse, con, connection, table, Path(scratch))
            yield con
        finally:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _copy_to_postgres(
    warehouse: Warehouse, con: Any, connection: Any, table: str, scratch: Path
) -> None:
    """One table, with the warehouse's column types, through DuckDB's CSV writer and COPY.

    CSV rather than Ibis's ``create_table(obj=...)``, which inserts row by row
    (``executemany``). DuckDB writes NULL as an empty field and an empty string as ``""``,
    which is how PostgreSQL's CSV format tells them apart, and doubles in their shortest
    round-trip form, so every value arrives exactly.
    """
    source = warehouse.ibis.table(table)
    con.create_table(table, schema=source.schema())
    path = scratch / f"{table}.csv"
    warehouse.ibis.to_csv(source, path, header=True)
    columns = ", ".join(f'"{c}"' for c in source.columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN (FORMAT csv, HEADER true)') as copy,
        path.open("rb") as handle,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)


# -- Spark --------------------------------------------------------------------------------------


def _spark_session(options: EngineOptions) -> tuple[Any, bool]:
    """The active Spark session, else a new small one (UI off, Arrow for results); and
    whether this build started it (and so stops it)."""
    from pyspark.sql import SparkSession

    from cwsw.linkage.splink_engine import similarity_jar

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    partitions = str(options.spark_shuffle_partitions)
    try:
        session = (
            SparkSession.builder.master(options.spark_master)
            .appName("cwsw-build")
            # Splink's functions: a linkage later in this process needs them in the JVM.
            .config("spark.jars", similarity_jar())
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", partitions)
            .config("spark.default.parallelism", partitions)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            # The marts' plans are large (every cohort x breakdown is a branch of a union) and
            # an LA's rows few: compiling each stage to Java took longer than running it
            # interpreted (the cohort memberships: 36 s compiled, 14 s not, local[1]).
            .config("spark.sql.codegen.wholeStage", "false")
            .getOrCreate()
        )
    except Exception as error:  # no Java, a master that does not answer, a bad setting
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise EngineError(
            f"cannot start Spark (master {options.spark_master!r}, CWSW_SPARK_MASTER; "
            f"Spark needs Java): {first}"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session, True


@contextmanager
def _spark(warehouse: Warehouse, options: EngineOptions) -> Iterator[ibis.BaseBackend]:
    tables = _present(warehouse)
    session, owned = _spark_session(options)
    try:
        con = ibis.pyspark.connect(session)
        with tempfile.TemporaryDirectory(prefix="cwsw-build-") as scratch:
            try:
                for table in tables:
                    # Parquet keeps DuckDB's types (int32, date, double) exactly; the files
                    # outlive the build, since Spark reads them lazily, query by query.
                    path = Path(scratch) / f"{table}.parquet"
                    warehouse.ibis.to_parquet(warehouse.ibis.table(table), path)
                    con.read_parquet(path, table_name=table)
                yield con
            finally:
                for table in tables:
                    session.catalog.dropTempView(table)
    finally:
        if owned:
            session.stop()
