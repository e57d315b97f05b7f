"""The analyst's data pages: load history, one load's quality, the linkage review queue."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cwsw.linkage.review import DECISIONS, DecisionError
from cwsw.warehouse.snapshot import WarehouseUnavailable
from cwsw.web.access import access
from cwsw.web.accounts.models import Role
from cwsw.web.audit import services as audit
from cwsw.web.children import keys
from cwsw.web.children.services import open_warehouse
from cwsw.web.children.views import unavailable
from cwsw.web.data import services

ANALYSTS = {Role.ANALYST}
REASON_MAX = 500


@require_safe
@never_cache
@access(ANALYSTS)
def loads(request: HttpRequest) -> HttpResponse:
    try:
        with open_warehouse() as warehouse:
            history = services.load_history(warehouse)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    audit.record_request(request, audit.Action.VIEW, object_type="load_history")
    return render(request, "data/loads.html", {"loads": history})


@require_safe
@never_cache
@access(ANALYSTS)
def load(request: HttpRequest, load_id: int) -> HttpResponse:
    try:
        with open_warehouse() as warehouse:
            summary = services.load_quality(warehouse, load_id)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    if summary is None:
        raise Http404("No such load")
    audit.record_request(
        request, audit.Action.VIEW, object_type="load_quality", object_ref=str(load_id)
    )
    return render(request, "data/load.html", {"summary": summary})


@require_safe
@never_cache
@access(ANALYSTS, child_level=True)
def review_queue(request: HttpRequest) -> HttpResponse:
    try:
        with open_warehouse() as warehouse:
            pending = services.review_queue(warehouse)
            shown = pending[: services.REVIEW_PAGE_SIZE]
            decisions = services.recent_decisions()
            children = services.children_shown(warehouse, shown, decisions)
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    decided = request.GET.get("decided", "")
    for pair in shown:
        pair["evidence_levels"] = json.loads(pair.get("evidence") or "{}")
    # One row per child shown (ADR 0016): names and dates of birth are on this page.
    audit.record_children_shown(
        request,
        audit.Action.VIEW,
        object_type="linkage_review_queue",
        object_ref=f"{len(shown)} of {len(pending)} pairs",
        child_keys=children,
    )
    return render(
        request,
        "data/review.html",
        {
            "pairs": shown,
            "total": len(pending),
            "decisions": decisions,
            "decided": decided if decided in DECISIONS else "",
        },
    )


@require_POST
@never_cache
@access(ANALYSTS, child_level=True)
def review_decide(request: HttpRequest) -> HttpResponse:
    child = request.POST.get("la_child_id", "")[:64]
    upn = request.POST.get("upn", "")[:32]
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")[:REASON_MAX]
    if decision not in DECISIONS:
        return _refused(request, "Choose accept or reject")
    try:
        with open_warehouse() as warehouse:
            pending = {(p["la_child_id"], p["upn"]) for p in services.review_queue(warehouse)}
    except WarehouseUnavailable as error:
        return unavailable(request, error)
    if (child, upn) not in pending:
        # Only a pair on the queue can be decided here: not a made-up or already decided one.
        return _refused(request, "This pair is not awaiting review")
    try:
        made = services.decide(child, upn, decision, request.user.get_username(), reason)
    except DecisionError as error:
        return _refused(request, str(error))
    audit.record_request(
        request,
        audit.Action.CHANGE,
        object_type="linkage_decision",
        object_ref=f"{made.decision} #{made.decision_id}",
        child_key=keys.child_key(made.la_child_id),
    )
    return redirect(f"{reverse('data:review')}?decided={made.decision}")


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "data/refused.html", {"message": message}, status=400)
