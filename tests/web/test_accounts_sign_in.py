"""Account hardening (issue 14, ADR 0015): lockout keyed on the account and throttled by address,
new passwords unlike the old, usernames normalised and confusables refused, and the username
tried in a failed sign-in's audit row."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cwsw.web.accounts.models import User
from cwsw.web.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/sign-in/"
PASSWORD = "correct horse battery staple"


def browser(name: str) -> Client:
    return Client(HTTP_USER_AGENT=name)


def fail(client: Client, username: str) -> int:
    return client.post(LOGIN, {"username": username, "password": "wrong"}).status_code


# -- 4. lockout -----------------------------------------------------------------------------


def test_the_lock_is_on_the_account_whatever_the_browser(
    accounts: dict[str, Any], child_site: Any
) -> None:
    for n in range(5):
        fail(browser(f"browser {n}"), "analyst")
    fresh = browser("a browser never seen")
    assert fresh.post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code == 429

    admin = Client()
    admin.force_login(accounts["admin"])
    page = reverse("accounts:user", kwargs={"username": "analyst"})
    html = admin.get(page).content.decode()
    status = re.search(r'data-testid="status">(.*?)</dd>', html, re.S)
    assert status is not None and "Locked" in status.group(1)
    assert 'data-testid="unlock"' in html
    response = admin.post(reverse("accounts:user_unlock", kwargs={"username": "analyst"}))
    assert response.status_code == 302
    assert "Locked" not in admin.get(page).content.decode()
    assert fresh.post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code == 302
    unlocked = AuditEvent.objects.get(action="change", object_ref="analyst: unlocked")
    assert unlocked.actor == "admin"


def test_the_unlock_needs_the_csrf_token(accounts: dict[str, Any]) -> None:
    for n in range(5):
        fail(browser(f"browser {n}"), "analyst")
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(accounts["admin"])
    response = admin.post(reverse("accounts:user_unlock", kwargs={"username": "analyst"}))
    assert response.status_code == 403
    assert Client().post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code == 429


def test_changing_the_case_of_the_username_does_not_reset_the_count(
    accounts: dict[str, Any],
) -> None:
    for n, typed in enumerate(("analyst", "Analyst", "ANALYST", "AnAlYsT", " analyst ")):
        fail(browser(f"browser {n}"), typed)
    assert (
        browser("another").post(LOGIN, {"username": "analyst", "password": PASSWORD}).status_code
        == 429
    )


def test_an_address_failing_across_usernames_is_locked_whatever_the_browser(
    accounts: dict[str, Any],
) -> None:
    # One address, a different browser and username each time: locked after 20 failures.
    for n in range(19):
        assert fail(browser(f"browser {n}"), f"guess{n}") == 200
    assert browser("x").post(LOGIN, {"username": "vsh", "password": PASSWORD}).status_code == 302
    fail(browser("browser 19"), "guess19")
    response = browser("y").post(LOGIN, {"username": "vsh", "password": PASSWORD})
    assert response.status_code == 429
    # Another address is not held back.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(LOGIN, {"username": "vsh", "password": PASSWORD}).status_code == 302


def test_a_sign_in_does_not_clear_the_address_count(accounts: dict[str, Any]) -> None:
    for n in range(15):
        fail(browser(f"browser {n}"), f"guess{n}")
    # Whoever has an account cannot wipe the address's failures by signing in.
    assert Client().post(LOGIN, {"username": "vsh", "password": PASSWORD}).status_code == 302
    for n in range(15, 20):
        fail(browser(f"browser {n}"), f"guess{n}")
    assert Client().post(LOGIN, {"username": "vsh", "password": PASSWORD}).status_code == 429


# -- 5. a new password is new ----------------------------------------------------------------


def change(client: Client, old: str, new: str) -> Any:
    return client.post(
        "/accounts/password/",
        {"old_password": old, "new_password1": new, "new_password2": new, "next": "/"},
    )


def test_the_new_password_cannot_be_the_one_time_password(accounts: dict[str, Any]) -> None:
    admin = Client()
    admin.force_login(accounts["admin"])
    response = admin.post(reverse("accounts:user_password", kwargs={"username": "analyst"}))
    one_time = re.search(r'data-testid="one-time-password">([^<]+)<', response.content.decode())
    assert one_time is not None
    holder = Client()
    holder.post(LOGIN, {"username": "analyst", "password": one_time.group(1)})
    response = change(holder, one_time.group(1), one_time.group(1))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html
    assert "different from the one-time password" in html
    user = User.objects.get(username="analyst")
    assert user.must_change_password
    assert change(holder, one_time.group(1), "a brand new passphrase 7").status_code == 302


def test_the_new_password_cannot_be_the_current_one(accounts: dict[str, Any]) -> None:
    holder = Client()
    holder.force_login(accounts["vsh"])
    response = change(holder, PASSWORD, PASSWORD)
    assert response.status_code == 200
    assert "different from your current password" in response.content.decode()
    assert not AuditEvent.objects.filter(object_ref="password changed").exists()


# -- 6. usernames ---------------------------------------------------------------------------


@pytest.fixture
def admin(accounts: dict[str, Any], child_site: Any) -> Client:
    client = Client()
    client.force_login(accounts["admin"])
    return client


def new_account(admin: Client, username: str) -> Any:
    return admin.post(reverse("accounts:user_new"), {"username": username, "role": "vsh"})


@pytest.mark.parametrize(
    "typed",
    [
        "\u0430dmin",  # Cyrillic a
        "adm\u0456n",  # Cyrillic i
        "\u03b1dmin",  # Greek alpha
        "admin\u0130",  # capital I with a dot
        "adm\u0131n",  # dotless i
        "ad\u200bmin",  # zero-width space
    ],
)
def test_a_confusable_username_is_refused(admin: Client, typed: str) -> None:
    before = User.objects.count()
    response = new_account(admin, typed)
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html
    assert "lower-case letters a to z, digits, full stops, hyphens and underscores" in html
    assert User.objects.count() == before


@pytest.mark.parametrize("typed", ["ADMIN", "Analyst", "\uff41\uff44\uff4d\uff49\uff4e"])
def test_a_username_differing_only_in_case_or_width_is_taken(admin: Client, typed: str) -> None:
    before = User.objects.count()
    html = new_account(admin, typed).content.decode()
    assert "An account with this username already exists" in html
    assert User.objects.count() == before


def test_usernames_are_normalised_when_made_and_at_sign_in(admin: Client) -> None:
    response = new_account(admin, " New.User ")
    assert response.status_code == 200
    assert User.objects.filter(username="new.user").exists()
    assert not User.objects.filter(username="New.User").exists()
    assert Client().post(LOGIN, {"username": "VSH", "password": PASSWORD}).status_code == 302
    # Fullwidth letters are NFKC-normalised to their ASCII selves.
    fullwidth = "\uff56\uff53\uff48"
    assert Client().post(LOGIN, {"username": fullwidth, "password": PASSWORD}).status_code == 302


# -- 8. the username tried, in the audit row ---------------------------------------------------


def test_a_failed_sign_in_records_the_username_tried(accounts: dict[str, Any]) -> None:
    Client().post(LOGIN, {"username": " Nobody.Here ", "password": "secret words 1"})
    Client().post(LOGIN, {"username": "x" * 140, "password": "secret words 2"})
    Client().post(LOGIN, {"username": "VSH", "password": "secret words 3"})
    rows = list(AuditEvent.objects.filter(action="login_failed").order_by("id"))
    assert [row.details for row in rows] == [
        "username tried: nobody.here",
        "username tried: " + "x" * 64,
        "username tried: vsh",
    ]
    assert all(row.user is None and row.actor == "" for row in rows)
    assert "secret words" not in str(list(AuditEvent.objects.values()))
