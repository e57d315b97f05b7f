"""The one wrapper over DuckDB: every other module reaches the warehouse through ``Warehouse``.

Loads use the raw connection (transactions, Arrow inserts); analytics use ``.ibis``, an Ibis
backend over the same connection so that both see the same data and the same transaction.
"""

from __future__ import annotations

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
        """
        target = str(path)
        if target != ":memory:" and not read_only:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        return cls(duckdb.connect(target, read_only=read_only), target)

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
