"""Run the web app without ``manage.py``: ``cwsw serve`` and ``cwsw demo`` call :func:`run`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def setup() -> None:
    """Configure Django (idempotent) and bring the application database up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cwsw.web.settings")
    import django

    django.setup()
    migrate()


def migrate() -> None:
    """Bring the application database up to date (Django must be set up).

    A SQLite database made before the custom user model (ADR 0005) cannot be migrated: it is
    moved aside to ``<name>.pre-0005`` and a new one made (it held demo accounts and their
    audit rows only; PostgreSQL deployments are told to do the same by hand).
    """
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.exceptions import InconsistentMigrationHistory

    database = settings.DATABASES["default"]
    sqlite_file = None
    if database["ENGINE"].endswith("sqlite3") and database["NAME"] != ":memory:":
        sqlite_file = Path(database["NAME"])
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except InconsistentMigrationHistory:
        if sqlite_file is None or "auth_user" not in connection.introspection.table_names():
            raise
        connection.close()
        aside = sqlite_file.with_name(sqlite_file.name + ".pre-0005")
        sqlite_file.replace(aside)
        log.warning("the application database predates ADR 0005: moved to %s", aside.name)
        call_command("migrate", interactive=False, verbosity=0)
    if sqlite_file is not None and sqlite_file.exists():
        sqlite_file.chmod(0o600)  # password hashes and the audit log: owner only


def run(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Migrate, then serve on ``host:port`` (127.0.0.1 only unless told otherwise).

    Static files come from the finders through WhiteNoise, so nothing is collected first.
    """
    setup()
    from django.core.management import call_command

    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    call_command("runserver", address, use_reloader=False)


def gunicorn_command(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, workers: int = 2, threads: int = 4
) -> list[str]:
    """Serve the app with gunicorn, a production WSGI server (``migrate`` first).

    Threaded workers (``gthread``): a request spends much of its time in DuckDB and
    PostgreSQL, which release the GIL, so a few threads per process keep both cores busy
    without a process (and a warehouse handle) per concurrent user. Nothing is logged per
    request: the audit log records child-level reads, and access lines would carry child keys.
    """
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "cwsw.web.wsgi:application",
        f"--bind={address}",
        "--worker-class=gthread",
        f"--workers={workers}",
        f"--threads={threads}",
        "--log-level=warning",
        # A worker's first insight page computes the disclosed marts (seconds): not a hang.
        "--timeout=120",
        "--graceful-timeout=5",
    ]
