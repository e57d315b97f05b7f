"""The child-level pages: what each shows, their scoping, audit rows and bad input."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cwsw.linkage import review
from cwsw.web.audit.models import AuditEvent
from cwsw.web.children.keys import child_key
from tests.web import child_data

pytestmark = pytest.mark.django_db

ESCAPED = "&lt;script&gt;alert(&quot;cwsw&quot;)&lt;/script&gt;"


def signed_in(client: Client, accounts: dict[str, Any], role: str) -> Client:
    client.force_login(accounts[role])
    return client


def profile_url(child: str) -> str:
    return reverse("children:profile", kwargs={"key": child_key(child)})


def test_dsl_sees_only_pupils_on_roll_now_at_their_school(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "school_dsl")
    html = client.get(reverse("children:school")).content.decode()
    assert f'data-testid="pupil-{child_key("C001")}"' in html
    assert child_key("C002") not in html  # another school's pupil
    assert child_key("C003") not in html  # was on roll here in the spring, not now
    assert "Child in need" in html
    assert "88.0" in html  # 100 possible, 12 absent
    assert "SEN support" in html
    # Tampered IDs: another school's pupil, and the former pupil, by URL.
    assert client.get(profile_url("C002")).status_code == 403
    assert client.get(profile_url("C003")).status_code == 403
    assert client.get(profile_url("C001")).status_code == 200
    assert client.get("/children/not-a-key/").status_code == 404
    assert client.get(reverse("children:profile", kwargs={"key": "0" * 20})).status_code == 404


def test_profile_shows_social_care_beside_education(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "advisory_teacher")
    html = client.get(profile_url("C001")).content.decode()
    assert child_data.UPN_1 in html
    assert "Child in need episode" in html and "Primary need N1" in html
    assert 'data-testid="attendance"' in html and "Autumn 2025" in html and "88.0" in html
    assert "Suspension, 1 Oct 2025: 2 sessions" in html
    assert "SEN support, SEMH" in html
    assert "(current)" in html  # free school meals
    assert client.get(profile_url("C002")).status_code == 403  # not on the caseload


def test_analyst_profile_is_pseudonymised(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "analyst")
    for child, upn, surname in (
        ("C001", child_data.UPN_1, "O&#x27;Brien"),
        ("C002", child_data.UPN_2, "Brown"),
    ):
        html = client.get(profile_url(child)).content.decode()
        assert f"Child {child_key(child)}" in html
        assert upn not in html and surname not in html and child not in html
    html = client.get(profile_url("C002")).content.decode()
    assert "Child protection plan" in html and "Section 47 enquiry" in html


def test_script_in_text_fields_is_rendered_escaped(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "school_dsl")
    pages = [
        client.get(reverse("children:school"), {"q": child_data.SCRIPT}),
        client.get(reverse("children:school")),
        client.get(profile_url("C001")),
    ]
    signed_in(client, accounts, "advisory_teacher")
    pages.append(client.get(reverse("children:caseload")))
    signed_in(client, accounts, "analyst")
    client.post(
        reverse("data:decide"),
        {
            "la_child_id": child_data.REVIEW_PAIR[0],
            "upn": child_data.REVIEW_PAIR[1],
            "decision": "reject",
            "reason": child_data.SCRIPT,
        },
    )
    pages.append(client.get(reverse("data:review")))
    signed_in(client, accounts, "admin")
    pages.append(client.get(reverse("audit:search"), {"actor": child_data.SCRIPT}))
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert child_data.SCRIPT not in html
        assert "<script>alert" not in html
    assert all(ESCAPED in p.content.decode() for p in pages[:2])  # search box and the name
    assert ESCAPED in pages[2].content.decode()


def test_search_is_audited_without_what_was_typed(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "school_dsl")
    before = AuditEvent.objects.count()
    response = client.get(reverse("children:school"), {"q": "brien"})
    assert child_key("C001") in response.content.decode()
    row = AuditEvent.objects.order_by("id")[before:].get()
    assert row.action == "search"
    assert "brien" not in str(AuditEvent.objects.values().filter(pk=row.pk).get()).lower()


def test_csv_export_is_audited_and_formula_safe(
    client: Client, child_site: Any, accounts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(client, accounts, "school_dsl")
    before = AuditEvent.objects.count()
    response = client.get(reverse("children:school_export"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["key"] for r in rows] == [child_key("C001")]
    assert rows[0]["forename"] == child_data.SCRIPT
    assert AuditEvent.objects.order_by("id")[before:].get().action == "export"
    from cwsw.web.children.views import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("+1") == "'+1" and csv_cell("Ann") == "Ann"


def test_linkage_decision_needs_csrf_and_an_open_pair(
    child_site: Any, accounts: dict[str, Any], settings: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(accounts["analyst"])
    pair = {"la_child_id": child_data.REVIEW_PAIR[0], "upn": child_data.REVIEW_PAIR[1]}
    # A forged request: no token, then a made-up one.
    assert client.post(reverse("data:decide"), {**pair, "decision": "accept"}).status_code == 403
    forged = {**pair, "decision": "accept", "csrfmiddlewaretoken": "x" * 64}
    assert client.post(reverse("data:decide"), forged).status_code == 403
    assert review.history(settings.CWSW.linkage_decisions_path) == []

    page = client.get(reverse("data:review"))
    html = page.content.decode()
    assert 'data-testid="pair-1"' in html and "Dean" in html and ESCAPED in html
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    good = {**pair, "decision": "accept", "csrfmiddlewaretoken": token}
    # A tampered pair (not on the queue) and a bad decision are refused, nothing recorded.
    tampered = {**good, "la_child_id": "C001"}
    assert client.post(reverse("data:decide"), tampered).status_code == 400
    assert client.post(reverse("data:decide"), {**good, "decision": "merge"}).status_code == 400
    assert review.history(settings.CWSW.linkage_decisions_path) == []

    before = AuditEvent.objects.count()
    response = client.post(reverse("data:decide"), good)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('data:review')}?decided=accept"
    [made] = review.history(settings.CWSW.linkage_decisions_path)
    assert (made.la_child_id, made.upn, made.decision, made.decided_by) == (
        "C004",
        child_data.UPN_5,
        "accept",
        "analyst",
    )
    row = AuditEvent.objects.order_by("id")[before:].get()
    assert (row.action, row.object_type, row.child_key) == (
        "change",
        "linkage_decision",
        child_key("C004"),
    )
    assert child_data.UPN_5 not in str(AuditEvent.objects.values().filter(pk=row.pk).get())
    after = client.get(f"{reverse('data:review')}?decided=accept").content.decode()
    assert "0 pairs awaiting review" in after and "Decision recorded: accept." in after


def test_oversized_request_is_refused_cleanly(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "analyst")
    big = {"la_child_id": "C004", "upn": child_data.UPN_5, "reason": "x" * (2 * 1024 * 1024)}
    response = client.post(reverse("data:decide"), {**big, "decision": "accept"})
    assert response.status_code == 400
    assert "could not be used" in response.content.decode()
    upload = io.BytesIO(b"0" * (3 * 1024 * 1024))
    upload.name = "big.csv"
    response = client.post(reverse("data:decide"), {"file": upload, "decision": "accept"})
    assert response.status_code == 400


def test_load_pages_show_findings_without_values(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    signed_in(client, accounts, "analyst")
    html = client.get(reverse("data:loads")).content.decode()
    assert "cin_census_2025.xml" in html and 'data-testid="load-2"' in html
    html = client.get(reverse("data:load", kwargs={"load_id": 2})).content.decode()
    assert 'data-testid="finding-upn_check_letter"' in html
    assert "Message/Children/Child[2] line 40" in html
    assert child_data.FINDING_VALUE not in html


def test_warehouse_missing_is_a_clear_page(
    client: Client, accounts: dict[str, Any], settings: Any, tmp_path: Any
) -> None:
    from dataclasses import replace

    settings.CWSW = replace(settings.CWSW, warehouse_path=tmp_path / "none.duckdb")
    signed_in(client, accounts, "school_dsl")
    response = client.get(reverse("children:school"))
    assert response.status_code == 503
    assert "No data has been loaded yet" in response.content.decode()


def test_menu_shows_only_the_role_s_pages(
    client: Client, child_site: Any, accounts: dict[str, Any], no_summary: None
) -> None:
    menus = {}
    for role in ("vsh", "school_dsl", "advisory_teacher", "analyst", "admin"):
        signed_in(client, accounts, role)
        html = client.get("/").content.decode()
        menus[role] = {
            label
            for label in ("Your pupils", "Caseload", "Loads", "Linkage review", "Audit log")
            if f">{label}</a>" in html
        }
    assert menus == {
        "vsh": set(),
        "school_dsl": {"Your pupils"},
        "advisory_teacher": {"Caseload"},
        "analyst": {"Loads", "Linkage review"},
        "admin": {"Audit log"},
    }
