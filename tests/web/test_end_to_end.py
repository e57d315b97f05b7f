"""End to end: the synthetic LA's report and the web page show the same numbers.

The report is parsed from its HTML file; the page is read in Debian's Chromium after signing
in. Both come from the pipeline run in ``tests/conftest.py`` on generated files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from lxml import html

from cwsw.settings import Settings
from cwsw.web.insight.services import COLUMNS, cell_testid

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

pytestmark = pytest.mark.browser

GROUPS = (
    "CINO",
    "CPPO",
    "CLA 12 months",
    "Ever CIN last 6 years",
    "Not CIN in last 6 years",
    "All pupils",
)


def report_cells(report: html.HtmlElement) -> dict[str, str]:
    return {
        cell.get("data-testid"): cell.text_content().strip()
        for cell in report.xpath("//*[@data-testid]")
    }


def test_report_and_page_show_the_same_numbers(
    la_environment: BuiltLA,
    settings: Any,
    page: Any,
    network: Any,
    live_server: Any,
    demo_users: dict[str, tuple[str, str]],
) -> None:
    settings.CWSW = Settings.from_env()
    in_report = report_cells(html.parse(str(la_environment.report_path)).getroot())

    password, _ = demo_users["vsh"]
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("vsh")
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(f"{live_server.url}/")

    compared = 0
    for group in GROUPS:
        for field, _heading in COLUMNS:
            testid = cell_testid(group, field)
            on_page = page.get_by_test_id(testid).inner_text().strip()
            assert on_page == in_report[testid], testid
            compared += 1
    assert compared == len(GROUPS) * len(COLUMNS)
    # Real figures, not an empty state: every group has a number of enrolments.
    assert all(in_report[cell_testid(g, "pupils")].replace(",", "").isdigit() for g in GROUPS)
    assert network.off_site == [] and network.errors == [] and network.console_errors == []
