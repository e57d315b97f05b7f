"""The base of every error a user can fix, at the lowest layer so that every stage can raise it.

A ``UserError`` is a fault in what the user gave or did, not in cwsw: a file cwsw cannot read,
a setting that cannot be used, steps run out of order (``cwsw build`` before ``cwsw link``), a
warehouse another process holds or that cannot be written, an output folder that cannot be
made. Its message is one line that names the file, setting or step and says what to do; the
command line shows it as ``Error: ...`` with exit code :attr:`UserError.exit_code` and no
traceback (``cwsw.cli``), so a message carries no names, dates of birth or UPNs.

Each stage keeps its own subclass (``FormatError``, ``SettingError``, ``NothingToBuild``, ...),
so callers that handle one kind go on catching it by name.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class UserError(Exception):
    """An error the user can fix; the message says how (one line, no personal data)."""

    # What the command line exits with: 1, as for a failed step.
    exit_code = 1


class OutputNotWritable(UserError):
    """A file or folder cwsw was told to write cannot be written (read-only, not a folder,
    no space)."""


# The reasons an output cannot be made that the user can do something about.
_CANNOT_WRITE = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EEXIST,
    errno.EISDIR,
    errno.ENOSPC,
    errno.EDQUOT,
}


def cannot_write(path: Path | str, error: OSError, what: str = "") -> OutputNotWritable | None:
    """The one-line error for ``error`` met writing ``path`` (``what`` names the option or
    setting that chose it, e.g. ``--out``), or None when ``error`` is not one a user fixes."""
    if error.errno not in _CANNOT_WRITE:
        return None
    reason = error.strerror or type(error).__name__
    if error.errno in (errno.EEXIST, errno.ENOTDIR):
        reason = "a file is in the way of a folder"
    named = f"{what} {path}" if what else str(path)
    return OutputNotWritable(f"cannot write {named} ({reason}): choose a folder you can write")


def writable_folder(path: Path, what: str = "") -> Path:
    """``path`` checked to be a folder that can be made and written, before any work is done,
    so a command never fails at its end for want of somewhere to put its output.

    Creates nothing: the first folder of ``path`` that exists is written to and cleared.
    Raises :class:`OutputNotWritable` naming ``what`` (the option, e.g. ``--out``).
    """
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    probe = existing / f".cwsw-write-check-{os.getpid()}"
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        probe.touch()
        probe.unlink()
    except OSError as error:
        found = cannot_write(path, error, what)
        if found is None:
            raise
        raise found from None
    return path


def writable_file(path: Path, what: str = "") -> Path:
    """``path``'s folder checked as by :func:`writable_folder`, and ``path`` itself writable
    if it exists; creates nothing."""
    writable_folder(path.parent, what)
    if path.is_dir():
        named = f"{what} {path}" if what else str(path)
        raise OutputNotWritable(f"cannot write {named}: it is a folder; give a file name")
    if path.exists():
        try:
            with path.open("ab"):
                pass
        except OSError as error:
            found = cannot_write(path, error, what)
            if found is None:
                raise
            raise found from None
    return path
