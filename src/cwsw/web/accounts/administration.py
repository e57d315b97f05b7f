"""What an administrator changes: accounts, roles, passwords, second factors and caseloads.

Each change is one transaction with one audit row (``change``: who changed what for whom). The
row names the account changed by username and a child by pseudonymous key, never by LA child ID.
Passwords set here are one-time: shown once to the administrator, stored only as a hash, and
changed by the account holder at their next sign-in. Accounts are deactivated, never deleted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset as reset_lockout
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from cwsw.web.accounts import second_factor
from cwsw.web.accounts.models import Role, User
from cwsw.web.audit import services as audit
from cwsw.web.children import keys
from cwsw.web.children import services as children
from cwsw.web.children.models import CaseloadEntry


class RefusedChange(ValueError):
    """A change an administrator may not make (shown to them as an error message)."""


def one_time_password() -> str:
    """16 random URL-safe characters (96 bits): passes the password policy, typed once."""
    return secrets.token_urlsafe(12)


def _record(request: HttpRequest, user: User, what: str, child_key: str = "") -> None:
    audit.record_request(
        request,
        audit.Action.CHANGE,
        object_type="account",
        object_ref=f"{user.get_username()}: {what}",
        child_key=child_key,
    )


def create_account(request: HttpRequest, username: str, role: str, laestab: str) -> str:
    """Create an active account with a role; return its one-time password."""
    password = one_time_password()
    with transaction.atomic():
        user = User(username=username, role=role, school_laestab=laestab)
        user.set_password(password)
        user.must_change_password = True
        user.save()
        _record(request, user, f"created as {role}" + (f" at {laestab}" if laestab else ""))
    return password


def _not_yourself(request: HttpRequest, user: User, what: str) -> None:
    if user.pk == getattr(request.user, "pk", None):
        raise RefusedChange(f"You cannot {what} your own account: ask another administrator")


def set_role(request: HttpRequest, user: User, role: str, laestab: str) -> None:
    """Change an account's role (and a DSL's school). A caseload goes with the teacher role."""
    _not_yourself(request, user, "change the role of")
    if (user.role, user.school_laestab) == (role, laestab):
        return
    with transaction.atomic():
        was = user.role + (f" at {user.school_laestab}" if user.school_laestab else "")
        user.role, user.school_laestab = role, laestab
        user.save(update_fields=["role", "school_laestab"])
        cleared = 0
        if role != Role.ADVISORY_TEACHER:
            cleared, _ = CaseloadEntry.objects.filter(teacher=user).delete()
        now = role + (f" at {laestab}" if laestab else "")
        note = f"; caseload of {cleared} cleared" if cleared else ""
        _record(request, user, f"role {was or 'none'} -> {now}{note}")


def set_active(request: HttpRequest, user: User, active: bool) -> None:
    """Deactivate (every session of theirs ends at once) or reactivate an account."""
    if not active:
        _not_yourself(request, user, "deactivate")
    if user.is_active == active:
        return
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        _record(request, user, "reactivated" if active else "deactivated")


def reset_password(request: HttpRequest, user: User) -> str:
    """Give an account a new one-time password; its sessions end (the password hash changed)."""
    _not_yourself(request, user, "reset the password of")
    password = one_time_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        _record(request, user, "one-time password set")
    return password


def remove_second_factor(request: HttpRequest, user: User) -> int:
    """Remove an account's authenticator app (lost or replaced phone)."""
    with transaction.atomic():
        removed = second_factor.remove(user)
        if removed:
            _record(request, user, "second factor removed")
    return removed


def is_locked(user: User) -> bool:
    """Has django-axes locked the username (five failed sign-ins or codes, within 30 minutes)?"""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        username=user.get_username(),
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=since,
    ).exists()


def unlock(request: HttpRequest, user: User) -> int:
    """Clear the failed sign-ins counted against the username (the locked page says to ask)."""
    with transaction.atomic():
        cleared = reset_lockout(username=user.get_username())
        if cleared:
            _record(request, user, "unlocked")
    return int(cleared)


@dataclass(frozen=True)
class CaseloadRow:
    la_child_id: str
    key: str


def caseload(user: User) -> list[CaseloadRow]:
    return [CaseloadRow(child, keys.child_key(child)) for child in children.caseload_ids(user)]


def resolve_child(typed: str) -> str:
    """The LA child ID that ``typed`` (an LA child ID or a child key) names in the warehouse.

    Raises :class:`RefusedChange` if no loaded child has it, and
    :class:`children.WarehouseUnavailable` if the warehouse cannot be read now.
    """
    with children.open_warehouse() as warehouse:
        if keys.is_key(typed) and (found := children.find_child(warehouse, typed)) is not None:
            return found
        # An LA child ID is known if its own key finds it (no second lookup to keep in step).
        if children.find_child(warehouse, keys.child_key(typed)) == typed:
            return typed
    raise RefusedChange("No child in the loaded data has this LA child ID or child key")


def add_to_caseload(request: HttpRequest, teacher: User, typed: str) -> str:
    """Put a child on an advisory teacher's caseload; return the child's key."""
    if teacher.role != Role.ADVISORY_TEACHER:
        raise RefusedChange("Only an advisory teacher has a caseload")
    la_child_id = resolve_child(typed)
    key = keys.child_key(la_child_id)
    with transaction.atomic():
        if CaseloadEntry.objects.filter(teacher=teacher, la_child_id=la_child_id).exists():
            raise RefusedChange("This child is already on the caseload")
        by = request.user if isinstance(request.user, User) else None
        CaseloadEntry.objects.create(teacher=teacher, la_child_id=la_child_id, added_by=by)
        _record(request, teacher, "child added to caseload", child_key=key)
    return key


def remove_from_caseload(request: HttpRequest, teacher: User, key: str) -> bool:
    """Take the child with ``key`` off the caseload; False if they were not on it."""
    for entry in CaseloadEntry.objects.filter(teacher=teacher):
        if keys.child_key(entry.la_child_id) == key:
            with transaction.atomic():
                entry.delete()
                _record(request, teacher, "child removed from caseload", child_key=key)
            return True
    return False


def known_school(laestab: str) -> bool | None:
    """Is ``laestab`` a school in the loaded establishments? None: nothing loaded to check."""
    try:
        with children.open_warehouse() as warehouse:
            if "establishment" not in children.tables(warehouse):
                return None
            rows = warehouse.execute(
                "SELECT count(*), count(*) FILTER (WHERE laestab = ?) FROM establishment",
                [laestab],
            )
    except children.WarehouseUnavailable:
        return None
    total, matching = rows[0]
    return None if not total else bool(matching)
