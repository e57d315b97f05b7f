"""The TOTP second factor (django-otp) and the steps between the password and the first page.

After the password, a signed-in account may still owe one of four steps, checked in this order
by :class:`SignInStepsMiddleware` before any view but sign-in and sign-out:

1. a code from its authenticator app (or a recovery code), if it has set one up (child-level
   roles and admins);
2. a new password, if its password is a one-time one an administrator set;
3. setting up an authenticator app, unless ``CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL=0``;
4. reading the recovery codes made when this session set up the app (shown once).

The key being set up belongs to the session that started the set-up (its device id is kept in
that session): another session's set-up replaces it with a new key, and a code can confirm only
the key of the session it is typed in (ADR 0015).

Codes are RFC 6238 TOTP (SHA-1, 6 digits, 30 s, one step either side). A code is accepted once
only (django-otp keeps the last step used). A wrong code counts as a failed sign-in for
django-axes (five lock the account for 30 minutes) and doubles the device's own wait before it
checks another code (kept on the device, so signing in again does not reset it).
"""

from __future__ import annotations

import datetime as dt
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import resolve_url
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from cwsw.web.access import rule_of
from cwsw.web.accounts import recovery
from cwsw.web.accounts.models import RecoveryCode, Role, User
from cwsw.web.accounts.services import CHILD_LEVEL_ROLES, role_of
from cwsw.web.audit import services as audit

# Who may (and, when required, must) use a second factor: the roles that see children, and
# administrators, who make the accounts that do.
SECOND_FACTOR_ROLES = CHILD_LEVEL_ROLES | {Role.ADMIN.value}
DEVICE_NAME = "Authenticator app"
AUDIT_TYPE = "second_factor"

VERIFY = "accounts:second_factor"
CHANGE_PASSWORD = "accounts:password_change"
SET_UP = "accounts:second_factor_setup"
RECOVERY_CODES = "accounts:recovery_codes"

# Session keys: the device this session is setting up; recovery codes to show (once) now.
SETUP_DEVICE = "cwsw_totp_setup_device"
RECOVERY_CODES_DUE = "cwsw_recovery_codes_due"


def applies_to(user: Any) -> bool:
    return role_of(user) in SECOND_FACTOR_ROLES


def required(user: Any) -> bool:
    """Must this account set up a second factor before any page (the deployment's choice)?"""
    return applies_to(user) and bool(settings.REQUIRE_TOTP_FOR_CHILD_LEVEL)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def accounts_with_app() -> set[int]:
    """The ids of the accounts that have set up an authenticator app."""
    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))


def session_device(request: HttpRequest) -> TOTPDevice | None:
    """The unconfirmed device this session started setting up, if it is still the current one."""
    user = request.user
    device_id = request.session.get(SETUP_DEVICE)
    if not isinstance(user, User) or not isinstance(device_id, int):
        return None
    return TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()


