"""Roles, the groups of roles pages are built for, and the demo's user accounts."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from cwsw.web.accounts.models import Role, User

ROLES: dict[str, str] = {role.value: role.label for role in Role}
ALL_ROLES = frozenset(ROLES)
# Strategic roles: aggregate, suppressed figures only.
AGGREGATE_ROLES = frozenset({Role.VSH.value, Role.ADVISER.value})
# Roles that see individual children, each within its own scope (accounts/rules.py).
CHILD_LEVEL_ROLES = frozenset(
    {Role.ADVISORY_TEACHER.value, Role.SCHOOL_DSL.value, Role.ANALYST.value}
)
# Roles that see names, dates of birth and UPNs (the analyst sees pseudonymised children).
NAMED_CHILD_ROLES = frozenset({Role.ADVISORY_TEACHER.value, Role.SCHOOL_DSL.value})

# Demo accounts: (username, role). One per role.
DEMO_USERS: tuple[tuple[str, str], ...] = tuple((role.value, role.value) for role in Role)
DEMO_CASELOAD_SIZE = 12


def role_of(user: AbstractBaseUser | AnonymousUser) -> str:
    """The role of a signed-in, active user; "" for nobody or an account without a role."""
    if not isinstance(user, User) or not user.is_active:
        return ""
    return user.role


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    role = role_of(user)
    return frozenset({role}) if role else frozenset()


def create_demo_users(warehouse_path: Path | None = None) -> list[tuple[str, str, str]]:
    """Create (or reset) one demo account per role; return ``(username, password, role)``.

    Idempotent: an existing account gets a new random password. Passwords are generated here,
    stored only as hashes, and returned once so the caller (``cwsw demo``) can print them.
    With a built warehouse, the DSL gets the school with most pupils who have had a social
    worker and the advisory teacher a caseload of such children (synthetic data only).
    """
    from cwsw.web.children import services as children

    demo = children.demo_assignments(warehouse_path, DEMO_CASELOAD_SIZE)
    created: list[tuple[str, str, str]] = []
    with transaction.atomic():
        for username, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.role = role
            user.school_laestab = demo.laestab if role == Role.SCHOOL_DSL else ""
            user.save()
            if role == Role.ADVISORY_TEACHER:
                children.set_caseload(user, demo.caseload, added_by=None)
            created.append((username, password, role))
    return created
