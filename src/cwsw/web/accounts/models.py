"""The user account: one role each, and the school a designated safeguarding lead works in."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    """The roles (docs/domain.md §1). What each may see is declared view by view (``access``)."""

    VSH = "vsh", "Virtual School Head"
    ADVISER = "adviser", "Education adviser"
    ADVISORY_TEACHER = "advisory_teacher", "Advisory teacher"
    SCHOOL_DSL = "school_dsl", "School designated safeguarding lead"
    ANALYST = "analyst", "Local authority analyst"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):
    """A person who signs in. ``role`` is empty until an administrator gives one: no access.

    One role per account keeps every permission question a lookup in one table (ADR 0005).
    ``school_laestab`` is the DfE LA + establishment number of a DSL's school.
    ``must_change_password``: the password is a one-time one an administrator set (ADR 0012).
    Accounts are deactivated, never deleted: the audit log refers to them.
    """

    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    school_laestab = models.CharField(max_length=7, blank=True)
    must_change_password = models.BooleanField(default=False)

    class Meta:
        db_table = "accounts_user"
        constraints = (
            models.CheckConstraint(
                condition=~models.Q(role=Role.SCHOOL_DSL) | ~models.Q(school_laestab=""),
                name="accounts_user_dsl_has_school",
            ),
        )


class RecoveryCode(models.Model):
    """One recovery code of an account's set (ADR 0015): usable once instead of a TOTP code.

    Only a salted scrypt digest is kept (``accounts.recovery``); the code itself is shown once,
    when the set is made, and is in no row and no log.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code {self.pk}"


class CaseloadRequest(models.Model):
    """An administrator's request to put a child on an advisory teacher's caseload (ADR 0015).

    A second person, a Virtual School Head or an education adviser, approves or rejects it; the
    child is on the caseload (``children.CaseloadEntry``) only once it is approved. A pending
    request is cancelled if the teacher's role changes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    teacher = models.ForeignKey(User, on_delete=models.PROTECT, related_name="caseload_requests")
    la_child_id = models.CharField(max_length=64)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("teacher", "la_child_id"),
                condition=models.Q(status="pending"),
                name="caseload_request_pending_once",
            ),
        )

    def __str__(self) -> str:
        return f"caseload request {self.pk}"
