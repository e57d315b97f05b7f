"""Forms for the second factor and the administrator's account and caseload pages.

Error messages follow the GOV.UK Design System's wording (say what to do, not what went wrong).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms

from cwsw.web.accounts import usernames
from cwsw.web.accounts.models import Role, User

LAESTAB = re.compile(r"^\d{7}$")
CODE = re.compile(r"^\d{6}$")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )

    def clean_code(self) -> str:
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not CODE.match(code):
            raise forms.ValidationError("Enter the code as 6 digits, like 123456")
        return code


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(
        label="Recovery code",
        help_text="One of the codes you were given when you set up your app, like abcde-23456",
        max_length=40,
        error_messages={"required": "Enter one of your recovery codes"},
    )

    def clean_recovery_code(self) -> str:
        return str(self.cleaned_data["recovery_code"]).strip()


class LoginForm(auth_forms.AuthenticationForm):
    """Django's sign-in form, with the username normalised as usernames are stored."""

    def clean_username(self) -> str:
        typed = str(self.cleaned_data.get("username") or "")
        username = usernames.normalise(typed)
        if typed.strip().isascii() and not User.objects.filter(username=username).exists():
            # An account made before usernames were normalised keeps its own spelling (ASCII
            # only: PostgreSQL's case-insensitive match would take "ı" for "i").
            older = list(User.objects.filter(username__iexact=typed.strip())[:2])
            if len(older) == 1:
                return older[0].get_username()
        return username


ROLE_CHOICES = [("", "Choose a role"), *Role.choices]


class RoleForm(forms.Form):
    """An account's role, and the school of a designated safeguarding lead."""

    role = forms.ChoiceField(
        label="Role", choices=ROLE_CHOICES, error_messages={"required": "Choose a role"}
    )
    school_laestab = forms.CharField(
        label="School LAESTAB (designated safeguarding leads only)",
        help_text="7 digits: the LA number then the establishment number, like 9991001",
        required=False,
        max_length=20,
    )

    def clean_school_laestab(self) -> str:
        laestab = self.cleaned_data["school_laestab"].strip()
        if laestab and not LAESTAB.match(laestab):
            raise forms.ValidationError("Enter the school LAESTAB as 7 digits, like 9991001")
        return laestab

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role, laestab = cleaned.get("role"), cleaned.get("school_laestab")
        if role == Role.SCHOOL_DSL and laestab == "":
            self.add_error(
                "school_laestab", "Enter the school LAESTAB of a designated safeguarding lead"
            )
        elif role != Role.SCHOOL_DSL and laestab:
            self.add_error(
                "school_laestab", "Leave the school LAESTAB empty for roles other than DSL"
            )
        return cleaned


class NewUserForm(RoleForm):
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text=(
            "Lower-case letters a to z, digits, full stops, hyphens and underscores, like j.smith"
        ),
        error_messages={"required": "Enter a username"},
    )
    field_order = ("username", "role", "school_laestab")

    def clean_username(self) -> str:
        """Normalised (NFKC, case-folded), in the safe set, and not taken (ADR 0015)."""
        username = usernames.normalise(self.cleaned_data["username"])
        if not usernames.is_safe(username):
            raise forms.ValidationError(usernames.RULE)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("An account with this username already exists")
        return username


class CaseloadAddForm(forms.Form):
    child = forms.CharField(
        label="LA child ID or child key",
        max_length=64,
        error_messages={"required": "Enter the LA child ID or the child key"},
    )

    def clean_child(self) -> str:
        return self.cleaned_data["child"].strip()


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's, with the policy said once in the page's own words (not as a help list), and a
    new password that is not the current one: not the one-time password an administrator gave,
    and not the password already in use (ADR 0015)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = ""

    def clean_new_password1(self) -> str:
        new = str(self.cleaned_data.get("new_password1") or "")
        if new and self.user.check_password(new):
            if getattr(self.user, "must_change_password", False):
                raise forms.ValidationError(
                    "Choose a password different from the one-time password your "
                    "administrator gave you"
                )
            raise forms.ValidationError("Choose a password different from your current password")
        return new


class CaseloadDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
