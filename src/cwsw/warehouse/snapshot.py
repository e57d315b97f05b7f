"""Read-only snapshots of a warehouse file, for readers that serve many requests (ADR 0013).

A :class:`Snapshot` is a read-only :class:`Warehouse` connection to one build of the file, and
that build's :class:`Facts`: what readers have read from it, read once per build and process.
The warehouse cannot change under a reader, and a load that changes the file changes its
:func:`signature`, so nothing else invalidates the facts.

Opening a DuckDB file reads its catalogue (tens of milliseconds at LA scale), yet a second
connection to a file the process already has open is nearly free: so each process keeps one
read-only "anchor" connection per file while snapshots are being asked for, and lets go of it
:data:`HOLD_SECONDS` after the last one, so that a load can take the file's write lock.

:class:`WarehouseUnavailable` is the one error for "the warehouse cannot be read just now"
(not built yet, or a load is writing it); its message is fit to show a user.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from cwsw.errors import UserError
from cwsw.warehouse.connection import Warehouse

NOT_LOADED = "No data has been loaded yet"
BEING_UPDATED = "The data is being updated: try again in a few minutes"
HOLD_SECONDS = 2.0
# The file's inode, modification time (ns) and size, and its write-ahead log's size and
# modification time (0, 0 without one): any write, and so any new build, changes it.
Signature = tuple[int, int, int, int, int]
T = TypeVar("T")


class WarehouseUnavailable(UserError, RuntimeError):
    """The warehouse cannot be read just now: it has not been built, or a load is writing it.

    The message (:data:`NOT_LOADED` or :data:`BEING_UPDATED`) is fit to show a user.
    """


class Facts:
    """What readers have read from one build of a warehouse file, each read once.

    Two threads asking for a fact not yet read may both read it; they read the same build,
    so either answer is right, and the first one kept is the one every later caller gets.
    """

    def __init__(self, signature: Signature | None = None) -> None:
        self.signature = signature
        self._values: dict[Hashable, Any] = {}

    def get(self, name: Hashable, read: Callable[[], T]) -> T:
        """The fact ``name``; ``read()`` it first if this build's has not been read."""
        if name not in self._values:
            self._values.setdefault(name, read())
        return cast(T, self._values[name])


class Snapshot(Warehouse):
    """A read-only connection to one build of the warehouse, with that build's :class:`Facts`.

    Made by :func:`open_snapshot`; it is a :class:`Warehouse`, so anything that reads one can
    read a snapshot.
    """

    facts: Facts


def remember(warehouse: Warehouse, name: Hashable, read: Callable[[], T]) -> T:
    """``read()`` once per build for a :class:`Snapshot`; every time for a plain warehouse."""
    if isinstance(warehouse, Snapshot):
        return warehouse.facts.get(name, read)
    return read()


def tables(warehouse: Warehouse) -> frozenset[str]:
    """The warehouse's tables (read once per build of a snapshot), not this connection's
    temporary ones (Ibis registers in-memory tables as temporary views)."""
    return remember(
        warehouse,
        "tables",
        lambda: frozenset(
            str(row[0])
            for row in warehouse.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_catalog = current_database()"
            )
        ),
    )


def signature(path: Path) -> Signature | None:
    """The file's signature, or None if there is no file. Two ``stat`` calls: microseconds."""
    target = Path(path)
    try:
        found = target.stat()
    except FileNotFoundError:
        return None
    try:
        wal = target.with_name(target.name + ".wal").stat()
        log = (wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        log = (0, 0)
    return (found.st_ino, found.st_mtime_ns, found.st_size, *log)


@contextmanager
def open_snapshot(path: Path, *, hold: bool = True) -> Iterator[Snapshot]:
    """A read-only snapshot of the warehouse at ``path`` for one request (one thread).

    ``hold``: keep the process's anchor on the file (opening it if need be) until
    :data:`HOLD_SECONDS` after the last snapshot; a reader that reads once per build (and so
    gains nothing from a cheap open) passes False, so as not to keep a load waiting.
    Raises :class:`WarehouseUnavailable` if there is no file, or DuckDB refuses to open it
    (a load holds its write lock).
    """
    target = Path(path)
    found = signature(target)
    if found is None:
        raise WarehouseUnavailable(NOT_LOADED)
    try:
        facts = _hold(target, found) if hold else _facts_of(str(target), found)
        snapshot = cast(Snapshot, Snapshot.open(target, read_only=True))
    except Exception as error:  # DuckDB's lock error while a load writes the file
        raise WarehouseUnavailable(BEING_UPDATED) from error
    snapshot.facts = facts
    with snapshot:
        yield snapshot


# --- the anchors ---------------------------------------------------------------------------


@dataclass
class _Anchor:
    signature: Signature
    connection: Warehouse
    last_used: float


_anchors: dict[str, _Anchor] = {}
_anchors_lock = threading.Lock()
_release_timer: threading.Timer | None = None
# Facts outlive the anchors: a file released while idle is the same build when read again.
_facts: dict[str, Facts] = {}
_facts_lock = threading.Lock()


def _hold(path: Path, found: Signature) -> Facts:
    """Keep (or open) the process's anchor on ``path``; return the facts of its build."""
    global _release_timer
    key = str(path)
    with _anchors_lock:
        anchor = _anchors.get(key)
        if anchor is not None and anchor.signature != found:
            anchor.connection.close()  # a rebuilt file: open connections keep the old one
            anchor = None
        if anchor is None:
            anchor = _Anchor(found, Warehouse.open(path, read_only=True), time.monotonic())
            # Pages run small queries side by side: one thread each costs less CPU than
            # DuckDB's pool handing each one round (ADR 0013). A setting of the database.
            anchor.connection.execute("SET threads = 1")
            _anchors[key] = anchor
        anchor.last_used = time.monotonic()
        if _release_timer is None:
            _release_timer = _release_later()
    return _facts_of(key, found)


def _facts_of(key: str, found: Signature) -> Facts:
    """The facts of the build of file ``key`` whose signature is ``found``."""
    with _facts_lock:
        facts = _facts.get(key)
        if facts is None or facts.signature != found:
            facts = _facts[key] = Facts(found)
        return facts


def _release_idle() -> None:
    """Close the anchors no one has used for HOLD_SECONDS; check again when the next is due."""
    global _release_timer
    with _anchors_lock:
        now = time.monotonic()
        for key, anchor in list(_anchors.items()):
            if now - anchor.last_used >= HOLD_SECONDS:
                anchor.connection.close()
                del _anchors[key]
        if _anchors:
            # Wake when the first remaining anchor falls due, not a whole hold later.
            due = min(anchor.last_used for anchor in _anchors.values()) + HOLD_SECONDS
            _release_timer = _release_later(max(due - now, 0.01))
        else:
            _release_timer = None


def _release_later(delay: float | None = None) -> threading.Timer:
    timer = threading.Timer(HOLD_SECONDS if delay is None else delay, _release_idle)
    timer.daemon = True  # never keeps a process alive
    timer.start()
    return timer


def release_anchors() -> None:
    """Let go of every anchor now, and of the timer (tests start and end with none held)."""
    global _release_timer
    with _anchors_lock:
        if _release_timer is not None:
            _release_timer.cancel()
            _release_timer = None
        for anchor in _anchors.values():
            anchor.connection.close()
        _anchors.clear()
