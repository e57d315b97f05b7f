"""The TOTP second factor (ADR 0012): set-up, codes after the password, wrong and replayed codes,
lockout, the mandatory setting, and roles it does not apply to.

Codes are computed here from the key the set-up page shows, by RFC 6238 written out with
``hmac`` (checked against the RFC's own test vectors), not by django-otp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cwsw.web.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/sign-in/"
PASSWORD = "correct horse battery staple"
VERIFY = "/accounts/second-factor/"
SET_UP = "/accounts/second-factor/set-up/"
KEY_HEX = "3132333435363738393031323334353637383930"  # RFC 6238's SHA-1 key, "1234...890"


def totp(key: bytes, at: float, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 (HOTP of RFC 4226 over the time step), SHA-1."""
    counter = struct.pack(">Q", int(at // step))
    mac = hmac.new(key, counter, hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{number:0{digits}d}"


def from_base32(secret: str) -> bytes:
    text = secret.replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


@pytest.mark.parametrize(
    ("at", "expected"),
    # RFC 6238 appendix B, SHA-1, 8 digits.
    [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2e9, "69279037")],
)
def test_the_tests_totp_matches_rfc_6238(at: float, expected: str) -> None:
    assert totp(b"12345678901234567890", at, digits=8) == expected


def sign_in(client: Client, username: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": PASSWORD})


def enrolled(user: Any) -> TOTPDevice:
    """Give ``user`` a confirmed device with the RFC's key (as if set up earlier)."""
    return TOTPDevice.objects.create(user=user, name="app", key=KEY_HEX, confirmed=True)


def key_bytes() -> bytes:
    return bytes.fromhex(KEY_HEX)


def test_set_up_then_every_sign_in_needs_a_code(
    client: Client, accounts: dict[str, Any], child_site: Any
) -> None:
    assert sign_in(client, "advisory_teacher").status_code == 302
    page = client.get(SET_UP).content.decode()
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page)
    assert secret is not None
    key = from_base32(secret.group(1))
    assert len(key) == 20
    assert '<svg role="img"' in page  # the QR code, drawn inline (no image request)
    uri = re.search(r'data-testid="otpauth-uri">([^<]+)<', page)
    assert uri is not None and "secret=" + secret.group(1).replace(" ", "") in uri.group(1)
    assert "issuer=CWSW" in uri.group(1)
    # Optional: without a device, the caseload is open.
    assert client.get("/caseload/").status_code == 200

    response = client.post(SET_UP, {"code": totp(key, time.time()), "next": "/caseload/"})
    assert response.status_code == 302 and response["Location"] == "/caseload/"
    device = TOTPDevice.objects.get(user=accounts["advisory_teacher"])
    assert device.confirmed and bytes.fromhex(device.key) == key
    row = AuditEvent.objects.get(action="change", object_type="second_factor")
    assert (row.actor, row.object_ref) == ("advisory_teacher", "set up")
    assert client.get(SET_UP).content.decode().count('data-testid="secret"') == 0  # shown once

    # Next sign-in: the password alone reaches no page.
    client.post("/accounts/sign-out/")
    assert sign_in(client, "advisory_teacher").status_code == 302
    response = client.get("/caseload/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=/caseload/"
    # The set-up code's time step was used: the next step's code (one step either side is
    # allowed for clock drift) is accepted.
    response = client.post(VERIFY, {"code": totp(key, time.time() + 30), "next": "/caseload/"})
    assert response.status_code == 302 and response["Location"] == "/caseload/"
    assert client.get("/caseload/").status_code == 200
    accepted = AuditEvent.objects.get(action="login", object_type="second_factor")
    assert accepted.object_ref == "code accepted"
    # The key is in no audit row.
    secret_text = secret.group(1).replace(" ", "")
    for event in AuditEvent.objects.all():
        assert secret_text not in f"{event.object_type} {event.object_ref}"


def test_a_wrong_code_is_refused(
    client: Client, accounts: dict[str, Any], child_site: Any, settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # the wait after one wrong code: a minute
    enrolled(accounts["school_dsl"])
    sign_in(client, "school_dsl")
    right = totp(key_bytes(), time.time())
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    response = client.post(VERIFY, {"code": wrong, "next": "/school/"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html and "The code is not right" in html
    assert client.get("/school/")["Location"] == f"{VERIFY}?next=/school/"
    row = AuditEvent.objects.get(action="login_failed", object_type="second_factor")
    assert row.actor == "school_dsl"
    # Counted by django-axes, without what was typed.
    attempt = AccessAttempt.objects.get(username="school_dsl")
    assert attempt.failures_since_start == 1
    assert wrong not in attempt.post_data
    # The device's own wait: straight after a wrong code, even the right one is not checked.
    response = client.post(VERIFY, {"code": right})
    assert "Too many wrong codes: wait" in response.content.decode()
    assert TOTPDevice.objects.get(user=accounts["school_dsl"]).throttling_failure_count == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code from your authenticator app"),
        ("12345", "Enter the code as 6 digits, like 123456"),
        ("abcdef", "Enter the code as 6 digits, like 123456"),
        ("1234567", "Enter the code as 6 digits, like 123456"),
    ],
)
def test_a_malformed_code_says_what_to_enter(
    client: Client, accounts: dict[str, Any], code: str, message: str
) -> None:
    enrolled(accounts["analyst"])
    client.force_login(accounts["analyst"])
    html = client.post(VERIFY, {"code": code}).content.decode()
    assert 'data-testid="error-summary"' in html
    assert f'<a href="#id_code">{message}</a>' in html
    assert not AuditEvent.objects.filter(action="login_failed").exists()  # nothing was checked


def test_five_wrong_codes_lock_the_account(
    client: Client, accounts: dict[str, Any], settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # so each code is checked (the device's wait aside)
    enrolled(accounts["analyst"])
    sign_in(client, "analyst")
    right = totp(key_bytes(), time.time())
    wrong = f"{(int(right) + 500_000) % 10**6:06d}"
    for _ in range(4):
        assert client.post(VERIFY, {"code": wrong}).status_code == 200
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 429
    assert "Your account is locked" in response.content.decode()
    assert "_auth_user_id" not in client.session  # signed out
    # The password alone no longer signs in either.
    assert sign_in(client, "analyst").status_code == 429
    assert AuditEvent.objects.filter(action="login_failed", actor="analyst").count() == 5


def test_a_replayed_code_is_refused(client: Client, accounts: dict[str, Any]) -> None:
    enrolled(accounts["analyst"])
    code = totp(key_bytes(), time.time())
    sign_in(client, "analyst")
    assert client.post(VERIFY, {"code": code})["Location"] == "/"
    # Someone who saw the code uses it in another browser with the password.
    other = Client(HTTP_USER_AGENT="another browser")
    sign_in(other, "analyst")
    response = other.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert other.get("/data/loads/").status_code == 302


# A page every role may open that does not read the warehouse.
ANY_ROLE_PAGE = "/accounts/password/"


def test_mandatory_mode_sends_child_level_roles_to_set_up(
    client: Client, accounts: dict[str, Any], settings: Any
) -> None:
    settings.REQUIRE_TOTP_FOR_CHILD_LEVEL = True
    pages = {"advisory_teacher": "/caseload/", "school_dsl": "/school/", "analyst": ANY_ROLE_PAGE}
    for role, page in pages.items():
        client.force_login(accounts[role])
        response = client.get(page)
        assert response.status_code == 302, role
        assert response["Location"] == f"{SET_UP}?next={page}", role
        assert "You need to do this" in client.get(SET_UP).content.decode()
    # Aggregate roles sign in with a password alone, and have no second factor to set up.
    for role in ("vsh", "adviser"):
        client.force_login(accounts[role])
        assert client.get(ANY_ROLE_PAGE).status_code == 200, role
        assert client.get(SET_UP).status_code == 403, role
        assert client.get(VERIFY).status_code == 403, role


def test_aggregate_roles_are_not_asked_for_a_code(client: Client, accounts: dict[str, Any]) -> None:
    # Even a device left from an earlier role does not hold back an aggregate account.
    enrolled(accounts["vsh"])
    assert sign_in(client, "vsh")["Location"] == "/"
    assert client.get(ANY_ROLE_PAGE).status_code == 200


def test_an_unverified_session_sees_no_child(
    client: Client, accounts: dict[str, Any], child_site: Any
) -> None:
    from cwsw.web.children.keys import child_key

    enrolled(accounts["advisory_teacher"])
    sign_in(client, "advisory_teacher")
    before = AuditEvent.objects.count()
    for url in ("/caseload/", f"/children/{child_key('C001')}/"):
        assert client.get(url)["Location"].startswith(VERIFY)
    assert AuditEvent.objects.count() == before  # no page was served, so nothing was read
    # Signing out is never held back.
    assert client.post(reverse("accounts:logout")).status_code == 302


def test_script_in_the_code_field_is_rendered_escaped(
    client: Client, accounts: dict[str, Any]
) -> None:
    from tests.web.child_data import SCRIPT

    client.force_login(accounts["analyst"])
    pages = [client.post(SET_UP, {"code": SCRIPT, "next": SCRIPT})]
    enrolled(accounts["analyst"])
    pages.append(client.post(VERIFY, {"code": SCRIPT, "next": SCRIPT}))
    for response in pages:
        html = response.content.decode()
        assert SCRIPT not in html and "<script>alert" not in html
        assert "&lt;script&gt;" in html  # what was typed is shown back, escaped
        assert 'data-testid="error-summary"' in html


def test_an_administrator_with_an_app_gives_a_code_too(
    client: Client, accounts: dict[str, Any]
) -> None:
    enrolled(accounts["admin"])
    sign_in(client, "admin")
    assert client.get("/accounts/users/")["Location"] == f"{VERIFY}?next=/accounts/users/"
    client.post(VERIFY, {"code": totp(key_bytes(), time.time())})
    assert client.get("/accounts/users/").status_code == 200


def test_the_code_comes_before_changing_a_one_time_password(
    client: Client, accounts: dict[str, Any]
) -> None:
    teacher = accounts["advisory_teacher"]
    teacher.must_change_password = True
    teacher.save()
    enrolled(teacher)
    sign_in(client, "advisory_teacher")
    # The password page itself is held back until the code: a password alone cannot change it.
    assert client.get("/accounts/password/")["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": totp(key_bytes(), time.time())})
    assert client.get("/caseload/")["Location"] == "/accounts/password/?next=/caseload/"
    assert client.get("/accounts/password/").status_code == 200
