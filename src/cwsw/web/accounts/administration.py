"""What an administrator changes: accounts, roles, passwords, second factors and caseloads.

A child is put on an advisory teacher's caseload only with a second person's approval: the
administrator's addition is a request (``CaseloadRequest``) that a Virtual School Head or an
education adviser approves or rejects (ADR 0015). ``children.services.set_caseload`` stays the
trusted programmatic path (the demo's seeding, the tests' fixtures).

Each change is one transaction with one audit row (``change``: who changed what for whom). The
row names the account changed by username and a child by pseudonymous key, never by LA child ID.
Passwords set here are one-time: shown once to the administrator, stored only as a hash, and
changed by the account holder at their next sign-in. Accounts are deactivated, never deleted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from axes.utils import reset as reset_lockout
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from cwsw.web.accounts import lockout, recovery, second_factor
from cwsw.web.accounts.models import CaseloadRequest, Role, User
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
            CaseloadRequest.objects.filter(
                teacher=user, status=CaseloadRequest.Status.PENDING
            ).update(status=CaseloadRequest.Status.CANCELLED, decided_at=timezone.now())
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
    """Has django-axes locked the account (five failed sign-ins or codes within 30 minutes,
    from any browser and address, counted together)?"""
    return lockout.account_locked(user.get_username())


def recovery_codes_left(user: User) -> int:
    return recovery.left(user)


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
    """Ask for a child to be put on an advisory teacher's caseload; return the child's key.

    The child is on the caseload only once a VSH or an education adviser approves the request
    (:func:`decide_caseload_request`).
    """
    if teacher.role != Role.ADVISORY_TEACHER:
        raise RefusedChange("Only an advisory teacher has a caseload")
    by = request.user
    assert isinstance(by, User)
    la_child_id = resolve_child(typed)
    key = keys.child_key(la_child_id)
    with transaction.atomic():
        if CaseloadEntry.objects.filter(teacher=teacher, la_child_id=la_child_id).exists():
            raise RefusedChange("This child is already on the caseload")
        pending = CaseloadRequest.objects.select_for_update().filter(
            teacher=teacher, la_child_id=la_child_id, status=CaseloadRequest.Status.PENDING
        )
        if pending.exists():
            raise RefusedChange("This child is already waiting for approval")
        CaseloadRequest.objects.create(teacher=teacher, la_child_id=la_child_id, requested_by=by)
        _record(request, teacher, "child added to caseload requested", child_key=key)
    return key


@dataclass(frozen=True)
class PendingRow:
    request_id: int
    teacher: str
    la_child_id: str
    key: str
    requested_by: str
    requested_at: dt.datetime


def pending_requests(teacher: User | None = None) -> list[PendingRow]:
    """The caseload requests waiting for a decision (one teacher's or all), oldest first."""
    pending = CaseloadRequest.objects.filter(status=CaseloadRequest.Status.PENDING)
    if teacher is not None:
        pending = pending.filter(teacher=teacher)
    rows = pending.select_related("teacher", "requested_by").order_by("requested_at", "id")
    return [
        PendingRow(
            row.pk,
            row.teacher.get_username(),
            row.la_child_id,
            keys.child_key(row.la_child_id),
            row.requested_by.get_username(),
            row.requested_at,
        )
        for row in rows
    ]


class NoSuchRequest(LookupError):
    """No pending caseload request has this id (decided, cancelled or never made)."""


def decide_caseload_request(request: HttpRequest, request_id: int, approve: bool) -> str:
    """Approve (the child joins the caseload) or reject a pending request; return the child's key.

    The second person is whoever is signed in: the view lets only a VSH or an education adviser
    call this, so the administrator who asked cannot approve their own request.
    """
    decider = request.user
    assert isinstance(decider, User)
    with transaction.atomic():
        found = (
            CaseloadRequest.objects.select_for_update()
            .select_related("teacher")
            .filter(pk=request_id, status=CaseloadRequest.Status.PENDING)
            .first()
        )
        if found is None or found.teacher.role != Role.ADVISORY_TEACHER:
            raise NoSuchRequest(request_id)
        if found.requested_by_id == decider.pk:
            raise RefusedChange("You cannot decide a request you made")
        found.status = (
            CaseloadRequest.Status.APPROVED if approve else CaseloadRequest.Status.REJECTED
        )
        found.decided_by, found.decided_at = decider, timezone.now()
        found.save(update_fields=["status", "decided_by", "decided_at"])
        key = keys.child_key(found.la_child_id)
        if approve:
            CaseloadEntry.objects.get_or_create(
                teacher=found.teacher,
                la_child_id=found.la_child_id,
                defaults={"added_by": found.requested_by},
            )
        what = "approved" if approve else "rejected"
        audit.record_request(
            request,
            audit.Action.CHANGE,
            object_type="caseload_request",
            object_ref=f"{found.teacher.get_username()}: child added to caseload {what}",
            child_key=key,
        )
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
