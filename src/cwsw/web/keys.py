"""Secret keys: ``CWSW_SECRET_KEY`` (else ``<home>/secret_key``) for Django and
``CWSW_PSEUDONYM_KEY`` (else ``<home>/pseudonym_key``) for children's pseudonymous keys."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

KEY_FILE_NAME = "secret_key"


def load_or_create_secret_key(home: Path, configured: str = "", name: str = KEY_FILE_NAME) -> str:
    """Return ``configured`` if set; otherwise read, or atomically create, ``home/<name>``.

    The file is written with mode 0600 under a temporary name and hard-linked into place, so two
    processes starting at once agree on one key and never read a half-written file.
    """
    if configured:
        return configured
    path = home / name
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        tmp = home / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds a secret key shorter than 32 characters; delete it")
    return key
