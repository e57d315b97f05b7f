"""Every page or export that shows named children records which children it showed (ADR 0016).

For the school page (with and without a search), its CSV export, the caseload and the linkage
review queue: one request writes one audit row per child the response shows, each with that
child's key, and the administrator's audit search by one of those keys finds the page view.
The children shown are read from the response itself (its links, its CSV, its form fields).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cwsw.web.audit.models import AuditEvent
from cwsw.web.children.keys import child_key
from cwsw.web.children.services import set_caseload
from tests.web import child_data

pytestmark = pytest.mark.django_db

PROFILE_LINK = re.compile(r'href="/children/([0-9a-f]{20})/"')
REVIEWED_CHILD = re.compile(r'name="la_child_id" value="([^"]*)"')


def linked_keys(html: str) -> list[str]:
    """The children a school or caseload page shows: the profile each of its rows links to."""
    return list(dict.fromkeys(PROFILE_LINK.findall(html)))


def csv_keys(body: str) -> list[str]:
    return [row["key"] for row in csv.DictReader(io.StringIO(body))]


def reviewed_keys(html: str) -> list[str]:
    """The children the review queue shows: the child of each pair (its decision form)."""
    return list(dict.fromkeys(child_key(child) for child in REVIEWED_CHILD.findall(html)))


def rows_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])


def fetch(client: Client, accounts: dict[str, Any], role: str, url: str) -> tuple[str, list]:
    client.force_login(accounts[role])
    before = AuditEvent.objects.count()
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), rows_since(before)


def assert_rows_name(rows: list[AuditEvent], shown: list[str], role: str, action: str) -> None:
    """One row per child shown, each naming them, all of one page view (one time, one kind)."""
    assert sorted(row.child_key for row in rows) == sorted(shown)
    assert len({(row.at, row.action, row.object_type, row.object_ref) for row in rows}) == 1
    assert {(row.actor, row.role, row.action, row.ip_address) for row in rows} == {
        (role, role, action, "127.0.0.1")
    }


def assert_search_finds(client: Client, accounts: dict[str, Any], rows: list[AuditEvent]) -> None:
    """The administrator's audit search by each child's key finds that child's row."""
    client.force_login(accounts["admin"])
    for row in rows:
        found = client.get(reverse("audit:search"), {"child_key": row.child_key})
        assert found.status_code == 200
        assert row.pk in {event.pk for event in found.context["events"]}
        assert row.object_type in found.content.decode()


@pytest.mark.parametrize(
    ("role", "url_name", "query", "keys_of", "action"),
    [
        pytest.param("school_dsl", "children:school", {}, linked_keys, "view", id="school"),
        pytest.param(
            "school_dsl", "children:school", {"q": "brien"}, linked_keys, "search", id="search"
        ),
        pytest.param(
            "school_dsl", "children:school_export", {}, csv_keys, "export", id="school-csv"
        ),
        pytest.param("advisory_teacher", "children:caseload", {}, linked_keys, "view", id="case"),
        pytest.param("analyst", "data:review", {}, reviewed_keys, "view", id="linkage-review"),
    ],
)
def test_a_list_records_each_child_it_shows(
    client: Client,
    child_site: Any,
    accounts: dict[str, Any],
    role: str,
    url_name: str,
    query: dict[str, str],
    keys_of: Any,
    action: str,
) -> None:
    url = reverse(url_name)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    body, rows = fetch(client, accounts, role, url)
    shown = keys_of(body)
    assert shown, "the fixture shows at least one child on each of these pages"
    assert_rows_name(rows, shown, role, action)
    assert_search_finds(client, accounts, rows)


def test_the_fixture_children_are_the_ones_expected(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    """The keys read from each response are the fixture's children (the parsing is right)."""
    school, _ = fetch(client, accounts, "school_dsl", reverse("children:school"))
    assert linked_keys(school) == [child_key("C001")]
    review, rows = fetch(client, accounts, "analyst", reverse("data:review"))
    assert reviewed_keys(review) == [child_key(child_data.REVIEW_PAIR[0])]
    # The pupil of the pair is not a linked child: nothing names them but the pair's child.
    assert [row.child_key for row in rows] == [child_key(child_data.REVIEW_PAIR[0])]
    assert child_data.REVIEW_PAIR[1] not in str(list(AuditEvent.objects.values()))


def test_a_caseload_of_several_children_is_one_insert_naming_each(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    teacher = accounts["advisory_teacher"]
    set_caseload(teacher, ["C001", "C002", "C003"], added_by=None)
    client.force_login(teacher)
    before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("children:caseload")).content.decode()
    shown = linked_keys(html)
    assert sorted(shown) == sorted(child_key(c) for c in ("C001", "C002", "C003"))
    rows = rows_since(before)
    assert_rows_name(rows, shown, "advisory_teacher", "view")
    assert {row.object_ref for row in rows} == {"3 children"}
    table = AuditEvent._meta.db_table
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len([sql for sql in inserts if table in sql]) == 1
    assert_search_finds(client, accounts, rows)


def test_a_search_that_finds_nobody_still_writes_one_row_naming_nobody(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    html, rows = fetch(client, accounts, "school_dsl", f"{reverse('children:school')}?q=zzz")
    assert linked_keys(html) == []
    assert [(row.action, row.object_type, row.child_key) for row in rows] == [
        ("search", "school_pupils", "")
    ]
    assert "zzz" not in str(AuditEvent.objects.values().filter(pk=rows[0].pk).get())


def test_a_search_records_only_the_children_it_found(
    client: Client, child_site: Any, accounts: dict[str, Any]
) -> None:
    """A search narrows the list: the row names who the result showed, not the whole school."""
    html, rows = fetch(client, accounts, "school_dsl", f"{reverse('children:school')}?q=brien")
    assert linked_keys(html) == [child_key("C001")]
    assert [row.child_key for row in rows] == [child_key("C001")]
    assert "brien" not in str(list(AuditEvent.objects.values())).lower()


def test_a_review_pair_whose_pupil_is_a_linked_child_names_both_children(
    client: Client, child_site: Any, accounts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pupil of a pair may already be linked to a child: their census name is shown too."""
    from cwsw.web.data import services

    monkeypatch.setattr(
        services.reads, "children_by_upn", lambda _snapshot: {child_data.REVIEW_PAIR[1]: ("C003",)}
    )
    _, rows = fetch(client, accounts, "analyst", reverse("data:review"))
    assert [row.child_key for row in rows] == [
        child_key(child_data.REVIEW_PAIR[0]),
        child_key("C003"),
    ]


def test_the_review_page_names_the_children_of_its_recent_decisions(
    client: Client, child_site: Any, accounts: dict[str, Any], settings: Any
) -> None:
    """The recent decisions table shows each decided pair's LA child ID: that child is named."""
    from cwsw.linkage import review

    review.decide(settings.CWSW.linkage_decisions_path, "C002", child_data.UPN_5, "reject", "x")
    html, rows = fetch(client, accounts, "analyst", reverse("data:review"))
    assert "C002" in html
    assert [row.child_key for row in rows] == [
        child_key(child_data.REVIEW_PAIR[0]),
        child_key("C002"),
    ]
