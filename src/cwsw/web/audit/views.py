"""The administrator's search of the audit log (read only: nothing here changes a row)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cwsw.web.access import access
from cwsw.web.accounts.models import Role
from cwsw.web.audit import services as audit
from cwsw.web.audit.models import AuditEvent


class AuditSearchForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Username")
    action = forms.ChoiceField(
        required=False, choices=[("", "Any"), *AuditEvent.Action.choices], label="Action"
    )
    child_key = forms.CharField(required=False, max_length=32, label="Child key")
    since = forms.DateField(required=False, label="From (YYYY-MM-DD)")
    until = forms.DateField(required=False, label="To (YYYY-MM-DD)")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if isinstance(since, dt.date) and isinstance(until, dt.date) and since > until:
            self.add_error("until", "The end date must be the same as or after the start date")
        return cleaned


@require_safe
@never_cache
@access({Role.ADMIN})
def search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    events: list[AuditEvent] = []
    searched = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        query = audit.AuditQuery(
            actor=data["actor"].strip(),
            action=data["action"],
            child_key=data["child_key"].strip(),
            since=data["since"],
            until=data["until"],
        )
        events = list(audit.search(query))
        searched = True
    audit.record_request(
        request,
        audit.Action.SEARCH if searched else audit.Action.VIEW,
        object_type="audit_log",
        object_ref=f"{len(events)} events" if searched else "",
    )
    return render(
        request,
        "audit/search.html",
        {"form": form, "events": events, "searched": searched, "limit": audit.SEARCH_LIMIT},
    )
