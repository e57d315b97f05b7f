"""The administrator's account and caseload pages (admins only; every change audited).

Thin: the changes and their audit rows are :mod:`cwsw.web.accounts.administration`'s. Changes
are POSTs (CSRF-checked) that redirect back to the account's page, except those that make a
one-time password, which is shown once on the page answering the POST and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cwsw.warehouse.snapshot import WarehouseUnavailable
from cwsw.web.access import access
from cwsw.web.accounts import administration, second_factor
from cwsw.web.accounts.forms import CaseloadAddForm, CaseloadDecisionForm, NewUserForm, RoleForm
from cwsw.web.accounts.models import Role, User
from cwsw.web.audit import services as audit

ADMIN = {Role.ADMIN}
# Who approves an administrator's caseload additions: a second person, in another role.
APPROVERS = {Role.VSH, Role.ADVISER}


def _account(username: str) -> User:
    return get_object_or_404(User, username=username)


def _to_account(user: User) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("accounts:user", kwargs={"username": user.username}))


def _check_school(form: RoleForm) -> bool:
    """The DSL's school must be a loaded establishment, when establishments are loaded."""
    laestab = form.cleaned_data["school_laestab"]
    if laestab and administration.known_school(laestab) is False:
        form.add_error("school_laestab", "Enter the LAESTAB of a school in the loaded data")
        return False
    return True


@require_safe
@never_cache
@access(ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    accounts = User.objects.order_by("username")
    with_app = second_factor.accounts_with_app()
    rows = [(user, user.pk in with_app) for user in accounts]
    audit.record_request(
        request, audit.Action.VIEW, object_type="accounts", object_ref=f"{len(rows)} accounts"
    )
    return render(request, "accounts/users.html", {"rows": rows})


@never_cache
@require_http_methods(["GET", "POST"])
@access(ADMIN)
def user_new(request: HttpRequest) -> HttpResponse:
    form = NewUserForm(request.POST or None)
    if form.is_bound and form.is_valid() and _check_school(form):
        data = form.cleaned_data
        password = administration.create_account(
            request, data["username"], data["role"], data["school_laestab"]
        )
        created = _account(data["username"])
        return render(
            request, "accounts/one_time_password.html", {"account": created, "password": password}
        )
    return render(request, "accounts/user_new.html", {"form": form})


def _account_page(
    request: HttpRequest, user: User, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "account": user,
        "role_form": forms.get("role_form")
        or RoleForm(initial={"role": user.role, "school_laestab": user.school_laestab}),
        "caseload_form": forms.get("caseload_form") or CaseloadAddForm(),
        "caseload": administration.caseload(user),
        "has_app": second_factor.confirmed_device(user) is not None,
        "locked": administration.is_locked(user),
        "recovery_codes_left": administration.recovery_codes_left(user),
        "pending": administration.pending_requests(user),
        "yourself": user.pk == getattr(request.user, "pk", None),
        "error": forms.get("error", ""),
    }
    return render(request, "accounts/user.html", context, status=status)


@require_safe
@never_cache
@access(ADMIN)
def user(request: HttpRequest, username: str) -> HttpResponse:
    account = _account(username)
    audit.record_request(
        request, audit.Action.VIEW, object_type="account", object_ref=account.username
    )
    return _account_page(request, account)


@require_POST
@never_cache
@access(ADMIN)
def user_role(request: HttpRequest, username: str) -> HttpResponse:
    account = _account(username)
    form = RoleForm(request.POST)
    if form.is_valid() and _check_school(form):
        try:
            administration.set_role(
                request, account, form.cleaned_data["role"], form.cleaned_data["school_laestab"]
            )
        except administration.RefusedChange as refused:
            return _account_page(request, account, status=400, error=str(refused))
        return _to_account(account)
    return _account_page(request, account, status=400, role_form=form)


def _change(request: HttpRequest, username: str, change: Callable[[User], object]) -> HttpResponse:
    """Make ``change`` to the account, then back to its page (or the page with the refusal)."""
    account = _account(username)
    try:
        change(account)
    except administration.RefusedChange as refused:
        return _account_page(request, account, status=400, error=str(refused))
    return _to_account(account)


@require_POST
@never_cache
@access(ADMIN)
def user_active(request: HttpRequest, username: str) -> HttpResponse:
    active = request.POST.get("active") == "1"
    return _change(request, username, lambda a: administration.set_active(request, a, active))


@require_POST
@never_cache
@access(ADMIN)
def user_password(request: HttpRequest, username: str) -> HttpResponse:
    account = _account(username)
    try:
        password = administration.reset_password(request, account)
    except administration.RefusedChange as refused:
        return _account_page(request, account, status=400, error=str(refused))
    return render(
        request, "accounts/one_time_password.html", {"account": account, "password": password}
    )


@require_POST
@never_cache
@access(ADMIN)
def user_second_factor(request: HttpRequest, username: str) -> HttpResponse:
    return _change(request, username, lambda a: administration.remove_second_factor(request, a))


@require_POST
@never_cache
@access(ADMIN)
def user_unlock(request: HttpRequest, username: str) -> HttpResponse:
    return _change(request, username, lambda a: administration.unlock(request, a))


@require_POST
@never_cache
@access(ADMIN)
def caseload_add(request: HttpRequest, username: str) -> HttpResponse:
    account = _account(username)
    form = CaseloadAddForm(request.POST)
    if form.is_valid():
        try:
            administration.add_to_caseload(request, account, form.cleaned_data["child"])
        except administration.RefusedChange as refused:
            form.add_error("child", str(refused))
        except WarehouseUnavailable as error:
            form.add_error("child", f"{error}: the child cannot be checked")
        else:
            return _to_account(account)
    return _account_page(request, account, status=400, caseload_form=form)


@require_safe
@never_cache
@access(APPROVERS)
def caseload_requests(request: HttpRequest) -> HttpResponse:
    """The caseload additions waiting for a second person's approval (VSH and advisers)."""
    pending = len(administration.pending_requests())
    audit.record_request(
        request,
        audit.Action.VIEW,
        object_type="caseload_requests",
        object_ref=f"{pending} pending",
    )
    return _requests_page(request)


def _requests_page(request: HttpRequest, status: int = 200, error: str = "") -> HttpResponse:
    context = {"rows": administration.pending_requests(), "error": error}
    return render(request, "accounts/caseload_requests.html", context, status=status)


@require_POST
@never_cache
@access(APPROVERS)
def caseload_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject one pending request (a CSRF-checked POST; audited)."""
    form = CaseloadDecisionForm(request.POST)
    if not form.is_valid():
        return _requests_page(request, status=400, error="Choose approve or reject")
    try:
        administration.decide_caseload_request(
            request, pk, approve=form.cleaned_data["decision"] == "approve"
        )
    except administration.NoSuchRequest as missing:
        raise Http404("No pending request") from missing
    except administration.RefusedChange as refused:
        return _requests_page(request, status=400, error=str(refused))
    return HttpResponseRedirect(reverse("accounts:caseload_requests"))


@require_POST
@never_cache
@access(ADMIN)
def caseload_remove(request: HttpRequest, username: str) -> HttpResponse:
    key = request.POST.get("key", "")
    return _change(
        request, username, lambda a: administration.remove_from_caseload(request, a, key)
    )
