"""A load's rows held aside until the whole file has been read, then inserted in one go.

Nothing of a file reaches the warehouse before its last record has been read, so a bad or
killed read leaves the warehouse untouched by construction, and the load's transaction holds
only the final bulk inserts, which DuckDB writes out as it goes. Appending a national file
batch by batch instead kept every uncommitted row in DuckDB's memory (about 1 GB of the
parent's 1.3 GB on a 700,000-child CIN census).

Small files stay in memory; once more than ``IN_MEMORY_BYTES`` is held, batches go to Parquet
files in a hidden folder beside the warehouse, removed when the load ends, or after a kill by
the next load (folders are named after the process that made them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cwsw.warehouse.connection import Warehouse

IN_MEMORY_BYTES = 64 * 2**20
FOLDER = ".cwsw-staging"


class Staging:
    """Arrow batches per canonical table, in memory and then in Parquet files."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._held: dict[str, list[pa.Table]] = {}
        self._held_bytes = 0
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._folder: Path | None = None

    def add(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        self._held.setdefault(table, []).append(data)
        self._held_bytes += data.nbytes
        if self._held_bytes > IN_MEMORY_BYTES:
            self._spill()

    def insert(self) -> dict[str, int]:
        """Insert everything held into the warehouse (inside the caller's transaction)."""
        if self._writers:  # once anything is on disk, all of it goes there
            self._spill()
        inserted: dict[str, int] = {}
        for table, writer in self._writers.items():
            writer.close()
            inserted[table] = self._warehouse.insert_parquet(table, self._file(table))
        self._writers.clear()
        for table, batches in self._held.items():
            inserted[table] = self._warehouse.insert_arrow(table, pa.concat_tables(batches))
        self._held.clear()
        return inserted

    def _spill(self) -> None:
        for table, batches in self._held.items():
            writer = self._writers.get(table)
            if writer is None:
                path = self._file(table)
                # Uncompressed: the files live only until the insert; written and read faster.
                writer = self._writers[table] = pq.ParquetWriter(
                    path, batches[0].schema, compression="none"
                )
            for batch in batches:
                writer.write_table(batch)
        self._held.clear()
        self._held_bytes = 0

    def _file(self, table: str) -> Path:
        if self._folder is None:
            root = _root(self._warehouse)
            root.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(root)
            self._folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        return self._folder / f"{table}.parquet"

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        self._held.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _root(warehouse: Warehouse) -> Path:
    if warehouse.path == ":memory:":
        return Path(tempfile.gettempdir()) / FOLDER
    return Path(warehouse.path).resolve().parent / FOLDER


def _remove_abandoned(root: Path) -> None:
    """Remove staging folders whose process has gone (a load that was killed)."""
    for folder in root.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
