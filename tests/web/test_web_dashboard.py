"""The dashboard shows the indicators' figures exactly as given, and audits each view."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cwsw.indicators.summary import AbsenceSummary
from cwsw.web.audit.models import AuditEvent
from cwsw.web.insight import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def vsh_client(client: Client, demo_users: dict[str, tuple[str, str]]) -> Client:
    client.force_login(get_user_model().objects.get(username="vsh"))
    return client


def cell(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{re.escape(testid)}">([^<]*)<', html)
    assert match is not None, f"no cell {testid}"
    return match.group(1).strip()


def test_dashboard_shows_the_figures_in_the_right_cells(
    vsh_client: Client, fixed_summary: AbsenceSummary
) -> None:
    response = vsh_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert cell(html, "cell-CINO-label") == "Child in need (not on a plan or looked after)"
    assert cell(html, "cell-CINO-pupils") == "1,234"
    assert cell(html, "cell-CINO-overall_absence") == "17.4"
    assert cell(html, "cell-CINO-persistent_absence") == "46.0"
    assert cell(html, "cell-CINO-severe_absence") == "11.3"
    assert cell(html, "cell-CINO-persistent_absence_ratio") == "2.6"
    assert cell(html, "cell-CPPO-persistent_absence") == "55.4"
    assert cell(html, "cell-CPPO-severe_absence") == "c"
    assert cell(html, "cell-CLA 12 months-pupils") == "4"
    assert cell(html, "cell-CLA 12 months-overall_absence") == "c"
    assert cell(html, "cell-All pupils-persistent_absence") == "17.9"
    assert cell(html, "cell-All pupils-persistent_absence_ratio") == "z"
    # every figure of every group, in the summary's order
    for figures in fixed_summary.groups:
        for field, _ in services.COLUMNS:
            assert cell(html, f"cell-{figures.group}-{field}") == getattr(figures, field)
    assert (
        html.index("cell-CINO-label")
        < html.index("cell-CPPO-label")
        < html.index("cell-All pupils-label")
    )


def test_dashboard_heading_note_and_sources(
    vsh_client: Client, fixed_summary: AbsenceSummary
) -> None:
    html = vsh_client.get("/").content.decode()
    assert cell(html, "academic-year") == "Academic year 2024/25"
    assert "on 31 March 2025." in html
    assert cell(html, "suppression-note") == "c: fewer than 6 pupils, suppressed to protect privacy"
    assert "school_census_2024-25.csv (sha256 3f2a9c1b)" in html
    assert "cin_census_2025.xml (sha256 9e8d7c6b)" in html
    assert 'class="govuk-table"' in html
    assert 'data-testid="no-data"' not in html


def test_suppression_note_follows_the_threshold(
    vsh_client: Client, fixed_summary: AbsenceSummary, settings: object
) -> None:
    from dataclasses import replace

    settings.CWSW = replace(settings.CWSW, suppression_threshold=9)  # type: ignore[attr-defined]
    html = vsh_client.get("/").content.decode()
    assert (
        cell(html, "suppression-note") == "c: fewer than 10 pupils, suppressed to protect privacy"
    )


def test_each_dashboard_view_writes_an_audit_row(
    vsh_client: Client, fixed_summary: AbsenceSummary
) -> None:
    vsh_client.get("/")
    vsh_client.get("/")
    events = list(AuditEvent.objects.filter(action="view"))
    assert len(events) == 2
    assert {(e.actor, e.object_type, e.object_ref) for e in events} == {
        ("vsh", "absence_summary", "2024/25")
    }


def test_empty_state_when_nothing_is_built(vsh_client: Client, no_summary: None) -> None:
    response = vsh_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="no-data"' in html
    assert "govuk-inset-text" in html
    assert "<code>cwsw demo</code>" in html
    assert "<code>cwsw build</code>" in html
    assert "govuk-table" not in html
    assert AuditEvent.objects.filter(action="view", object_ref="none").count() == 1


def test_dashboard_is_not_cached(vsh_client: Client, no_summary: None) -> None:
    assert "no-store" in vsh_client.get("/")["Cache-Control"]
