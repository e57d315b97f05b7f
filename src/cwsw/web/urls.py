"""The URL conf. Every view declares who may call it (cwsw.web.access): see the permission
matrix test (tests/web/test_permission_matrix.py), which fails for a URL it does not know."""

from django.urls import include, path

urlpatterns = [
    path("accounts/", include("cwsw.web.accounts.urls")),
    path("audit/", include("cwsw.web.audit.urls")),
    path("data/", include("cwsw.web.data.urls")),
    path("", include("cwsw.web.children.urls")),
    path("", include("cwsw.web.insight.urls")),
]
