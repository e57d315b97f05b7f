"""Writing and searching the audit log. Every audited event goes through :func:`record`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from cwsw.web.accounts.models import User
from cwsw.web.audit.models import AuditEvent

Action = AuditEvent.Action
SEARCH_LIMIT = 500


def record(
    action: str,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    object_type: str = "",
    object_ref: str = "",
    child_key: str = "",
    ip_address: str | None = None,
    details: str = "",
) -> AuditEvent:
    """Append one audit row. ``user`` is whoever is signed in (None or anonymous: nobody)."""
    event = _event(action, user, object_type, object_ref, child_key, ip_address, details)
    event.save(force_insert=True)
    return event


def _event(
    action: str,
    user: AbstractBaseUser | AnonymousUser | None,
    object_type: str,
    object_ref: str,
    child_key: str,
    ip_address: str | None,
    details: str = "",
    at: dt.datetime | None = None,
) -> AuditEvent:
    """One audit row, not yet saved: the fields cut to their columns' lengths."""
    if action not in Action.values:
        raise ValueError(f"Unknown audit action {action!r}")
    actor = user if isinstance(user, User) else None
    return AuditEvent(
        at=at or timezone.now(),
        user=actor,
        actor=actor.get_username() if actor is not None else "",
        role=actor.role if actor is not None else "",
        action=action,
        object_type=object_type[:64],
        object_ref=object_ref[:200],
        child_key=child_key[:32],
        ip_address=ip_address,
        details=details[:200],
    )


def client_address(request: HttpRequest | None) -> str | None:
    """Where the request came from: the socket's address (a proxy's is configured there)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    return str(address) if address else None


def record_request(
    request: HttpRequest | None,
    action: str,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    object_type: str = "",
    object_ref: str = "",
    child_key: str = "",
    details: str = "",
) -> AuditEvent:
    """:func:`record` for a request: the user signed in on it (unless given) and its address."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    return record(
        action,
        user=user,
        object_type=object_type,
        object_ref=object_ref,
        child_key=child_key,
        ip_address=client_address(request),
        details=details,
    )


def record_children_shown(
    request: HttpRequest,
    action: str,
    *,
    object_type: str,
    child_keys: Iterable[str],
    object_ref: str = "",
) -> list[AuditEvent]:
    """The audit of a page or export that shows named children (ADR 0016): one row per child
    shown, each with that child's key and the page's ``object_type`` and ``object_ref`` (its
    summary: a school, a count), all with one time, in one INSERT (on SQLite, one per about 100
    rows: Django gives it 999 parameters a statement). A page that shows nobody still writes one
    row, naming no child."""
    user = getattr(request, "user", None)
    shown = list(dict.fromkeys(key[:32] for key in child_keys if key)) or [""]
    at = timezone.now()
    address = client_address(request)
    return AuditEvent.objects.bulk_create(
        _event(action, user, object_type, object_ref, key, address, at=at) for key in shown
    )


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    action: str = ""
    child_key: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def search(query: AuditQuery) -> QuerySet[AuditEvent]:
    """Events matching every given field, newest first (at most ``SEARCH_LIMIT``)."""
    events = AuditEvent.objects.all()
    if query.actor:
        events = events.filter(actor=query.actor)
    if query.action:
        events = events.filter(action=query.action)
    if query.child_key:
        events = events.filter(child_key=query.child_key)
    if query.since is not None:
        events = events.filter(at__date__gte=query.since)
    if query.until is not None:
        events = events.filter(at__date__lte=query.until)
    return events.order_by("-at", "-id")[:SEARCH_LIMIT]
