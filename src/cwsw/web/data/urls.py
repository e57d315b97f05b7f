from django.urls import path

from cwsw.web.data import views

app_name = "data"
urlpatterns = [
    path("loads/", views.loads, name="loads"),
    path("loads/<int:load_id>/", views.load, name="load"),
    path("linkage/", views.review_queue, name="review"),
    path("linkage/decide/", views.review_decide, name="decide"),
]
