"""The access audit log: who, in which role, did what, to which child, when, from where.

Append-only: the model refuses updates and deletes, there is no admin or page that changes a
row, and on PostgreSQL a trigger refuses UPDATE and DELETE from any client (migration 0002).
No personal data: a child is their pseudonymous key, never a name, a date of birth or a UPN.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(ValueError):
    """Somebody tried to change or delete an audit row."""


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only")


class AuditEvent(models.Model):
    """One row per sign-in, sign-out, failed sign-in, page view, search, export, change and
    refused request."""

    class Action(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGOUT = "logout", "Signed out"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        EXPORT = "export", "Exported"
        CHANGE = "change", "Changed"
        DENIED = "denied", "Refused"

    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The username and role at the time; "" when nobody signed in.
    actor = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_ref = models.CharField(max_length=200, blank=True)
    # The pseudonymous key of the child concerned (children.keys), if one.
    child_key = models.CharField(max_length=32, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # More about the event, never personal data or a secret: for a failed sign-in, the
    # username tried (normalised and truncated: accounts.usernames.for_audit).
    details = models.CharField(max_length=200, blank=True, default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        indexes = (models.Index(fields=("action", "at")), models.Index(fields=("actor", "at")))
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor or '-'} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only")
