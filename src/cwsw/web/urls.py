from django.urls import include, path

urlpatterns = [
    path("accounts/", include("cwsw.web.accounts.urls")),
    path("", include("cwsw.web.insight.urls")),
]
