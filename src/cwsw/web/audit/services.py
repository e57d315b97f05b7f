"""Writing the audit log. Every view and every sign-in event goes through :func:`record`."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User

from cwsw.web.audit.models import AuditEvent

Action = AuditEvent.Action


def record(
    action: str,
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    object_type: str = "",
    object_ref: str = "",
) -> AuditEvent:
    """Append one audit row. ``user`` is whoever is signed in (None or anonymous: nobody)."""
    if action not in Action.values:
        raise ValueError(f"Unknown audit action {action!r}")
    actor = user if isinstance(user, User) else None
    return AuditEvent.objects.create(
        user=actor,
        actor=actor.get_username() if actor is not None else "",
        action=action,
        object_type=object_type[:64],
        object_ref=object_ref[:200],
    )
