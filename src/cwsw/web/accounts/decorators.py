"""View decorators for role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from cwsw.web.accounts.services import has_any_role

View = Callable[..., HttpResponse]


def role_required(roles: frozenset[str]) -> Callable[[View], View]:
    """Allow signed-in users holding one of ``roles`` (or superusers); others get a 403 page.

    Signing in itself is enforced for every view by ``LoginRequiredMiddleware``.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_any_role(request.user, roles):
                raise PermissionDenied("Your account does not have a role that can see this page")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
