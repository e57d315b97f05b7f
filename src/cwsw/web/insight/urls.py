from django.urls import path

from cwsw.web.insight import views

app_name = "insight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("breakdowns/", views.breakdowns, name="breakdowns"),
    path("overlaps/", views.overlaps, name="overlaps"),
    path("schools/", views.schools, name="schools"),
]