def start_set_up(request: HttpRequest) -> TOTPDevice:
    """This session's device being set up: resumed if it has one, else a new random 20-byte key
    that replaces any other session's (whose key then confirms nothing)."""
    device = session_device(request)
    if device is not None:
        return device
    user = request.user
    assert isinstance(user, User)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    request.session[SETUP_DEVICE] = device.pk
    return device


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the key as base32 (grouped in fours) and as a QR code."""

    secret: str
    uri: str
    qr_svg: str


def enrolment(device: TOTPDevice) -> Enrolment:
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    uri = str(device.config_url)
    # segno writes only presentation attributes (no style), so the CSP needs no exception.
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, dark="#0b0c0c", light="#ffffff", title="QR code of the key"
    )
    svg = svg.replace("<svg ", '<svg role="img" class="cwsw-qr" ', 1)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return Enrolment(grouped, uri, svg)


class Outcome(Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # wrong, expired or already used
    WAIT = "wait"  # the device's wait after a wrong code has not passed
    LOCKED = "locked"  # too many failed sign-ins: signed out


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    wait_until: dt.datetime | None = None


def check_code(request: HttpRequest, device: TOTPDevice, code: str) -> Check:
    """Check ``code`` against ``device`` for the signed-in user; record and count the outcome.

    A confirmed device's success marks the session verified; an unconfirmed one's confirms it
    (set-up). Neither the key nor the code typed is written anywhere.
    """
    user = request.user
    assert isinstance(user, User)
    credentials = get_credentials(user.get_username())
    if AxesProxyHandler.is_locked(request, credentials):
        return _locked(request)
    setting_up = not device.confirmed
    with transaction.atomic():
        found = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
        if found is None:  # replaced by another session's set-up, or removed
            return Check(Outcome.WRONG)
        device = found
        allowed, why = device.verify_is_allowed()
        if not allowed:
            until = (why or {}).get("locked_until")
            return Check(Outcome.WAIT, until if isinstance(until, dt.datetime) else None)
        accepted = bool(device.verify_token(code))
        if accepted and setting_up:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    if not accepted:
        return _failed(request, credentials, "wrong code")
    otp_login(request, device)
    reset_lockout(username=user.get_username())
    if setting_up:
        request.session.pop(SETUP_DEVICE, None)
        request.session[RECOVERY_CODES_DUE] = True
        audit.record_request(
            request, audit.Action.CHANGE, object_type=AUDIT_TYPE, object_ref="set up"
        )
    else:
        audit.record_request(
            request, audit.Action.LOGIN, object_type=AUDIT_TYPE, object_ref="code accepted"
        )
    return Check(Outcome.ACCEPTED)


def check_recovery_code(request: HttpRequest, device: TOTPDevice, typed: str) -> Check:
    """Use a recovery code in place of a code from ``device`` (the account's confirmed app).

    Counted like a code: a wrong one is a failed sign-in for django-axes; a right one is spent,
    marks the session verified and is audited with the number left.
    """
    user = request.user
    assert isinstance(user, User)
    credentials = get_credentials(user.get_username())
    if AxesProxyHandler.is_locked(request, credentials):
        return _locked(request)
    if not recovery.use(user, typed):
        return _failed(request, credentials, "wrong recovery code")
    otp_login(request, device)
    reset_lockout(username=user.get_username())
    audit.record_request(
        request,
        audit.Action.LOGIN,
        object_type=AUDIT_TYPE,
        object_ref=f"recovery code used ({recovery.left(user)} left)",
    )
    return Check(Outcome.ACCEPTED)


def make_recovery_codes(request: HttpRequest) -> list[str]:
    """A new set of recovery codes for the signed-in account (audited; the codes are not)."""
    user = request.user
    assert isinstance(user, User)
    codes = recovery.make(user)
    request.session.pop(RECOVERY_CODES_DUE, None)
    audit.record_request(
        request, audit.Action.CHANGE, object_type=AUDIT_TYPE, object_ref="recovery codes made"
    )
    return codes


def _failed(request: HttpRequest, credentials: dict[str, Any], what: str) -> Check:
    audit.record_request(
        request, audit.Action.LOGIN_FAILED, object_type=AUDIT_TYPE, object_ref=what
    )
    # A failed sign-in for django-axes (sent to axes only: the audit row is written above).
    AxesProxyHandler.user_login_failed(sender=check_code, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):
        return _locked(request)
    return Check(Outcome.WRONG)


def _locked(request: HttpRequest) -> Check:
    # Axes' middleware turns the response into the lockout page (request.axes_locked_out).
    request.axes_locked_out = True  # type: ignore[attr-defined]
    logout(request)
    return Check(Outcome.LOCKED)


def remove(user: User) -> int:
    """Remove an account's second factor and its recovery codes (an administrator's action)."""
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    return int(removed)


def is_verified(user: Any) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(callable(verified) and verified())


def next_step(user: Any) -> str | None:
    """The URL name of the step this signed-in account owes before any page, if one."""
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    if applies_to(user) and not is_verified(user) and confirmed_device(user) is not None:
        return VERIFY
    if user.must_change_password:
        return CHANGE_PASSWORD
    if required(user) and not is_verified(user):
        return SET_UP
    return None


class SignInStepsMiddleware:
    """Send a signed-in account that owes a step (:func:`next_step`) to it, from any page.

    After ``DefaultDenyMiddleware``: sign-in and sign-out pages (``@public``, ``@signed_in``)
    are never held back, and the step's own page is let through.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        rule = rule_of(view)
        if rule is None or rule.public or rule.signed_in_any_role:
            return None
        step = next_step(request.user)
        if step is None and request.session.get(RECOVERY_CODES_DUE):
            step = RECOVERY_CODES
        if step is None or getattr(request.resolver_match, "view_name", "") == step:
            return None
        return redirect_to_login(request.get_full_path(), resolve_url(step))
