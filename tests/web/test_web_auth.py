"""Signing in and out, the login requirement, roles and the audit rows they write."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cwsw.web.accounts.models import Role
from cwsw.web.accounts.services import ROLES, create_demo_users, user_roles
from cwsw.web.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/sign-in/"


def test_urls_are_stable() -> None:
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == "/accounts/sign-out/"
    assert reverse("insight:dashboard") == "/"


def test_anonymous_request_redirects_to_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/"


def test_unknown_page_is_a_plain_govuk_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_sign_in_page_is_govuk_styled(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="govuk-input' in html
    assert "Children with a social worker" in html
    assert "govuk-phase-banner" in html
    assert 'class="govuk-skip-link"' in html
    assert "csrfmiddlewaretoken" in html


def test_the_six_roles() -> None:
    assert set(ROLES) == {
        "vsh",
        "adviser",
        "advisory_teacher",
        "school_dsl",
        "analyst",
        "admin",
    }
    assert get_user_model()._meta.label == "accounts.User"


def test_a_dsl_account_needs_a_school() -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user("dsl-nowhere", role=Role.SCHOOL_DSL)


def test_create_demo_users_is_idempotent_and_resets_passwords() -> None:
    first = create_demo_users()
    assert [(u, r) for u, _, r in first] == [(role, role) for role in ROLES]
    second = create_demo_users()
    assert get_user_model().objects.count() == len(ROLES)
    for (user_a, pw_a, _), (user_b, pw_b, role) in zip(first, second, strict=True):
        assert user_a == user_b
        assert pw_a != pw_b
        user = get_user_model().objects.get(username=user_b)
        assert user.check_password(pw_b)
        assert not user.check_password(pw_a)
        assert pw_b not in user.password  # only the hash is stored
        assert user_roles(user) == {role}


def test_sign_in_with_a_demo_user(
    client: Client, demo_users: dict[str, tuple[str, str]], no_summary: None
) -> None:
    password, _ = demo_users["vsh"]
    response = client.post(LOGIN, {"username": "vsh", "password": password, "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.filter(action="login").get()
    assert event.actor == "vsh"
    assert event.user is not None and event.user.get_username() == "vsh"


def test_sign_in_refuses_an_off_site_next(
    client: Client, demo_users: dict[str, tuple[str, str]]
) -> None:
    password, _ = demo_users["vsh"]
    response = client.post(
        LOGIN, {"username": "vsh", "password": password, "next": "https://example.com/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("username", "object_ref"), [("vsh", "vsh"), ("my-password-typed-here", "(unknown account)")]
)
def test_failed_sign_in_writes_an_audit_row(
    client: Client, demo_users: dict[str, tuple[str, str]], username: str, object_ref: str
) -> None:
    response = client.post(LOGIN, {"username": username, "password": "wrong password"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "govuk-error-summary" in html
    event = AuditEvent.objects.get()
    assert event.action == "login_failed"
    assert event.actor == ""
    assert event.user is None
    assert event.object_type == "account"
    assert event.object_ref == object_ref
    assert "wrong password" not in str(AuditEvent.objects.values().get())


def test_sign_out_is_post_only_and_audited(
    client: Client, demo_users: dict[str, tuple[str, str]]
) -> None:
    client.force_login(get_user_model().objects.get(username="analyst"))
    assert client.get("/accounts/sign-out/").status_code == 405
    response = client.post("/accounts/sign-out/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    event = AuditEvent.objects.filter(action="logout").get()
    assert event.actor == "analyst"
    assert client.get("/").status_code == 302


def test_sign_out_needs_the_csrf_token(demo_users: dict[str, tuple[str, str]]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="vsh"))
    assert client.post("/accounts/sign-out/").status_code == 403


def test_a_user_without_a_role_cannot_see_the_dashboard(client: Client, no_summary: None) -> None:
    user = get_user_model().objects.create_user("norole", password="x" * 16)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "You cannot see this page" in response.content.decode()
    assert not AuditEvent.objects.filter(action="view").exists()


def test_audit_events_are_append_only(demo_users: Any) -> None:
    from cwsw.web.audit import services as audit

    event = audit.record(audit.Action.VIEW, object_type="page", object_ref="x")
    event.object_ref = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record("delete_everything")
