"""Sign in and out, the TOTP second factor, and changing a one-time password.

Sign-in and sign-out are Django's auth views with GOV.UK templates; the steps after the
password are sent here by :class:`cwsw.web.accounts.second_factor.SignInStepsMiddleware`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from cwsw.web.access import access, public, signed_in
from cwsw.web.accounts import recovery, second_factor
from cwsw.web.accounts.forms import CodeForm, LoginForm, PasswordChangeForm, RecoveryCodeForm
from cwsw.web.accounts.models import User
from cwsw.web.accounts.services import ALL_ROLES
from cwsw.web.audit import services as audit


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Said plainly on the page when a deployment turned the second factor off (ADR 0015).
        context["second_factor_off"] = not settings.REQUIRE_TOTP_FOR_CHILD_LEVEL
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): the header's "Sign out" button is a small form."""


login = public(LoginView.as_view())
logout = signed_in(LogoutView.as_view())


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # DefaultDenyMiddleware let a signed-in user in
    return request.user


def _next(request: HttpRequest) -> str:
    """Where to go after this step: ``next`` if it is on this site, else the dashboard."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return str(resolve_url(settings.LOGIN_REDIRECT_URL))


def _with_next(name: str, request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def _code_step(
    request: HttpRequest,
    device: TOTPDevice,
    template: str,
    context: dict[str, Any],
    form: CodeForm | None = None,
) -> HttpResponseBase:
    """Check a posted code against ``device``: on to ``next``, locked out, or the form again."""
    form = form or CodeForm(request.POST or None)
    if form.is_bound and form.is_valid():
        check = second_factor.check_code(request, device, form.cleaned_data["code"])
        if check.outcome is second_factor.Outcome.LOCKED:
            return render(request, "accounts/locked.html", status=429)
        if check.outcome is second_factor.Outcome.ACCEPTED:
            return HttpResponseRedirect(_next(request))
        if check.outcome is second_factor.Outcome.WAIT:
            when = f" until {check.wait_until:%H:%M:%S}" if check.wait_until else ""
            form.add_error("code", f"Too many wrong codes: wait{when} and try again")
        else:
            form.add_error("code", "The code is not right: enter the code your app shows now")
    return render(request, template, {**context, "form": form, "next": _next(request)})


@never_cache
@require_http_methods(["GET", "POST"])
@access(second_factor.SECOND_FACTOR_ROLES)
def verify(request: HttpRequest) -> HttpResponseBase:
    """The code from the account's authenticator app, after the password."""
    user = _user(request)
    device = second_factor.confirmed_device(user)
    if device is None:
        return _with_next(second_factor.SET_UP, request)
    if second_factor.is_verified(user):
        return HttpResponseRedirect(_next(request))
    if request.method == "POST" and "recovery_code" in request.POST:
        return _recovery_code_step(request, device)
    return _code_step(
        request, device, "accounts/verify.html", {"recovery_form": RecoveryCodeForm()}
    )


def _recovery_code_step(request: HttpRequest, device: TOTPDevice) -> HttpResponseBase:
    """A recovery code in place of the app's code: spent if right, counted as a failure if not."""
    recovery_form = RecoveryCodeForm(request.POST)
    if recovery_form.is_valid():
        typed = recovery_form.cleaned_data["recovery_code"]
        check = second_factor.check_recovery_code(request, device, typed)
        if check.outcome is second_factor.Outcome.LOCKED:
            return render(request, "accounts/locked.html", status=429)
        if check.outcome is second_factor.Outcome.ACCEPTED:
            return HttpResponseRedirect(_next(request))
        recovery_form.add_error(
            "recovery_code", "The recovery code is not right, or it has been used"
        )
    context = {"form": CodeForm(), "recovery_form": recovery_form, "next": _next(request)}
    return render(request, "accounts/verify.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@access(second_factor.SECOND_FACTOR_ROLES)
def set_up(request: HttpRequest) -> HttpResponseBase:
    """Set up an authenticator app: its key as text and a QR code, confirmed by one code."""
    user = _user(request)
    context: dict[str, Any] = {"next": _next(request), "required": second_factor.required(user)}
    if second_factor.confirmed_device(user) is not None:
        return render(request, "accounts/set_up.html", {**context, "done": True})
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A code confirms only the key this session was shown (ADR 0015).
        device = second_factor.session_device(request)
        if device is None:
            form.add_error(
                "code",
                "Start the set-up again: the key you were shown was replaced by a newer set-up",
            )
            return render(
                request, "accounts/set_up.html", {**context, "form": form, "expired": True}
            )
    else:
        device = second_factor.start_set_up(request)
    context["key"] = second_factor.enrolment(device)
    return _code_step(request, device, "accounts/set_up.html", context, form)


@never_cache
@require_http_methods(["GET", "POST"])
@access(second_factor.SECOND_FACTOR_ROLES)
def recovery_codes(request: HttpRequest) -> HttpResponseBase:
    """Recovery codes: shown once when the app is set up; how many are left; a new set after a
    code from the app (ADR 0015)."""
    user = _user(request)
    device = second_factor.confirmed_device(user)
    if device is None:
        return _with_next(second_factor.SET_UP, request)
    context: dict[str, Any] = {"next": _next(request)}
    if request.method == "GET" and request.session.get(second_factor.RECOVERY_CODES_DUE):
        codes = second_factor.make_recovery_codes(request)
        return render(request, "accounts/recovery_codes.html", {**context, "codes": codes})
    form = CodeForm(request.POST or None)
    if form.is_bound and form.is_valid():
        check = second_factor.check_code(request, device, form.cleaned_data["code"])
        if check.outcome is second_factor.Outcome.LOCKED:
            return render(request, "accounts/locked.html", status=429)
        if check.outcome is second_factor.Outcome.ACCEPTED:
            codes = second_factor.make_recovery_codes(request)
            return render(request, "accounts/recovery_codes.html", {**context, "codes": codes})
        if check.outcome is second_factor.Outcome.WAIT:
            when = f" until {check.wait_until:%H:%M:%S}" if check.wait_until else ""
            form.add_error("code", f"Too many wrong codes: wait{when} and try again")
        else:
            form.add_error("code", "The code is not right: enter the code your app shows now")
    context.update(form=form, left=recovery.left(user))
    return render(request, "accounts/recovery_codes.html", context)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password (required after an administrator set a one-time one)."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm

    def get_success_url(self) -> str:
        return _next(self.request)

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        user = _user(self.request)
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
        audit.record_request(
            self.request, audit.Action.CHANGE, object_type="account", object_ref="password changed"
        )
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["next"] = _next(self.request)
        context["one_time"] = _user(self.request).must_change_password
        return context


password_change = access(ALL_ROLES)(never_cache(PasswordChangeView.as_view()))
