"""Shared fixtures for the web app's tests, including the browser (Playwright + Chromium).

The browser fixtures are here so that end-to-end tests elsewhere can reuse them:
``browser`` (session-scoped Chromium) and ``page`` (a fresh context per test, recording any
request to a host other than the live server and any failed request).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cwsw.indicators.summary import AbsenceSummary, GroupFigures

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's real cost is pointless in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _second_factor_optional(request: pytest.FixtureRequest, settings: Any) -> None:
    """The second factor is required by default (ADR 0015); tests that are not about it sign in
    with a password alone, so it is turned off for them. A test that wants the site's default
    asks for ``second_factor_by_default``."""
    if "second_factor_by_default" not in request.fixturenames:
        settings.REQUIRE_TOTP_FOR_CHILD_LEVEL = False


@pytest.fixture
def second_factor_by_default(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's default, as ``Settings.from_env`` reads it with the variable unset (``cwsw
    demo``, run in-process by the CLI tests, sets it): a second factor for every child-level
    role and administrator."""
    from cwsw.settings import Settings

    monkeypatch.delenv("CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL", raising=False)
    settings.REQUIRE_TOTP_FOR_CHILD_LEVEL = Settings.from_env().require_totp_for_child_level


@pytest.fixture
def demo_users(db: None) -> dict[str, tuple[str, str]]:
    """The demo accounts: username -> (password, role)."""
    from cwsw.web.accounts.services import create_demo_users

    return {username: (password, role) for username, password, role in create_demo_users()}


SUMMARY = AbsenceSummary(
    academic_year="2024/25",
    reference_date="2025-03-31",
    groups=(
        GroupFigures(
            group="CINO",
            label="Child in need (not on a plan or looked after)",
            pupils="1,234",
            overall_absence="17.4",
            persistent_absence="46.0",
            severe_absence="11.3",
            persistent_absence_ratio="2.6",
        ),
        GroupFigures(
            group="CPPO",
            label="On a child protection plan (not looked after)",
            pupils="187",
            overall_absence="21.8",
            persistent_absence="55.4",
            severe_absence="c",
            persistent_absence_ratio="3.1",
        ),
        GroupFigures(
            group="CLA 12 months",
            label="Looked after for 12 months or more",
            pupils="4",
            overall_absence="c",
            persistent_absence="c",
            severe_absence="c",
            persistent_absence_ratio="c",
        ),
        GroupFigures(
            group="All pupils",
            label="All pupils",
            pupils="30,000",
            overall_absence="6.5",
            persistent_absence="17.9",
            severe_absence="2.0",
            persistent_absence_ratio="z",
        ),
    ),
    sources=(
        "school_census_2024-25.csv (sha256 3f2a9c1b)",
        "cin_census_2025.xml (sha256 9e8d7c6b)",
    ),
)


@pytest.fixture
def summary() -> AbsenceSummary:
    return SUMMARY


@pytest.fixture
def fixed_summary(monkeypatch: pytest.MonkeyPatch, summary: AbsenceSummary) -> AbsenceSummary:
    """Make the dashboard show ``summary`` whatever the warehouse holds."""
    monkeypatch.setattr(
        "cwsw.web.insight.services.current_absence_summary", lambda *_args, **_kw: summary
    )
    return summary


@pytest.fixture
def no_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the dashboard behave as if nothing has been built yet."""
    monkeypatch.setattr(
        "cwsw.web.insight.services.current_absence_summary", lambda *_args, **_kw: None
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright's sync API (Playwright never downloads a browser)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by
    # the test itself (fixtures creating users) would otherwise refuse to run.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class NetworkLog:
    """What a page asked for that it should not have."""

    off_site: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # HTTP >= 400
    console_errors: list[str] = field(default_factory=list)  # includes CSP violations


@pytest.fixture
def network() -> NetworkLog:
    return NetworkLog()


@pytest.fixture
def page(browser: Any, network: NetworkLog) -> Iterator[Any]:
    """A fresh browser context and page, with its network activity checked into ``network``."""
    context = browser.new_context()
    page = context.new_page()

    def on_request(request: Any) -> None:
        host = urlsplit(request.url).hostname
        if host is not None and host not in LOCAL_HOSTS:
            network.off_site.append(request.url)

    def on_failed(request: Any) -> None:
        # Chromium fetches a page's icon itself and drops the fetch if the walk has moved on
        # first: that is the browser's doing, not the page's (a missing icon is a 404 instead).
        icon = urlsplit(request.url).path.rsplit("/", 1)[-1].startswith("favicon")
        if icon and request.failure == "net::ERR_ABORTED":
            return
        network.failed.append(f"{request.url} {request.failure}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            network.errors.append(f"{response.status} {response.url}")

    def on_console(message: Any) -> None:
        if message.type == "error":
            network.console_errors.append(message.text)

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()


# --- the child-level pages: a tiny warehouse and one account per role ----------------------


@pytest.fixture(scope="session")
def child_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.web import child_data

    return child_data.build(tmp_path_factory.mktemp("children") / "warehouse.duckdb")


@pytest.fixture
def child_site(settings: Any, child_warehouse: Path, tmp_path: Path) -> Path:
    """Point the web app at the tiny warehouse, with linkage decisions kept under tmp_path."""
    from dataclasses import replace

    settings.CWSW = replace(
        settings.CWSW,
        warehouse_path=child_warehouse,
        linkage_decisions_path=tmp_path / "linkage_decisions.sqlite3",
    )
    return child_warehouse


NO_ROLE = "norole"


@pytest.fixture
def accounts(db: None) -> dict[str, Any]:
    """One account per role (username = role) and one without a role.

    The advisory teacher's caseload is C001; the DSL works at school A.
    """
    from cwsw.web.accounts.models import Role, User
    from cwsw.web.children.services import set_caseload
    from tests.web import child_data

    users: dict[str, Any] = {}
    for role in Role:
        users[role.value] = User.objects.create_user(
            role.value,
            password="correct horse battery staple",
            role=role.value,
            school_laestab=child_data.SCHOOL_A if role == Role.SCHOOL_DSL else "",
        )
    set_caseload(users[Role.ADVISORY_TEACHER.value], ["C001"], added_by=None)
    users[NO_ROLE] = User.objects.create_user(NO_ROLE, password="correct horse battery staple")
    return users


# --- the browser walks (test_web_walks.py): the tiny warehouse with its marts built ---------


@pytest.fixture(scope="session")
def insight_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The child pages' tiny warehouse (``child_data``) with the marts built from it.

    Its schools hold three pupils, so every count in the marts is 0 to 3: every non-zero count
    an aggregate role is shown must have been suppressed.
    """
    from cwsw import pipeline
    from cwsw.warehouse.connection import Warehouse
    from tests.web import child_data

    path = child_data.build(tmp_path_factory.mktemp("insight") / "warehouse.duckdb")
    with Warehouse.open(path) as warehouse:
        assert pipeline.build(warehouse, allow_incomplete=True) > 0
    return path


@pytest.fixture
def insight_site(child_site: Path, settings: Any, insight_warehouse: Path) -> Path:
    """``child_site`` (linkage decisions under tmp_path), pointed at ``insight_warehouse``."""
    from dataclasses import replace

    settings.CWSW = replace(settings.CWSW, warehouse_path=insight_warehouse)
    return insight_warehouse
