"""The insight pages: the dashboard, breakdowns, overlaps and the school list.

Thin: each view takes the signed-in role's disclosed marts (cached per warehouse build, see
:mod:`cwsw.indicators.insight`), picks the year, measure or breakdown asked for (an unknown
one is a 404), writes one audit row and renders. Aggregate pages only: no child is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cwsw.warehouse.snapshot import WarehouseUnavailable
from cwsw.web.access import access
from cwsw.web.accounts.services import ALL_ROLES
from cwsw.web.audit import services as audit
from cwsw.web.insight import charts, services
from cwsw.web.insight.services import UnknownChoice

Page = Callable[[HttpRequest, Any], tuple[str, dict[str, Any]]]


def _page(request: HttpRequest, template: str, object_type: str, build: Page) -> HttpResponse:
    """Read the marts, build the page's context (``build`` returns its audit reference and
    context), audit and render; a busy warehouse is a 503, an unknown choice a 404."""
    try:
        marts = services.disclosed_marts(request.user)
    except WarehouseUnavailable as error:
        return render(request, "children/unavailable.html", {"message": str(error)}, status=503)
    context: dict[str, Any] = {"suppression_note": services.suppression_note()}
    reference = "none"
    if marts is not None and not marts.empty:
        try:
            reference, found = build(request, marts)
        except UnknownChoice as error:
            raise Http404(f"no such {error}") from None
        context |= found
        context["unrestricted"] = marts.unrestricted
    context["marts"] = marts if marts is not None and not marts.empty else None
    audit.record_request(request, audit.Action.VIEW, object_type=object_type, object_ref=reference)
    return render(request, template, context)


def _year_and_measure(request: HttpRequest, marts: Any) -> tuple[str, Any, dict[str, Any]]:
    """The year and measure asked for (the newest year, the default measure) and their
    selectors' options."""
    year = services.choose_year(marts, request.GET.get("year"))
    measure = services.choose_measure(marts, request.GET.get("measure"))
    return (
        year,
        measure,
        {
            "year_options": services.year_options(marts, year),
            "measure_options": services.measure_options(marts, measure),
        },
    )


@require_safe
@never_cache
@access(ALL_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        marts = services.disclosed_marts(request.user)
    except WarehouseUnavailable as error:
        return render(request, "children/unavailable.html", {"message": str(error)}, status=503)
    year = None
    context: dict[str, Any] = {}
    if marts is not None and not marts.empty:
        try:
            year, measure, choices = _year_and_measure(request, marts)
        except UnknownChoice as error:
            raise Http404(f"no such {error}") from None
        trend = services.insight.trend_table(marts, measure)
        context |= choices | {
            "headlines": services.headline_tables(marts, year),
            "trend": trend,
            "trend_chart": charts.trend_chart(marts, measure, trend),
            "measure": measure,
            "unrestricted": marts.unrestricted,
            "benchmarks": services.benchmark_page(marts, year),
        }
    summary = services.current_absence_summary(marts, year)
    audit.record_request(
        request,
        audit.Action.VIEW,
        object_type="absence_summary",
        object_ref=summary.academic_year if summary is not None else "none",
    )
    context["summary"] = summary
    if summary is not None:
        context |= {
            "columns": services.COLUMNS,
            "rows": services.table_rows(summary),
            "reference_date": services.long_date(summary.reference_date),
            "suppression_note": services.suppression_note(),
        }
    return render(request, "insight/dashboard.html", context)


@require_safe
@never_cache
@access(ALL_ROLES)
def breakdowns(request: HttpRequest) -> HttpResponse:
    def build(request: HttpRequest, marts: Any) -> tuple[str, dict[str, Any]]:
        year, measure, choices = _year_and_measure(request, marts)
        breakdown = services.choose_breakdown(marts, request.GET.get("breakdown"))
        table = services.breakdown_table(
            marts, year, measure, breakdown, services.own_schools(request.user)
        )
        return f"{year} {measure.name} {breakdown}", choices | {
            "breakdown_options": services.breakdown_options(marts, breakdown),
            "table": table,
            "chart": charts.table_chart(marts, measure, table, f"breakdown-{breakdown}"),
        }

    return _page(request, "insight/breakdowns.html", "insight_breakdown", build)


@require_safe
@never_cache
@access(ALL_ROLES)
def overlaps(request: HttpRequest) -> HttpResponse:
    def build(request: HttpRequest, marts: Any) -> tuple[str, dict[str, Any]]:
        year, measure, choices = _year_and_measure(request, marts)
        counts, values = services.insight.overlap_tables(marts, year, measure)
        return f"{year} {measure.name}", choices | {
            "counts": counts,
            "table": values,
            "chart": charts.table_chart(marts, measure, values, "overlaps"),
        }

    return _page(request, "insight/overlaps.html", "insight_overlaps", build)


@require_safe
@never_cache
@access(ALL_ROLES)
def schools(request: HttpRequest) -> HttpResponse:
    def build(request: HttpRequest, marts: Any) -> tuple[str, dict[str, Any]]:
        year = services.choose_year(marts, request.GET.get("year"))
        own = services.own_schools(request.user)
        return f"{year}" + (f" {own[0]}" if own else ""), {
            "year_options": services.year_options(marts, year),
            "table": services.school_table(marts, year, own),
            "own_school_only": own is not None,
        }

    return _page(request, "insight/schools.html", "insight_schools", build)
