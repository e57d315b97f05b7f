from django.urls import path

from cwsw.web.accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.login, name="login"),
    path("sign-out/", views.logout, name="logout"),
    path("second-factor/", views.verify, name="second_factor"),
    path("second-factor/set-up/", views.set_up, name="second_factor_setup"),
    path("second-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("password/", views.password_change, name="password_change"),
    # The administrator's pages.
    path("users/", admin_views.users, name="users"),
    path("new-account/", admin_views.user_new, name="user_new"),
    path("users/<str:username>/", admin_views.user, name="user"),
    path("users/<str:username>/role/", admin_views.user_role, name="user_role"),
    path("users/<str:username>/active/", admin_views.user_active, name="user_active"),
    path("users/<str:username>/password/", admin_views.user_password, name="user_password"),
    path(
        "users/<str:username>/second-factor/",
        admin_views.user_second_factor,
        name="user_second_factor",
    ),
    path("users/<str:username>/unlock/", admin_views.user_unlock, name="user_unlock"),
    path("users/<str:username>/caseload/", admin_views.caseload_add, name="caseload_add"),
    path(
        "users/<str:username>/caseload/remove/",
        admin_views.caseload_remove,
        name="caseload_remove",
    ),
    # A second person's approval of caseload additions (VSH and education advisers).
    path("caseload-requests/", admin_views.caseload_requests, name="caseload_requests"),
    path(
        "caseload-requests/<int:pk>/",
        admin_views.caseload_request_decide,
        name="caseload_request_decide",
    ),
]
