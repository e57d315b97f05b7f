from django.urls import path

from cwsw.web.children import views

app_name = "children"
urlpatterns = [
    path("school/", views.school, name="school"),
    path("school/pupils.csv", views.school_export, name="school_export"),
    path("caseload/", views.caseload, name="caseload"),
    path("children/<str:key>/", views.profile, name="profile"),
]
