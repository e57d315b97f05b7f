"""Lockout after failed sign-ins (django-axes 8, ``AXES_HANDLER``; ADR 0015).

Two counts, each against its own limit, within the cool-off time (30 minutes):

- **the account** (username, normalised as it is stored): ``AXES_FAILURE_LIMIT`` (5) failures
  from anywhere, whatever the browser or address, lock it;
- **the address**: ``AXES_ADDRESS_FAILURE_LIMIT`` (20) failures across any usernames lock it,
  so one address cannot lock out many accounts quickly (a council office shares an address,
  hence the higher limit).

The browser (User-Agent) counts for nothing: a client chooses it freely. A successful sign-in
clears the account's failures only, never the address's (else anyone with an account could
wipe an address's count by signing in). Wrong second-factor codes count as failures too
(:mod:`cwsw.web.accounts.second_factor`).
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from cwsw.web.accounts.usernames import normalise


def username_of(request: Any, credentials: dict[str, Any] | None = None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the username tried, normalised as usernames are stored."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    typed = credentials.get(field) if credentials else getattr(request, "POST", {}).get(field)
    return normalise(str(typed)) if typed is not None else None


def _recent() -> QuerySet[AccessAttempt]:
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.all()
    if cool_off is None:
        return attempts
    return attempts.filter(attempt_time__gte=timezone.now() - cool_off)


def _sum(attempts: QuerySet[AccessAttempt]) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


def account_failures(username: str) -> int:
    """Failed sign-ins (and codes) counted against the account now, from any client."""
    return _sum(_recent().filter(username=username))


def account_locked(username: str) -> bool:
    return account_failures(username) >= int(settings.AXES_FAILURE_LIMIT)


class AccountLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, counting the account and the address against their own limits."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """Failures in units of the account's limit: the larger of the two counts."""
        username = get_client_username(request, credentials)
        by_account = account_failures(username) if username else 0
        address = getattr(request, "axes_ip_address", None)
        by_address = _sum(_recent().filter(ip_address=address)) if address else 0
        limit = int(get_failure_limit(request, credentials))
        scaled = by_address * limit // int(settings.AXES_ADDRESS_FAILURE_LIMIT)
        return max(by_account, scaled)

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """On a successful sign-in: clear the account's failures, not the address's."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return int(count)
