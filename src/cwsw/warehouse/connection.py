"""The one wrapper over DuckDB: every other module reaches the warehouse through ``Warehouse``.

Loads use the raw connection (transactions, Arrow inserts); analytics use ``.ibis``, an Ibis
backend over the same connection so that both see the same data and the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import uuid4

import duckdb
import ibis
import pyarrow as pa
from ibis.backends.duckdb import Backend as IbisDuckDB

from cwsw.errors import UserError

# What a query interrupted by Ctrl-C raises (DuckDB's own, or Python's through it): the
# command line ends on either with one line, the open transaction rolled back.
INTERRUPTS: tuple[type[BaseException], ...] = (KeyboardInterrupt, duckdb.InterruptException)


class WarehouseNotOpened(UserError):
    """The warehouse file cannot be opened: another process holds it, there is none yet, it
    cannot be written, or it is not a warehouse. The message names the file and what to do."""


def _not_opened(target: str, read_only: bool, error: Exception) -> WarehouseNotOpened | None:
    """The user's error behind DuckDB's (or the file system's) refusal to open ``target``,
    or None for one that is not the user's to fix."""
    text = str(error)
    if "Conflicting lock" in text or "Could not set lock" in text:
        pid = re.search(r"\(PID (\d+)\)", text)
        held = f" (process {pid.group(1)})" if pid else ""
        return WarehouseNotOpened(
            f"the warehouse {target} is in use by another process{held}: wait for its load, "
            "link or build to finish (or stop the web server using it), then run this again"
        )
    if "database does not exist" in text:
        return WarehouseNotOpened(
            f"no warehouse at {target}: run `cwsw ingest` first, or set CWSW_HOME "
            "(or CWSW_WAREHOUSE) to where the warehouse is"
        )
    if "not a valid DuckDB database" in text:
        return WarehouseNotOpened(
            f"{target} is not a cwsw warehouse (not a DuckDB file): set CWSW_WAREHOUSE to "
            "the warehouse, or move the file away"
        )
    if isinstance(error, OSError) or "Cannot open file" in text:
        reason = error.strerror if isinstance(error, OSError) else text.rsplit(": ", 1)[-1]
        verb = "read" if read_only else "write"
        return WarehouseNotOpened(
            f"cannot {verb} the warehouse {target} ({reason}): set CWSW_HOME to a folder "
            f"you can {verb} (or CWSW_WAREHOUSE to a file in one)"
        )
    return None


class Warehouse:
    """A DuckDB warehouse file (or ``":memory:"``) open for loading and querying."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: str) -> None:
        self._connection = connection
        self.path = path
        self._ibis: IbisDuckDB | None = None
        self._in_transaction = False

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Warehouse:
        """Open (creating if need be) a warehouse; ``read_only`` for readers such as the web app.

        DuckDB lets one process write a file or several read it, so readers should say so.
        Raises :class:`WarehouseNotOpened` when the user can fix what stops it (another
        process holds the file, there is none to read, its folder cannot be written).
        """
        target = str(path)
        try:
            if target != ":memory:" and not read_only:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect(target, read_only=read_only)
        except (OSError, duckdb.Error) as error:
            found = _not_opened(target, read_only, error)
            if found is None:
                raise
            raise found from None
        return cls(connection, target)

    @property
    def ibis(self) -> IbisDuckDB:
        """An Ibis DuckDB backend over this warehouse's connection."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self._connection)
        return self._ibis

    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All or nothing: COMMIT when the block ends, ROLLBACK if it raises."""
        if self._in_transaction:
            raise RuntimeError("a warehouse transaction is already open")
        self._connection.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        else:
            self._connection.execute("COMMIT")
        finally:
            self._in_transaction = False

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement with ``?`` parameters and return its rows (none for DDL)."""
        cursor = self._connection.execute(sql, params) if params else self._connection.execute(sql)
        return cursor.fetchall() if cursor.description else []

    def insert_arrow(self, table_name: str, table: pa.Table) -> int:
        """Append an Arrow table to ``table_name``, matching columns by name."""
        if table.num_rows == 0:
            return 0
        view = f"_incoming_{uuid4().hex}"
        # Through a reader, DuckDB copies the rows into the transaction: a registered Table's
        # buffers were kept alive to the COMMIT, holding a whole national file in memory.
        self._connection.register(view, table.to_reader())
        try:
            self._connection.execute(f'INSERT INTO "{table_name}" BY NAME SELECT * FROM "{view}"')
        finally:
            self._connection.unregister(view)
        return table.num_rows

    def insert_parquet(self, table_name: str, path: Path) -> int:
        """Append a Parquet file to ``table_name``, matching columns by name."""
        found = self._connection.execute(
            f'INSERT INTO "{table_name}" BY NAME SELECT * FROM read_parquet(?)', [str(path)]
        ).fetchall()
        return int(found[0][0]) if found else 0

    def close(self) -> None:
        if self._ibis is not None:
            self._ibis = None
        self._connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
