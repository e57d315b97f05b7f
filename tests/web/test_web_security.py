"""Security headers, static files served locally, and settings read from the environment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from django.test import Client

from cwsw.web.database import DatabaseUrlError, parse_database_url
from cwsw.web.keys import load_or_create_secret_key


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/sign-in/", "/"])
def test_security_headers(client: Client, path: str) -> None:
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_session_cookie_is_http_only(
    client: Client, demo_users: dict[str, tuple[str, str]]
) -> None:
    password, _ = demo_users["vsh"]
    response = client.post("/accounts/sign-in/", {"username": "vsh", "password": password})
    from django.conf import settings

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_no_inline_script_or_style_in_templates() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "cwsw" / "web"
    for template in root.rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text, template
        assert "<style" not in text, template
        assert " style=" not in text, template
        assert "http://" not in text and "https://" not in text, template


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/static/govuk/govuk-frontend.min.css",
        "/static/govuk/all.bundle.js",
        "/static/cwsw/govuk-init.js",
        "/static/govuk/assets/images/favicon.svg",
        "/assets/fonts/bold-b542beb274-v2.woff2",  # where the precompiled CSS looks for fonts
        "/assets/images/govuk-crest.svg",
    ],
)
def test_static_files_are_served_without_signing_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    response.close()


def test_parse_sqlite_urls() -> None:
    assert parse_database_url("sqlite:////abs/path/app.sqlite3")["NAME"] == "/abs/path/app.sqlite3"
    assert parse_database_url("sqlite:///rel/app.sqlite3")["NAME"] == "rel/app.sqlite3"
    assert parse_database_url("sqlite://:memory:")["NAME"] == ":memory:"
    assert parse_database_url("sqlite:////x")["ENGINE"] == "django.db.backends.sqlite3"


def test_parse_postgresql_url() -> None:
    config = parse_database_url("postgresql://cw%40sw:p%2Fss@db.internal:5433/cwsw?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("cwsw", "cw@sw", "p/ss")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}
    assert parse_database_url("postgres://localhost/cwsw")["PORT"] == ""


@pytest.mark.parametrize("url", ["mysql://x/y", "app.sqlite3", "postgresql://host/", "sqlite:x"])
def test_bad_database_urls(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        parse_database_url(url)


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = load_or_create_secret_key(home)
    assert len(key) >= 50
    assert load_or_create_secret_key(home) == key
    assert stat.S_IMODE(os.stat(home / "secret_key").st_mode) == 0o600
    assert [p.name for p in home.iterdir()] == ["secret_key"]
    assert load_or_create_secret_key(home, "configured-key") == "configured-key"


def test_security_settings() -> None:
    from django.conf import settings

    assert settings.ALLOWED_HOSTS[:2] == ["127.0.0.1", "localhost"] or "testserver" in (
        settings.ALLOWED_HOSTS
    )
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.SESSION_COOKIE_HTTPONLY is True


@pytest.mark.django_db
def test_server_migrates_then_serves_on_localhost_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import django.core.management

    from cwsw.web import server

    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        django.core.management, "call_command", lambda *args, **kw: calls.append((*args, kw))
    )
    server.run()
    assert calls[0][0] == "migrate"
    assert calls[-1] == ("runserver", "127.0.0.1:8000", {"use_reloader": False})


@pytest.mark.django_db
def test_the_database_is_the_one_database_url_names() -> None:
    """On the PostgreSQL run (test_postgres.py) this proves the tests ran on PostgreSQL."""
    from django.db import connection

    url = os.environ.get("DATABASE_URL", "sqlite://")
    expected = "postgresql" if url.startswith(("postgresql:", "postgres:")) else "sqlite"
    assert connection.vendor == expected
