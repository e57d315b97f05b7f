"""Second-factor hardening (issue 14, ADR 0015): the set-up key is bound to the session that
started the set-up, the second factor is required by default, and recovery codes."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from cwsw.settings import Settings
from cwsw.web.accounts.models import RecoveryCode
from cwsw.web.audit.models import AuditEvent
from tests.web.test_web_totp import (
    ANY_ROLE_PAGE,
    LOGIN,
    SET_UP,
    VERIFY,
    enrolled,
    from_base32,
    key_bytes,
    sign_in,
    totp,
)

pytestmark = pytest.mark.django_db

RECOVERY = "/accounts/second-factor/recovery-codes/"


def secret_of(response: Any) -> bytes:
    found = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', response.content.decode())
    assert found is not None, "no key on the page"
    return from_base32(found.group(1))


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- 1. the set-up key belongs to the session that started the set-up --------------------------


def test_each_session_gets_its_own_set_up_key(accounts: dict[str, Any]) -> None:
    first, second = signed_in(accounts["analyst"]), signed_in(accounts["analyst"])
    key_first = secret_of(first.get(SET_UP))
    assert secret_of(first.get(SET_UP)) == key_first  # a refresh keeps the key
    key_second = secret_of(second.get(SET_UP))
    assert key_second != key_first  # a new set-up replaces the key with a fresh one
    # Only one unconfirmed device is kept: the first session's key is gone.
    assert TOTPDevice.objects.filter(user=accounts["analyst"]).count() == 1

    # The first session's key no longer confirms anything.
    response = first.post(SET_UP, {"code": totp(key_first, time.time())})
    assert response.status_code == 200
    assert "Start the set-up again" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()

    # A session that never opened the set-up cannot confirm the key it did not see.
    third = signed_in(accounts["analyst"])
    response = third.post(SET_UP, {"code": totp(key_second, time.time())})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(confirmed=True).exists()

    # The session that holds the key confirms it.
    response = second.post(SET_UP, {"code": totp(key_second, time.time()), "next": "/"})
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=accounts["analyst"])
    assert device.confirmed and bytes.fromhex(device.key) == key_second


# -- 2. required by default -----------------------------------------------------------------


def test_the_second_factor_is_required_by_default(
    second_factor_by_default: None, client: Client, accounts: dict[str, Any]
) -> None:
    assert "turned off on this site" not in client.get(LOGIN).content.decode()
    for role in ("advisory_teacher", "school_dsl", "analyst", "admin"):
        client = Client()
        assert sign_in(client, role).status_code == 302
        response = client.get(ANY_ROLE_PAGE)
        assert response.status_code == 302, role
        assert response["Location"] == f"{SET_UP}?next={ANY_ROLE_PAGE}", role
    for role in ("vsh", "adviser"):
        client = Client()
        sign_in(client, role)
        assert client.get(ANY_ROLE_PAGE).status_code == 200, role


def test_the_setting_is_an_opt_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL", raising=False)
    assert Settings.from_env().require_totp_for_child_level is True
    for off in ("0", "no", "false", "off"):
        monkeypatch.setenv("CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL", off)
        assert Settings.from_env().require_totp_for_child_level is False, off
    monkeypatch.setenv("CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL", "1")
    assert Settings.from_env().require_totp_for_child_level is True


def test_the_sign_in_page_says_when_the_second_factor_is_off(client: Client, settings: Any) -> None:
    settings.REQUIRE_TOTP_FOR_CHILD_LEVEL = False
    html = client.get(LOGIN).content.decode()
    assert "The second factor is turned off on this site: for demonstration only" in html
    settings.REQUIRE_TOTP_FOR_CHILD_LEVEL = True
    assert "turned off on this site" not in client.get(LOGIN).content.decode()


# -- 3. recovery codes ----------------------------------------------------------------------


def codes_on(response: Any) -> list[str]:
    return re.findall(r'data-testid="recovery-code">([a-z0-9-]+)<', response.content.decode())


def set_up_with_codes(client: Client) -> tuple[bytes, list[str]]:
    key = secret_of(client.get(SET_UP))
    response = client.post(SET_UP, {"code": totp(key, time.time()), "next": "/data/loads/"})
    assert response.status_code == 302
    # The codes are shown once, before any other page.
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(RECOVERY)
    response = client.get(response["Location"])
    codes = codes_on(response)
    return key, codes


def test_recovery_codes_are_shown_once_and_stored_hashed(
    client: Client, accounts: dict[str, Any], child_site: Any
) -> None:
    sign_in(client, "analyst")
    _, codes = set_up_with_codes(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=accounts["analyst"]).values())
    assert len(stored) == 10
    for code in codes:
        assert code not in str(stored)
        assert code.replace("-", "") not in str(stored)
        assert code not in str(list(AuditEvent.objects.values()))
    again = client.get(RECOVERY)
    assert again.status_code == 200 and codes_on(again) == []
    assert "10 recovery codes left" in again.content.decode()
    assert client.get("/data/loads/").status_code == 200


def test_a_recovery_code_signs_in_once(
    client: Client, accounts: dict[str, Any], child_site: Any
) -> None:
    sign_in(client, "analyst")
    _, codes = set_up_with_codes(client)
    client.post("/accounts/sign-out/")

    fresh = Client()
    sign_in(fresh, "analyst")
    response = fresh.post(VERIFY, {"recovery_code": codes[3].upper(), "next": "/data/loads/"})
    assert response.status_code == 302 and response["Location"] == "/data/loads/"
    assert fresh.get("/data/loads/").status_code == 200
    used = AuditEvent.objects.get(action="login", object_type="second_factor")
    assert used.object_ref == "recovery code used (9 left)"
    assert "9 recovery codes left" in fresh.get(RECOVERY).content.decode()

    # Used once: the same code is refused in the next session, and counted as a failure.
    other = Client()
    sign_in(other, "analyst")
    response = other.post(VERIFY, {"recovery_code": codes[3]})
    assert response.status_code == 200
    assert "The recovery code is not right" in response.content.decode()
    assert other.get("/data/loads/")["Location"].startswith(VERIFY)
    assert AuditEvent.objects.filter(
        action="login_failed", object_type="second_factor", object_ref="wrong recovery code"
    ).exists()


def test_recovery_codes_are_regenerated_after_a_code(
    client: Client, accounts: dict[str, Any], settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = accounts["analyst"]
    enrolled(user)
    client.force_login(user)
    client.post(VERIFY, {"code": totp(key_bytes(), time.time())})
    assert "0 recovery codes left" in client.get(RECOVERY).content.decode()
    # A wrong code makes none.
    right = totp(key_bytes(), time.time() + 30)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    response = client.post(RECOVERY, {"code": wrong})
    assert response.status_code == 200 and codes_on(response) == []
    assert "The code is not right" in response.content.decode()
    assert not RecoveryCode.objects.exists()
    response = client.post(RECOVERY, {"code": right})
    first = codes_on(response)
    assert len(first) == 10
    response = client.post(RECOVERY, {"code": totp(key_bytes(), time.time() + 60)})
    second = codes_on(response)
    assert len(second) == 10 and not set(first) & set(second)
    assert RecoveryCode.objects.filter(user=user).count() == 10  # the old ones are gone
    refs = list(
        AuditEvent.objects.filter(action="change", object_type="second_factor").values_list(
            "object_ref", flat=True
        )
    )
    assert refs.count("recovery codes made") == 2
    # An old code no longer signs in.
    other = Client()
    sign_in(other, "analyst")
    assert other.post(VERIFY, {"recovery_code": first[0]}).status_code == 200
    assert other.post(VERIFY, {"recovery_code": second[0]}).status_code == 302
