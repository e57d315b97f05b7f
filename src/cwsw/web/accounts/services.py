"""Roles (Django groups) and the demo's user accounts."""

from __future__ import annotations

import secrets

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import transaction

# Role (group name) -> what it is for (DOMAIN.md §1).
ROLES: dict[str, str] = {
    "vsh": "Virtual School Head or education adviser: aggregate views",
    "analyst": "Local authority analyst: loads data, checks quality, runs analyses",
    "admin": "Administrator: manages accounts",
}
# Demo accounts: (username, role). One per role.
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("vsh", "vsh"),
    ("analyst", "analyst"),
    ("admin", "admin"),
)
AGGREGATE_ROLES = frozenset(ROLES)


def ensure_roles() -> dict[str, Group]:
    """Create the role groups that do not exist yet; return them by name."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}


def create_demo_users() -> list[tuple[str, str, str]]:
    """Create (or reset) one demo account per role; return ``(username, password, role)``.

    Idempotent: an existing account gets a new random password. Passwords are generated here,
    stored only as hashes, and returned once so the caller (``cwsw demo``) can print them.
    """
    created: list[tuple[str, str, str]] = []
    with transaction.atomic():
        groups = ensure_roles()
        for username, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.save()
            user.groups.set([groups[role]])
            created.append((username, password, role))
    return created


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The roles a user holds (none when signed out or inactive)."""
    if not isinstance(user, User) or not user.is_active:
        return frozenset()
    names = user.groups.filter(name__in=ROLES).values_list("name", flat=True)
    return frozenset(names)


def has_any_role(user: AbstractBaseUser | AnonymousUser, roles: frozenset[str]) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or bool(
        user_roles(user) & roles
    )
