from django.urls import path

from cwsw.web.insight import views

app_name = "insight"
urlpatterns = [path("", views.dashboard, name="dashboard")]
