"""Who may call which view: every view declares its rule, and a view without one is refused.

A rule is attached to the view function by :func:`access` (or :func:`public` for the sign-in
page). :class:`DefaultDenyMiddleware` reads it before any view runs: no rule, 403; a rule that
needs a signed-in user and nobody is signed in, the sign-in page; a role the rule does not name,
403 (and one ``denied`` audit row). Object-level checks (this child, this school) are made by the
view through :mod:`cwsw.web.accounts.rules` once it knows which object is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.views.defaults import permission_denied

log = logging.getLogger(__name__)

ATTRIBUTE = "cwsw_access"
View = Callable[..., Any]


@dataclass(frozen=True)
class Rule:
    """``roles``: who may call the view (empty with ``public``: anybody, signed in or not).

    ``child_level``: the view shows named or pseudonymised children (audited, never cached).
    ``signed_in_any_role``: any signed-in account, even without a role (signing out).
    """

    roles: frozenset[str] = frozenset()
    public: bool = False
    child_level: bool = False
    signed_in_any_role: bool = False

    def allows(self, role: str) -> bool:
        return self.public or self.signed_in_any_role or role in self.roles


def access(roles: Iterable[str], *, child_level: bool = False) -> Callable[[View], View]:
    """Declare that the view is for signed-in users holding one of ``roles``."""
    rule = Rule(roles=frozenset(roles), child_level=child_level)
    if not rule.roles:
        raise ValueError("a view needs at least one role (or @public)")
    return _declare(rule)


def public(view: View) -> View:
    """Declare that the view is for anybody (the sign-in page only)."""
    from django.contrib.auth.decorators import login_not_required

    return _declare(Rule(public=True))(login_not_required(view))


def signed_in(view: View) -> View:
    """Declare that the view is for any signed-in account (signing out)."""
    return _declare(Rule(signed_in_any_role=True))(view)


def _declare(rule: Rule) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        setattr(view, ATTRIBUTE, rule)
        return view

    return decorator


def rule_of(view: Any) -> Rule | None:
    """The rule a view declared (through any wrapping decorator), or None."""
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Rule) else None


class DefaultDenyMiddleware:
    """Refuse every resolved view that has not declared a rule, and apply the rule's roles."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: View, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        from cwsw.web.accounts.services import role_of
        from cwsw.web.audit import services as audit

        rule = rule_of(view)
        if rule is None:
            name = getattr(request.resolver_match, "view_name", "?")
            log.error("view %s declares no access rule: refused", name)
            return _refuse(request, "This page has no access rule")
        if rule.public:
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not user.is_active:
            return _refuse(request, "This account is not active")
        if not rule.allows(role_of(user)):
            audit.record_request(
                request,
                audit.Action.DENIED,
                object_type="page",
                object_ref=getattr(request.resolver_match, "view_name", "") or "",
                child_key=_child_key(kwargs),
            )
            return _refuse(request, "Your account does not have a role that can see this page")
        return None


def _refuse(request: HttpRequest, reason: str) -> HttpResponseBase:
    """The 403 page, returned rather than raised: a refusal is expected, not a traceback."""
    return permission_denied(request, PermissionDenied(reason))


def _child_key(kwargs: Any) -> str:
    """The child key a refused URL named, if it has the shape of one (for the audit row)."""
    from cwsw.web.children.keys import is_key

    key = kwargs.get("key", "") if isinstance(kwargs, dict) else ""
    return key if isinstance(key, str) and is_key(key) else ""
