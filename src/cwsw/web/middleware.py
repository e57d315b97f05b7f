"""Project middleware: the Content-Security-Policy header, static files, session lifetime."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


class ContentSecurityPolicyMiddleware:
    """Add a strict Content-Security-Policy (no inline script or style, nothing off-site).

    It sits above the static files middleware so static responses carry it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.policy: str = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, plus GOV.UK Frontend's ``assets`` folder at ``/assets/``.

    GOV.UK Frontend's precompiled CSS refers to its fonts and images as ``/assets/...``, so the
    folder is served there as well as under ``STATIC_URL``.
    """

    def __init__(self, get_response: Any = None, settings: Any = settings) -> None:
        super().__init__(get_response, settings)
        assets = settings.GOVUK_FRONTEND_DIR / "assets"
        if assets.is_dir():
            self.add_files(str(assets), prefix="assets/")


class SessionLifetimeMiddleware:
    """End a session ``SESSION_ABSOLUTE_AGE`` seconds after signing in, however active.

    (The idle limit is Django's own: ``SESSION_COOKIE_AGE`` renewed on every request.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.limit: int = settings.SESSION_ABSOLUTE_AGE

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from cwsw.web.accounts.signals import SIGNED_IN_AT

        if request.user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            if not isinstance(started, int) or time.time() - started > self.limit:
                logout(request)
        return self.get_response(request)
