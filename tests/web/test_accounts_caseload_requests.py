"""Two-person approval of caseload additions (issue 14, ADR 0015): an administrator's addition is
a request, a VSH or an education adviser approves or rejects it, and only then is the child on
the caseload. Every step is audited; each is a CSRF-checked POST."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cwsw.web.accounts.models import CaseloadRequest
from cwsw.web.audit.models import AuditEvent
from cwsw.web.children.keys import child_key
from cwsw.web.children.models import CaseloadEntry

pytestmark = pytest.mark.django_db

LIST = "/accounts/caseload-requests/"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(admin: Client, child: str) -> Any:
    add = reverse("accounts:caseload_add", kwargs={"username": "advisory_teacher"})
    return admin.post(add, {"child": child})


def decide(client: Client, request_id: int, decision: str) -> Any:
    target = reverse("accounts:caseload_request_decide", kwargs={"pk": request_id})
    return client.post(target, {"decision": decision})


def changes() -> list[tuple[str, str, str, str]]:
    rows = AuditEvent.objects.filter(action="change").order_by("id")
    return [(r.actor, r.role, r.object_ref, r.child_key) for r in rows]


def test_an_administrators_addition_waits_for_approval(
    accounts: dict[str, Any], child_site: Any
) -> None:
    admin, teacher = signed_in(accounts["admin"]), signed_in(accounts["advisory_teacher"])
    c002 = child_key("C002")
    response = ask(admin, "C002")
    assert response.status_code == 302
    # Not on the caseload yet: the teacher cannot open the child.
    assert not CaseloadEntry.objects.filter(la_child_id="C002").exists()
    assert teacher.get(f"/children/{c002}/").status_code == 403
    account_page = admin.get(reverse("accounts:user", kwargs={"username": "advisory_teacher"}))
    assert "Waiting for approval" in account_page.content.decode()
    # Asking twice is refused.
    again = ask(admin, "C002")
    assert again.status_code == 400 and "already waiting for approval" in again.content.decode()

    # The requester's own role cannot approve, nor can a role outside VSH and adviser.
    pending = CaseloadRequest.objects.get()
    for role in ("admin", "analyst", "advisory_teacher", "school_dsl"):
        assert decide(signed_in(accounts[role]), pending.pk, "approve").status_code == 403, role
    assert signed_in(accounts["admin"]).get(LIST).status_code == 403

    vsh = signed_in(accounts["vsh"])
    html = vsh.get(LIST).content.decode()
    assert "advisory_teacher" in html and c002 in html and "admin" in html
    assert decide(vsh, pending.pk, "approve")["Location"] == LIST
    assert teacher.get(f"/children/{c002}/").status_code == 200
    entry = CaseloadEntry.objects.get(la_child_id="C002")
    assert entry.added_by == accounts["admin"]
    # Decided once: a second decision finds nothing pending.
    assert decide(vsh, pending.pk, "reject").status_code == 404
    assert "No requests are waiting" in vsh.get(LIST).content.decode()
    assert changes() == [
        ("admin", "admin", "advisory_teacher: child added to caseload requested", c002),
        ("vsh", "vsh", "advisory_teacher: child added to caseload approved", c002),
    ]
    viewed = AuditEvent.objects.filter(action="view", object_type="caseload_requests")
    assert viewed.count() == 2 and {row.actor for row in viewed} == {"vsh"}


def test_a_rejected_request_adds_nothing(accounts: dict[str, Any], child_site: Any) -> None:
    admin, adviser = signed_in(accounts["admin"]), signed_in(accounts["adviser"])
    ask(admin, child_key("C003"))
    pending = CaseloadRequest.objects.get()
    assert decide(adviser, pending.pk, "reject").status_code == 302
    assert not CaseloadEntry.objects.filter(la_child_id="C003").exists()
    assert signed_in(accounts["advisory_teacher"]).get(
        f"/children/{child_key('C003')}/"
    ).status_code == (403)
    assert changes()[-1] == (
        "adviser",
        "adviser",
        "advisory_teacher: child added to caseload rejected",
        child_key("C003"),
    )
    assert decide(adviser, pending.pk, "approve").status_code == 404
    # An unknown decision changes nothing.
    ask(admin, "C003")
    again = CaseloadRequest.objects.get(status="pending")
    assert decide(adviser, again.pk, "maybe").status_code == 400
    assert CaseloadRequest.objects.get(pk=again.pk).status == "pending"


def test_decisions_need_the_csrf_token(accounts: dict[str, Any], child_site: Any) -> None:
    ask(signed_in(accounts["admin"]), "C002")
    pending = CaseloadRequest.objects.get()
    vsh = Client(enforce_csrf_checks=True)
    vsh.force_login(accounts["vsh"])
    assert decide(vsh, pending.pk, "approve").status_code == 403
    assert not CaseloadEntry.objects.filter(la_child_id="C002").exists()
    # With the token from the page, it goes through.
    page = vsh.get(LIST)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    target = reverse("accounts:caseload_request_decide", kwargs={"pk": pending.pk})
    response = vsh.post(target, {"decision": "approve", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    assert CaseloadEntry.objects.filter(la_child_id="C002").exists()


def test_a_request_for_a_teacher_who_changed_role_is_not_approved(
    accounts: dict[str, Any], child_site: Any
) -> None:
    admin = signed_in(accounts["admin"])
    ask(admin, "C002")
    pending = CaseloadRequest.objects.get()
    admin.post(
        reverse("accounts:user_role", kwargs={"username": "advisory_teacher"}),
        {"role": "analyst", "school_laestab": ""},
    )
    response = decide(signed_in(accounts["vsh"]), pending.pk, "approve")
    assert response.status_code == 404
    assert not CaseloadEntry.objects.filter(la_child_id="C002").exists()
