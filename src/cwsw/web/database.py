"""Turn a ``DATABASE_URL`` into a Django ``DATABASES`` entry (no dj-database-url dependency).

Supported: ``sqlite:////absolute/path.sqlite3``, ``sqlite:///relative/path.sqlite3``,
``sqlite://:memory:`` and ``postgresql://user:password@host:port/name?sslmode=require``
(``postgres://`` is accepted too). PostgreSQL goes through Django's ``postgresql`` engine, which
imports psycopg only when the first connection is made.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class DatabaseUrlError(ValueError):
    """The ``DATABASE_URL`` cannot be used; the message names the part that is wrong."""


def parse_database_url(url: str) -> dict[str, Any]:
    """Return the ``DATABASES["default"]`` dictionary for ``url``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise DatabaseUrlError("DATABASE_URL has no scheme (expected sqlite:// or postgresql://)")
    scheme = scheme.lower()
    if scheme == "sqlite":
        return _sqlite(rest)
    if scheme in ("postgresql", "postgres", "pgsql"):
        return _postgresql(url)
    raise DatabaseUrlError(
        f"DATABASE_URL scheme {scheme!r} is not supported (expected sqlite or postgresql)"
    )


def _sqlite(rest: str) -> dict[str, Any]:
    # "sqlite:////abs/path" -> rest "//abs/path"; "sqlite:///rel/path" -> rest "/rel/path".
    path = rest.split("?", 1)[0]
    if path in ("", "/", ":memory:", "/:memory:"):
        name = ":memory:"
    elif path.startswith("/"):  # "//abs/path" -> "/abs/path", "/rel/path" -> "rel/path"
        name = unquote(path[1:])
    else:
        raise DatabaseUrlError("sqlite DATABASE_URL must look like sqlite:////absolute/path")
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # Take the write lock at BEGIN so concurrent requests wait instead of failing.
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }


def _postgresql(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise DatabaseUrlError("postgresql DATABASE_URL has no database name after the host")
    try:
        port = parts.port
    except ValueError as exc:
        raise DatabaseUrlError(f"postgresql DATABASE_URL has a bad port: {exc}") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(port) if port else "",
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
