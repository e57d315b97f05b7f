"""A URL conf with one view that declares no access rule (the default-deny test)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def undeclared(request: HttpRequest) -> HttpResponse:
    return HttpResponse("this must never be served")


urlpatterns = [
    path("undeclared/", undeclared, name="undeclared"),
    path("", include("cwsw.web.urls")),
]
