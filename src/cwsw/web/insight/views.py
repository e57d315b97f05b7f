"""The dashboard: headline absence figures by social care group."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cwsw.web.access import access
from cwsw.web.accounts.services import ALL_ROLES
from cwsw.web.audit import services as audit
from cwsw.web.insight import services


@require_safe
@never_cache
@access(ALL_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = services.current_absence_summary()
    audit.record_request(
        request,
        audit.Action.VIEW,
        object_type="absence_summary",
        object_ref=summary.academic_year if summary is not None else "none",
    )
    context: dict[str, object] = {"summary": summary}
    if summary is not None:
        context |= {
            "columns": services.COLUMNS,
            "rows": services.table_rows(summary),
            "reference_date": services.long_date(summary.reference_date),
            "suppression_note": services.suppression_note(),
        }
    return render(request, "insight/dashboard.html", context)
