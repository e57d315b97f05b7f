"""Sign in and sign out (Django's auth views with GOV.UK templates)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from cwsw.web.access import public, signed_in


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): the header's "Sign out" button is a small form."""


login = public(LoginView.as_view())
logout = signed_in(LogoutView.as_view())
