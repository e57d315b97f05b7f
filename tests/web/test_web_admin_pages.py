"""The administrator's account and caseload pages (ADR 0012): each change does what it says,
is audited (who changed what for whom), is refused to other roles and without the CSRF token,
and what was typed comes back escaped."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cwsw.web.accounts.models import CaseloadRequest, User
from cwsw.web.audit.models import AuditEvent
from cwsw.web.children.keys import child_key
from cwsw.web.children.models import CaseloadEntry
from tests.web import child_data

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/sign-in/"
PASSWORD = "correct horse battery staple"
ESCAPED = "&lt;script&gt;alert(&quot;cwsw&quot;)&lt;/script&gt;"


@pytest.fixture
def admin(client: Client, accounts: dict[str, Any], child_site: Any) -> Client:
    client.force_login(accounts["admin"])
    return client


def url(name: str, username: str | None = None) -> str:
    return reverse(name, kwargs={"username": username} if username else None)


def changes() -> list[tuple[str, str, str, str]]:
    """The ``change`` audit rows: (who, role, what for whom, child key), oldest first."""
    rows = AuditEvent.objects.filter(action="change").order_by("id")
    return [(r.actor, r.role, r.object_ref, r.child_key) for r in rows]


def one_time_password(html: str) -> str:
    found = re.search(r'data-testid="one-time-password">([^<]+)<', html)
    assert found is not None
    return found.group(1)


def test_the_list_shows_every_account(admin: Client, accounts: dict[str, Any]) -> None:
    html = admin.get(url("accounts:users")).content.decode()
    for username in accounts:
        assert f">{username}</a>" in html
    assert "Deactivated" not in html


def test_create_an_account_with_a_one_time_password(admin: Client) -> None:
    response = admin.post(
        url("accounts:user_new"),
        {"username": "new.dsl", "role": "school_dsl", "school_laestab": child_data.SCHOOL_A},
    )
    assert response.status_code == 200
    password = one_time_password(response.content.decode())
    user = User.objects.get(username="new.dsl")
    assert (user.role, user.school_laestab, user.is_active) == (
        "school_dsl",
        child_data.SCHOOL_A,
        True,
    )
    assert user.must_change_password and user.check_password(password)
    assert changes() == [
        ("admin", "admin", f"new.dsl: created as school_dsl at {child_data.SCHOOL_A}", "")
    ]
    assert password not in str(changes())

    # The account holder signs in with it, and must choose their own password before any page.
    holder = Client()
    assert holder.post(LOGIN, {"username": "new.dsl", "password": password}).status_code == 302
    response = holder.get("/school/")
    assert response["Location"] == "/accounts/password/?next=/school/"
    assert 'data-testid="one-time"' in holder.get("/accounts/password/").content.decode()
    response = holder.post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password1": "a long new passphrase 42",
            "new_password2": "a long new passphrase 42",
            "next": "/school/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/school/"
    assert holder.get("/school/").status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password and not user.check_password(password)
    assert changes()[-1] == ("new.dsl", "school_dsl", "password changed", "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "", "role": "vsh"}, "username", "Enter a username"),
        ({"username": "vsh", "role": "vsh"}, "username", "An account with this username"),
        ({"username": "a b", "role": "vsh"}, "username", "Enter a valid username"),
        ({"username": "x", "role": ""}, "role", "Choose a role"),
        ({"username": "x", "role": "boss"}, "role", "Select a valid choice"),
        ({"username": "x", "role": "school_dsl"}, "school_laestab", "Enter the school LAESTAB"),
        (
            {"username": "x", "role": "school_dsl", "school_laestab": "99910"},
            "school_laestab",
            "as 7 digits",
        ),
        (
            {"username": "x", "role": "school_dsl", "school_laestab": "9991999"},
            "school_laestab",
            "a school in the loaded data",
        ),
        (
            {"username": "x", "role": "analyst", "school_laestab": child_data.SCHOOL_A},
            "school_laestab",
            "Leave the school LAESTAB empty",
        ),
    ],
)
def test_a_new_account_is_checked(
    admin: Client, data: dict[str, str], field: str, message: str
) -> None:
    before = User.objects.count()
    response = admin.post(url("accounts:user_new"), data)
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('data-testid="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    assert f'href="#id_{field}"' in summary and message in summary
    assert "govuk-form-group--error" in html
    assert User.objects.count() == before and changes() == []


def test_deactivate_ends_the_account_s_access(admin: Client, accounts: dict[str, Any]) -> None:
    analyst = Client()
    analyst.force_login(accounts["analyst"])
    assert analyst.get("/data/loads/").status_code == 200
    response = admin.post(url("accounts:user_active", "analyst"), {"active": "0"})
    assert response["Location"] == url("accounts:user", "analyst")
    assert analyst.get("/data/loads/")["Location"].startswith(LOGIN)  # signed out at once
    assert Client().post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code == 200
    admin.post(url("accounts:user_active", "analyst"), {"active": "1"})
    assert User.objects.get(username="analyst").is_active
    assert [c[2] for c in changes()] == ["analyst: deactivated", "analyst: reactivated"]


def test_an_admin_cannot_lock_themselves_out(admin: Client, accounts: dict[str, Any]) -> None:
    for name, data in (
        ("accounts:user_active", {"active": "0"}),
        ("accounts:user_role", {"role": "vsh", "school_laestab": ""}),
        ("accounts:user_password", {}),
    ):
        response = admin.post(url(name, "admin"), data)
        assert response.status_code == 400, name
        assert "ask another administrator" in response.content.decode()
    admin_user = User.objects.get(username="admin")
    assert admin_user.is_active and admin_user.role == "admin"
    assert admin_user.check_password(PASSWORD) and changes() == []


def test_reset_password_is_one_time_and_ends_sessions(
    admin: Client, accounts: dict[str, Any]
) -> None:
    teacher = Client()
    teacher.force_login(accounts["advisory_teacher"])
    response = admin.post(url("accounts:user_password", "advisory_teacher"))
    password = one_time_password(response.content.decode())
    assert "Cache-Control" in response and "no-store" in response["Cache-Control"]
    assert teacher.get("/caseload/")["Location"].startswith(LOGIN)  # the old session ended
    assert (
        Client().post(LOGIN, {"username": "advisory_teacher", "password": PASSWORD}).status_code
        == 200
    )
    fresh = Client()
    assert (
        fresh.post(LOGIN, {"username": "advisory_teacher", "password": password}).status_code == 302
    )
    assert fresh.get("/caseload/")["Location"].startswith("/accounts/password/")
    assert changes() == [("admin", "admin", "advisory_teacher: one-time password set", "")]


def test_role_change_clears_a_caseload(admin: Client) -> None:
    response = admin.post(
        url("accounts:user_role", "advisory_teacher"), {"role": "analyst", "school_laestab": ""}
    )
    assert response.status_code == 302
    assert User.objects.get(username="advisory_teacher").role == "analyst"
    assert not CaseloadEntry.objects.exists()
    assert changes() == [
        (
            "admin",
            "admin",
            "advisory_teacher: role advisory_teacher -> analyst; caseload of 1 cleared",
            "",
        )
    ]


def test_assign_and_remove_children_on_a_caseload(admin: Client, accounts: dict[str, Any]) -> None:
    teacher = Client()
    teacher.force_login(accounts["advisory_teacher"])
    c002, c003 = child_key("C002"), child_key("C003")
    assert teacher.get(f"/children/{c002}/").status_code == 403

    page = url("accounts:user", "advisory_teacher")
    add = url("accounts:caseload_add", "advisory_teacher")
    assert admin.post(add, {"child": "C002"})["Location"] == page  # by LA child ID
    assert admin.post(add, {"child": c003})["Location"] == page  # by child key
    # An addition is a request until a second person approves it (ADR 0015).
    assert teacher.get(f"/children/{c002}/").status_code == 403
    vsh = Client()
    vsh.force_login(accounts["vsh"])
    for pending in CaseloadRequest.objects.order_by("id"):
        decide = reverse("accounts:caseload_request_decide", kwargs={"pk": pending.pk})
        assert vsh.post(decide, {"decision": "approve"}).status_code == 302
    assert teacher.get(f"/children/{c002}/").status_code == 200
    assert teacher.get(f"/children/{c003}/").status_code == 200
    html = admin.get(page).content.decode()
    for child in ("C001", "C002", "C003"):
        assert f">{child}</td>" in html and f">{child_key(child)}</td>" in html

    for typed, message in (
        ("C999", "No child in the loaded data"),
        ("C002", "already on the caseload"),
        ("", "Enter the LA child ID or the child key"),
    ):
        response = admin.post(add, {"child": typed})
        assert response.status_code == 400
        summary = response.content.decode()
        assert 'href="#id_child"' in summary and message in summary

    remove = url("accounts:caseload_remove", "advisory_teacher")
    assert admin.post(remove, {"key": c002})["Location"] == page
    assert teacher.get(f"/children/{c002}/").status_code == 403
    assert sorted(CaseloadEntry.objects.values_list("la_child_id", flat=True)) == ["C001", "C003"]
    added_by = CaseloadEntry.objects.get(la_child_id="C003").added_by
    assert added_by == accounts["admin"]
    # Who changed what for whom: the child by key, never by LA child ID.
    assert changes() == [
        ("admin", "admin", "advisory_teacher: child added to caseload requested", c002),
        ("admin", "admin", "advisory_teacher: child added to caseload requested", c003),
        ("vsh", "vsh", "advisory_teacher: child added to caseload approved", c002),
        ("vsh", "vsh", "advisory_teacher: child added to caseload approved", c003),
        ("admin", "admin", "advisory_teacher: child removed from caseload", c002),
    ]


def test_only_an_advisory_teacher_has_a_caseload(admin: Client) -> None:
    response = admin.post(url("accounts:caseload_add", "analyst"), {"child": "C002"})
    assert response.status_code == 400
    assert "Only an advisory teacher has a caseload" in response.content.decode()
    assert changes() == []


def test_remove_an_authenticator_app(admin: Client, accounts: dict[str, Any]) -> None:
    TOTPDevice.objects.create(user=accounts["analyst"], name="app", confirmed=True)
    assert "Set up</td>" in admin.get(url("accounts:users")).content.decode()
    response = admin.post(url("accounts:user_second_factor", "analyst"))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=accounts["analyst"]).exists()
    assert changes() == [("admin", "admin", "analyst: second factor removed", "")]


@pytest.mark.parametrize("role", ["vsh", "adviser", "advisory_teacher", "school_dsl", "analyst"])
def test_other_roles_change_nothing(client: Client, accounts: dict[str, Any], role: str) -> None:
    client.force_login(accounts[role])
    posts = [
        (url("accounts:user_new"), {"username": "sneaky", "role": "admin"}),
        (url("accounts:user_role", role), {"role": "admin", "school_laestab": ""}),
        (url("accounts:user_active", "admin"), {"active": "0"}),
        (url("accounts:user_password", "admin"), {}),
        (url("accounts:caseload_add", "advisory_teacher"), {"child": "C002"}),
    ]
    for target, data in posts:
        assert client.post(target, data).status_code == 403, target
    assert not User.objects.filter(username="sneaky").exists()
    assert User.objects.get(username=role).role == role
    assert User.objects.get(username="admin").is_active
    assert CaseloadEntry.objects.count() == 1 and changes() == []


def test_changes_need_the_csrf_token(accounts: dict[str, Any], child_site: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(accounts["admin"])
    for target, data in (
        (url("accounts:user_new"), {"username": "forged", "role": "admin"}),
        (url("accounts:user_active", "analyst"), {"active": "0"}),
        (url("accounts:user_password", "analyst"), {}),
        (url("accounts:caseload_add", "advisory_teacher"), {"child": "C002"}),
    ):
        assert client.post(target, data).status_code == 403, target
    assert not User.objects.filter(username="forged").exists()
    assert User.objects.get(username="analyst").is_active
    assert User.objects.get(username="analyst").check_password(PASSWORD)
    assert CaseloadEntry.objects.count() == 1 and changes() == []


def test_script_in_every_text_field_is_rendered_escaped(
    admin: Client, accounts: dict[str, Any]
) -> None:
    script = child_data.SCRIPT
    responses = [
        admin.post(url("accounts:user_new"), {"username": script, "role": "vsh"}),
        admin.post(
            url("accounts:user_new"),
            {"username": "x", "role": "school_dsl", "school_laestab": script},
        ),
        admin.post(
            url("accounts:user_role", "vsh"), {"role": "school_dsl", "school_laestab": script}
        ),
        admin.post(url("accounts:caseload_add", "advisory_teacher"), {"child": script}),
        admin.post(url("accounts:caseload_remove", "advisory_teacher"), {"key": script}),
    ]
    teacher = Client()
    teacher.force_login(accounts["advisory_teacher"])
    responses.append(
        teacher.post(
            "/accounts/password/",
            {"old_password": script, "new_password1": script, "new_password2": script},
        )
    )
    for response in responses:
        html = response.content.decode()
        assert script not in html and "<script>alert" not in html
    for response in responses[:4]:
        assert ESCAPED in response.content.decode()  # shown back in the field, escaped
    assert changes() == []


def test_unlock_an_account_locked_by_failed_sign_ins(
    admin: Client, accounts: dict[str, Any]
) -> None:
    other = Client(HTTP_USER_AGENT="someone guessing")
    for _ in range(5):
        other.post(LOGIN, {"username": "analyst", "password": "wrong"})
    assert Client().post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code == 429
    assert (
        "locked after failed sign-ins"
        in admin.get(url("accounts:user", "analyst")).content.decode()
    )
    assert admin.post(url("accounts:user_unlock", "analyst")).status_code == 302
    assert Client().post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code == 302
    assert changes() == [("admin", "admin", "analyst: unlocked", "")]
