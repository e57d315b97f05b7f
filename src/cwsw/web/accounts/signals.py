"""Audit sign-in, sign-out and failed sign-in (Django's auth signals)."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from cwsw.web.accounts.models import User
from cwsw.web.audit import services as audit

UNKNOWN_ACCOUNT = "(unknown account)"


SIGNED_IN_AT = "cwsw_signed_in_at"


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        # The absolute session lifetime counts from here (middleware.SessionLifetimeMiddleware).
        request.session[SIGNED_IN_AT] = int(time.time())
    audit.record_request(request, audit.Action.LOGIN, user=user, object_type="session")


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record_request(request, audit.Action.LOGOUT, user=user, object_type="session")


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Record the attempt against the account, if it exists.

    What was typed is only kept when it names a real account: a mistyped username is often a
    password typed in the wrong box, which must not end up in a log.
    """
    typed = str(credentials.get("username") or "")
    exists = bool(typed) and User.objects.filter(username=typed).exists()
    audit.record_request(
        request,
        audit.Action.LOGIN_FAILED,
        object_type="account",
        object_ref=typed if exists else UNKNOWN_ACCOUNT,
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="cwsw.audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="cwsw.audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="cwsw.audit.login_failed")
