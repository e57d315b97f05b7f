"""The dashboard in a real browser: sign in, read the table, nothing fetched off-site."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cwsw.indicators.summary import AbsenceSummary
from cwsw.web.insight.services import COLUMNS, cell_testid

pytestmark = pytest.mark.browser


def test_sign_in_and_read_the_dashboard(
    page: Any,
    network: Any,
    live_server: Any,
    demo_users: dict[str, tuple[str, str]],
    fixed_summary: AbsenceSummary,
) -> None:
    password, _ = demo_users["vsh"]
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("Username").fill("vsh")
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(f"{live_server.url}/")

    for figures in fixed_summary.groups:
        assert (
            page.get_by_test_id(cell_testid(figures.group, "label")).inner_text() == figures.label
        )
        for field, _ in COLUMNS:
            text = page.get_by_test_id(cell_testid(figures.group, field)).inner_text()
            assert text == getattr(figures, field), (figures.group, field)
    assert page.get_by_test_id("cell-CPPO-severe_absence").inner_text() == "c"
    assert page.get_by_test_id("suppression-note").inner_text() == (
        "c: fewer than 6 pupils, suppressed to protect privacy"
    )

    # GOV.UK Frontend's CSS and JavaScript loaded (and ran) from our own server.
    assert "govuk-frontend-supported" in (page.locator("body").get_attribute("class") or "")
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" in font

    if shots := os.environ.get("CWSW_SCREENSHOTS"):
        page.screenshot(path=str(Path(shots) / "dashboard.png"), full_page=True)

    page.get_by_test_id("sign-out").click()
    page.wait_for_url(f"{live_server.url}/accounts/sign-in/")

    assert network.off_site == []
    assert network.failed == []
    assert network.errors == []
    assert network.console_errors == []  # includes Content-Security-Policy violations
