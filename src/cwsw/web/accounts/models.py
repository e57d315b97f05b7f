"""The user account: one role each, and the school a designated safeguarding lead works in."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


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
