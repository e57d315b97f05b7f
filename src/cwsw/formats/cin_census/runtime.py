"""How a CIN census file is read: in this process, or by several reading processes at once.

``read_cin_census`` is the reader's entry point. A large file is cut into parts (``parts``),
each read by a ``python -m cwsw.formats.cin_census_worker`` process (``work``) that sends its
rows and findings back as pickled Arrow batches; this process hands them on to the sink as
they come. When the parts do not fit together, or one meets a fault, ``RereadInOneProcess``
says so: the loader rolls back what the sink took and the file is read again in one process,
so the rows and findings never depend on the number of processes or where the cut fell
(docs/adr/0003-cin-census-reading-at-national-scale.md).
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path
from queue import Queue
from typing import Any, BinaryIO

import pyarrow as pa

from cwsw.formats.cin_census.parts import Part, split
from cwsw.formats.cin_census.reader import Summary, finish, new_result, read_part
from cwsw.formats.cin_census.spec import FORMAT
from cwsw.formats.common import ReadResult, Sink
from cwsw.formats.errors import (
    Finding,
    FormatError,
    RereadInOneProcess,
    findings_from_table,
    findings_table,
)
from cwsw.settings import get_settings

# Below this size a second process costs more to start than it saves.
PARALLEL_FROM_BYTES = 64 * 2**20
MAX_WORKERS = 2
# The reading process's module (``python -m``), which calls ``work``.
WORKER_MODULE = "cwsw.formats.cin_census_worker"


def read_cin_census(
    path: Path | str, sink: Sink | None = None, workers: int | None = None
) -> ReadResult:
    """Read a CIN census XML file into ``cin_child``, ``cin_episode`` and the module tables.

    Raises ``FormatError`` (naming the file and line) for a file that is not XML, has the
    wrong root, is another DfE return (``Header/CollectionDetails/Collection``: SEN2, the
    workforce census...), is truncated or has no collection year; nothing partial is kept
    (the loader rolls back whatever batches a ``sink`` had received).

    A large file is read by ``workers`` processes (default: ``CWSW_INGEST_WORKERS``, else one
    per core, at most two, from ``PARALLEL_FROM_BYTES``), each taking a run of whole children;
    the rows and findings are the same as one process reads, whatever the number.
    """
    path = Path(path)
    result, header = new_result(path, sink)
    count = worker_count(path) if workers is None else workers
    parts = split(path, count) if count > 1 else []
    if len(parts) > 1:
        try:
            summary = _read_in_parallel(path, result, parts)
        except RereadInOneProcess:
            if sink is not None:
                raise  # the caller rolls back what the sink took, then reads again
            return read_cin_census(path, workers=1)
    else:
        summary = read_part(path, result, None)
    return finish(path, result, summary, header)


def worker_count(path: Path) -> int:
    """``CWSW_INGEST_WORKERS`` if set; else one per core, at most ``MAX_WORKERS``, for a file
    of ``PARALLEL_FROM_BYTES`` or more, and one for a smaller one."""
    configured = get_settings().ingest_workers
    if configured is not None:
        return max(1, configured)
    try:
        size = path.stat().st_size
    except OSError:
        return 1
    return min(MAX_WORKERS, os.cpu_count() or 1) if size >= PARALLEL_FROM_BYTES else 1


def _read_in_parallel(path: Path, result: ReadResult, parts: list[Part]) -> Summary:
    """Worker processes parse the parts side by side; this process hands their batches to
    the sink as they come, so memory stays bounded and a failure anywhere leaves the loader
    to roll everything back.

    Workers are plain ``python -m`` subprocesses speaking pickle over their stdout (not
    ``multiprocessing``, whose spawn re-imports the caller's main script).
    """
    inbox: Queue[tuple[int, tuple[Any, ...]]] = Queue(maxsize=2 * len(parts))
    processes = []
    for part in parts:
        numbers = [str(n) for n in dataclasses.astuple(part)]
        # Its own process group: a terminal's Ctrl-C reaches this process only, which stops
        # (and kills) its readers itself, so none prints a traceback of its own.
        process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, str(path), *numbers],
            stdout=subprocess.PIPE,
            process_group=0,
        )
        processes.append(process)
    threads = [
        threading.Thread(target=_relay, args=(index, process, inbox), daemon=True)
        for index, process in enumerate(processes)
    ]
    for thread in threads:
        thread.start()
    summary = Summary()
    findings: list[list[Finding]] = [[] for _ in parts]  # each part's, in its order
    errors: list[tuple[str, str]] = []
    try:
        finished = 0
        while finished < len(parts):
            index, message = inbox.get()
            kind = message[0]
            if kind == "batch":
                _, batch, found = message
                # With a sink, each part's findings go with its batch (the summary keeps
                # file order); without one they wait to be joined in file order at the end.
                if result.sink is not None:
                    result.add_findings_table(found)
                else:
                    findings[index].extend(findings_from_table(found, str(path)))
                for table, columns in batch.items():
                    result.add_columns(table, columns)
                result.part = index
                result.flush()
            elif kind == "done":
                finished += 1
                done: Summary = message[1]
                summary.year, summary.year_text = done.year, done.year_text
                summary.year_line = done.year_line
                summary.ids.extend(done.ids)
            elif kind == "error":
                finished += 1
                errors.append(("error", message[1]))
            else:
                raise RuntimeError(f"{path}: a reading process stopped (exit code {message[1]})")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    if errors:
        # A fault: located exactly as one process meets it, by reading in one process.
        raise RereadInOneProcess(f"{path}: {errors[0][1]}")
    read = sorted(entry[0] for entry in summary.ids)
    if read != list(range(1, len(read) + 1)):
        raise RereadInOneProcess(f"{path}: the parts did not cover every child once")
    for found in findings:
        result.findings.extend(found)
    result.part = len(parts)  # what this process finds next comes after every part
    return summary


def _relay(
    index: int, process: subprocess.Popen[bytes], inbox: Queue[tuple[int, tuple[Any, ...]]]
) -> None:
    """Pass one worker's messages on; a worker that ends without "done" is reported."""
    assert process.stdout is not None
    last = ""
    try:
        while True:
            message = pickle.load(process.stdout)
            last = message[0]
            inbox.put((index, message))
            if last in ("done", "error"):
                return
    except (EOFError, OSError, pickle.UnpicklingError):
        pass
    if last not in ("done", "error"):
        inbox.put((index, ("stopped", process.wait())))


def work(path: str, part: Part, out: BinaryIO) -> None:
    """One reading process: its part of the file, sent as pickled Arrow column batches."""
    _die_with_parent()
    file = Path(path)

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    def sink(batch: ReadResult) -> None:
        tables = {
            table: {name: _arrow(values) for name, values in columns.items()}
            for table, batches in batch.columns.items()
            for columns in batches
        }
        # The reader keeps its findings as Arrow (``Collector(as_tables=True)``); any held as
        # a list come after them, as ``ReadResult`` orders them.
        found = pa.concat_tables([*batch.finding_tables, findings_table(batch.findings)])
        send(("batch", tables, found))

    result = ReadResult(file=file, format=FORMAT, period=None, sink=sink)
    try:
        summary = read_part(file, result, part)
        result.flush()
    except FormatError as error:
        send(("error", error.message))
        return
    send(("done", summary))


def _arrow(values: Any) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values)


def _die_with_parent() -> None:
    """On Linux, ask for SIGKILL when the parent dies, so a killed ingest leaves no reader."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
