"""Values every page template needs: the service name and the signed-in role's menu."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from cwsw.web.accounts.models import Role
from cwsw.web.accounts.second_factor import SECOND_FACTOR_ROLES
from cwsw.web.accounts.services import ALL_ROLES, role_of

SERVICE_NAME = "Children with a social worker"


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    active: bool


# (URL name, label, roles it is shown to): only pages the role may open.
MENU: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("insight:dashboard", "Dashboard", ALL_ROLES),
    ("insight:breakdowns", "Breakdowns", ALL_ROLES),
    ("insight:overlaps", "FSM and SEN", ALL_ROLES),
    ("insight:schools", "Schools", ALL_ROLES),
    ("children:school", "Your pupils", frozenset({Role.SCHOOL_DSL.value})),
    ("children:caseload", "Caseload", frozenset({Role.ADVISORY_TEACHER.value})),
    ("data:loads", "Loads", frozenset({Role.ANALYST.value})),
    ("data:review", "Linkage review", frozenset({Role.ANALYST.value})),
    ("audit:search", "Audit log", frozenset({Role.ADMIN.value})),
    ("accounts:users", "Accounts", frozenset({Role.ADMIN.value})),
    ("accounts:second_factor_setup", "Authenticator app", SECOND_FACTOR_ROLES),
)


def service(request: HttpRequest) -> dict[str, object]:
    role = role_of(getattr(request, "user", None))  # type: ignore[arg-type]
    nav = []
    for name, label, roles in MENU:
        if role in roles:
            url = reverse(name)
            nav.append(NavItem(url, label, request.path == url))
    # Shown on every page while a threshold below the floor is allowed (issue 14).
    warning = settings.CWSW.suppression_warning
    return {"service_name": SERVICE_NAME, "nav": nav, "suppression_warning": warning}
