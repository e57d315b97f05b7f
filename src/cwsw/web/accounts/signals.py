"""Audit sign-in, sign-out and failed sign-in (Django's auth signals)."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from cwsw.web.accounts import usernames
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
    """Record the attempt: the account in ``object_ref`` if it exists, and the username tried,
    normalised and cut to 64 characters, in ``details`` (ADR 0015), so that guessing across
    usernames shows in the audit log. The password is never recorded; nobody is signed in, so
    the row names no user.
    """
    typed = str(credentials.get("username") or "")
    username = usernames.normalise(typed)
    exists = bool(username) and User.objects.filter(username=username).exists()
    audit.record_request(
        request,
        audit.Action.LOGIN_FAILED,
        object_type="account",
        object_ref=username if exists else UNKNOWN_ACCOUNT,
        details=f"username tried: {usernames.for_audit(typed)}",
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="cwsw.audit.login")
    user_logged_out.connect(on_logout, dispatch_uid="cwsw.audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="cwsw.audit.login_failed")
