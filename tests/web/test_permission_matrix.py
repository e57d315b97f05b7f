"""The permission matrix: every URL x every role x an owned and a not-owned object.

The URLs come from the URL conf: a URL missing from ``MATRIX`` fails
``test_every_url_is_in_the_matrix``, and a view without a declared rule is refused by the
middleware (``test_a_view_without_a_rule_is_refused``). Every child-level page served writes
exactly one audit row naming the user, role, action, child and address; every refusal one
``denied`` row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cwsw.web.access import rule_of
from cwsw.web.accounts.second_factor import SECOND_FACTOR_ROLES
from cwsw.web.accounts.services import ROLES as ACCOUNT_ROLES
from cwsw.web.audit.models import AuditEvent
from cwsw.web.children.keys import child_key
from tests.web import child_data
from tests.web.conftest import NO_ROLE

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/sign-in/"
ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, NO_ROLE, *ACCOUNT_ROLES)
TO_LOGIN = "login"  # a redirect to the sign-in page with ?next=


@dataclass(frozen=True)
class Case:
    """How to call one URL: the owned and the not-owned object's arguments, and what each
    role gets (owned, not owned). Roles not named get 403; anonymous gets the sign-in page."""

    expect: dict[str, tuple[int | str, int | str]]
    owned: dict[str, Any] = field(default_factory=dict)
    not_owned: dict[str, Any] = field(default_factory=dict)
    method: str = "get"
    data: dict[str, str] = field(default_factory=dict)
    anonymous: int | str = TO_LOGIN


def both(status: int | str) -> tuple[int | str, int | str]:
    return (status, status)


SIGNED_IN = tuple(ACCOUNT_ROLES)
OWNED_CHILD = {"key": "C001"}
OTHER_CHILD = {"key": "C002"}
TEACHER = {"username": "advisory_teacher"}
NOBODY = {"username": "nobody"}

MATRIX: dict[str, Case] = {
    "accounts:login": Case(
        expect={role: both(302) for role in (NO_ROLE, *SIGNED_IN)}, anonymous=200
    ),
    "accounts:logout": Case(
        expect={role: both(302) for role in (NO_ROLE, *SIGNED_IN)}, method="post"
    ),
    "insight:dashboard": Case(expect={role: both(200) for role in SIGNED_IN}),
    # Aggregate pages (ADR 0010): every role, suppressed figures; a DSL's school rows are
    # limited to their own school (tests/web/test_web_insight.py).
    "insight:breakdowns": Case(expect={role: both(200) for role in SIGNED_IN}),
    "insight:overlaps": Case(expect={role: both(200) for role in SIGNED_IN}),
    "insight:schools": Case(expect={role: both(200) for role in SIGNED_IN}),
    "children:school": Case(expect={"school_dsl": both(200)}),
    "children:school_export": Case(expect={"school_dsl": both(200)}),
    "children:caseload": Case(expect={"advisory_teacher": both(200)}),
    "children:profile": Case(
        expect={
            "advisory_teacher": (200, 403),
            "school_dsl": (200, 403),
            "analyst": (200, 200),
        },
        owned=OWNED_CHILD,
        not_owned=OTHER_CHILD,
    ),
    "data:loads": Case(expect={"analyst": both(200)}),
    "data:load": Case(
        expect={"analyst": (200, 404)}, owned={"load_id": 2}, not_owned={"load_id": 999}
    ),
    "data:review": Case(expect={"analyst": both(200)}),
    "data:decide": Case(
        expect={"analyst": both(302)},
        method="post",
        data={
            "la_child_id": child_data.REVIEW_PAIR[0],
            "upn": child_data.REVIEW_PAIR[1],
            "decision": "reject",
            "reason": "different dates of birth",
        },
    ),
    "audit:search": Case(expect={"admin": both(200)}),
    # The second factor and one-time passwords (ADR 0012). Without an app, the code page sends
    # the account to set one up.
    "accounts:second_factor": Case(expect={role: both(302) for role in SECOND_FACTOR_ROLES}),
    "accounts:second_factor_setup": Case(expect={role: both(200) for role in SECOND_FACTOR_ROLES}),
    "accounts:password_change": Case(expect={role: both(200) for role in SIGNED_IN}),
    # Recovery codes (ADR 0015): without an app, the page sends the account to set one up.
    "accounts:recovery_codes": Case(expect={role: both(302) for role in SECOND_FACTOR_ROLES}),
    # A second person's approval of caseload additions (ADR 0015): VSH and advisers. The
    # fixtures hold no pending request, so deciding one finds nothing.
    "accounts:caseload_requests": Case(expect={"vsh": both(200), "adviser": both(200)}),
    "accounts:caseload_request_decide": Case(
        expect={"vsh": both(404), "adviser": both(404)},
        owned={"pk": 1},
        method="post",
        data={"decision": "approve"},
    ),
    # The administrator's account and caseload pages: another account, and one that is not.
    "accounts:users": Case(expect={"admin": both(200)}),
    "accounts:user_new": Case(expect={"admin": both(200)}),
    "accounts:user": Case(expect={"admin": (200, 404)}, owned=TEACHER, not_owned=NOBODY),
    "accounts:user_role": Case(
        expect={"admin": (302, 404)},
        owned=TEACHER,
        not_owned=NOBODY,
        method="post",
        data={"role": "analyst", "school_laestab": ""},
    ),
    "accounts:user_active": Case(
        expect={"admin": (302, 404)},
        owned=TEACHER,
        not_owned=NOBODY,
        method="post",
        data={"active": "0"},
    ),
    "accounts:user_password": Case(
        expect={"admin": (200, 404)}, owned=TEACHER, not_owned=NOBODY, method="post"
    ),
    "accounts:user_second_factor": Case(
        expect={"admin": (302, 404)}, owned=TEACHER, not_owned=NOBODY, method="post"
    ),
    "accounts:user_unlock": Case(
        expect={"admin": (302, 404)}, owned=TEACHER, not_owned=NOBODY, method="post"
    ),
    "accounts:caseload_add": Case(
        expect={"admin": (302, 404)},
        owned=TEACHER,
        not_owned=NOBODY,
        method="post",
        data={"child": "C002"},
    ),
    "accounts:caseload_remove": Case(
        expect={"admin": (302, 404)},
        owned=TEACHER,
        not_owned=NOBODY,
        method="post",
        data={"key": "0" * 20},
    ),
}


def url_names(patterns: list[Any], namespace: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"URL {pattern.pattern} has no name"
            found.append((f"{namespace}{pattern.name}", pattern.callback))
    return found


def test_every_url_is_in_the_matrix() -> None:
    names = dict(url_names(get_resolver().url_patterns))
    assert set(names) == set(MATRIX), "add each new URL to MATRIX with every role's status"


def test_every_view_declares_a_rule() -> None:
    for name, view in url_names(get_resolver().url_patterns):
        assert rule_of(view) is not None, f"{name} declares no access rule"


def _kwargs(given: dict[str, Any]) -> dict[str, Any]:
    out = dict(given)
    if "key" in out:
        out["key"] = child_key(out["key"])
    return out


CASES = [
    (name, role, owned)
    for name in MATRIX
    for role in ROLES
    for owned in (True, False)
    if owned or MATRIX[name].not_owned  # URLs without objects: one call per role
]


@pytest.mark.parametrize(("name", "role", "owned"), CASES)
def test_matrix(
    client: Client,
    child_site: Any,
    accounts: dict[str, Any],
    no_summary: None,
    name: str,
    role: str,
    owned: bool,
) -> None:
    case = MATRIX[name]
    kwargs = _kwargs(case.owned if owned else case.not_owned)
    url = reverse(name, kwargs=kwargs or None)
    if role == ANONYMOUS:
        expected = case.anonymous
    else:
        expected = case.expect.get(role, (403, 403))[0 if owned else 1]
        client.force_login(accounts[role])
    before = AuditEvent.objects.count()
    response = getattr(client, case.method)(url, case.data)

    if expected == TO_LOGIN:
        assert response.status_code == 302, (name, role)
        assert response["Location"] == f"{LOGIN}?next={url}", (name, role)
        assert AuditEvent.objects.count() == before
        return
    assert response.status_code == expected, (name, role, owned)
    if role == ANONYMOUS or name.startswith("accounts:"):
        return
    rule = rule_of(response.resolver_match.func)
    assert rule is not None
    rows = list(AuditEvent.objects.order_by("id")[before:])
    if expected == 403:
        assert [r.action for r in rows] == ["denied"], (name, role)
    elif rule.child_level:
        assert len(rows) == 1, (name, role, [r.action for r in rows])
    if not rows:
        return
    row = rows[0]
    assert (row.actor, row.role, row.user_id) == (role, accounts[role].role, accounts[role].pk)
    assert row.ip_address == "127.0.0.1"
    if name == "children:profile" and expected in (200, 403):
        assert row.child_key == kwargs["key"]
        assert row.action == ("view" if expected == 200 else "denied")
        allowed = role in rule.roles
        assert row.object_type == ("child_profile" if allowed else "page")


@pytest.mark.urls("tests.web.undeclared_urls")
def test_a_view_without_a_rule_is_refused(client: Client, accounts: dict[str, Any]) -> None:
    client.force_login(accounts["admin"])
    response = client.get("/undeclared/")
    assert response.status_code == 403
    assert b"never be served" not in response.content
    anonymous = Client()
    assert anonymous.get("/undeclared/").status_code == 302
