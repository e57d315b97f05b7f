"""The DSL's school page and export, the advisory teacher's caseload, and the child profile.

Thin: each view checks its object through ``cwsw.view_child`` where there is one, writes its
audit rows (the profile one; a list or export one per child it shows, ADR 0016) and renders what
:mod:`cwsw.web.children.services` read.
"""

from __future__ import annotations

import csv

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cwsw.domain.calendar import census_term_label
from cwsw.warehouse.snapshot import WarehouseUnavailable
from cwsw.web.access import access
from cwsw.web.accounts.models import Role, User
from cwsw.web.accounts.rules import VIEW_CHILD
from cwsw.web.accounts.services import CHILD_LEVEL_ROLES, NAMED_CHILD_ROLES, role_of
from cwsw.web.audit import services as audit
from cwsw.web.children import services

SEARCH_MAX = 100


def unavailable(request: HttpRequest, error: WarehouseUnavailable) -> HttpResponse:
    """The warehouse is not built or is being written: a plain 503 page, no traceback."""
    return render(request, "children/unavailable.html", {"message": str(error)}, status=503)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # DefaultDenyMiddleware let a signed-in user in
    return request.user


@require_safe
@never_cache
@access({Role.SCHOOL_DSL}, child_level=True)
def school(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    search = request.GET.get("q", "")[:SEARCH_MAX]
    try:
        with services.open_warehouse() as warehouse:
            page = services.school_pupils(warehouse, user.school_laestab, search)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    # What was searched for may be a name: the rows keep the school, the count and each child
    # shown (their key), never the words typed.
    audit.record_children_shown(
        request,
        audit.Action.SEARCH if search.strip() else audit.Action.VIEW,
        object_type="school_pupils",
        object_ref=f"{user.school_laestab} ({len(page.pupils)} pupils)",
        child_keys=[p.key for p in page.pupils],
    )
    return render(
        request,
        "children/school.html",
        {"page": page, "search": search, "term": census_term_label(page.term or "")},
    )


CSV_COLUMNS = (
    "key",
    "forename",
    "surname",
    "date_of_birth",
    "year_group",
    "social_care_status",
    "attendance_percent",
    "suspensions",
    "permanent_exclusions",
    "sen_provision",
    "fsm",
)


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_safe
@never_cache
@access({Role.SCHOOL_DSL}, child_level=True)
def school_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        with services.open_warehouse() as warehouse:
            page = services.school_pupils(warehouse, user.school_laestab)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    audit.record_children_shown(
        request,
        audit.Action.EXPORT,
        object_type="school_pupils_csv",
        object_ref=f"{user.school_laestab} ({len(page.pupils)} pupils)",
        child_keys=[p.key for p in page.pupils],
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pupils-with-a-social-worker.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for p in page.pupils:
        row = (
            p.key,
            p.forename,
            p.surname,
            p.birth_date.isoformat() if p.birth_date else "",
            p.year_group,
            p.status,
            p.attendance,
            p.suspensions,
            p.permanent_exclusions,
            p.sen_provision,
            "yes" if p.fsm else "no",
        )
        writer.writerow([csv_cell(value) for value in row])
    return response


@require_safe
@never_cache
@access({Role.ADVISORY_TEACHER}, child_level=True)
def caseload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    ids = services.caseload_ids(user)
    try:
        with services.open_warehouse() as warehouse:
            children = services.caseload(warehouse, ids)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    audit.record_children_shown(
        request,
        audit.Action.VIEW,
        object_type="caseload",
        object_ref=f"{len(children)} children",
        child_keys=[c.key for c in children],
    )
    return render(request, "children/caseload.html", {"children": children})


@require_safe
@never_cache
@access(CHILD_LEVEL_ROLES, child_level=True)
def profile(request: HttpRequest, key: str) -> HttpResponse:
    user = _user(request)
    try:
        with services.open_warehouse() as warehouse:
            la_child_id = services.find_child(warehouse, key)
            if la_child_id is None:
                raise Http404("No child has this key")
            scope = services.child_scope(warehouse, la_child_id)
            if not user.has_perm(VIEW_CHILD, scope):  # type: ignore[arg-type]
                audit.record_request(
                    request, audit.Action.DENIED, object_type="child_profile", child_key=key
                )
                raise PermissionDenied("This child is not one of yours")
            found = services.profile(warehouse, la_child_id)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    audit.record_request(request, audit.Action.VIEW, object_type="child_profile", child_key=key)
    return render(
        request,
        "children/profile.html",
        {"profile": found, "named": role_of(user) in NAMED_CHILD_ROLES},
    )
