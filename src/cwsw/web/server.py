"""Run the web app without ``manage.py``: ``cwsw serve`` and ``cwsw demo`` call :func:`run`."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def setup() -> None:
    """Configure Django (idempotent) and bring the application database up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cwsw.web.settings")
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    database = settings.DATABASES["default"]
    sqlite_file = None
    if database["ENGINE"].endswith("sqlite3") and database["NAME"] != ":memory:":
        sqlite_file = Path(database["NAME"])
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
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
