"""The comparator wing's pages (namespace ``comparators``)."""
from django.urls import path

from performance.comparators import views

app_name = "comparators"

urlpatterns = [
    path("upload/", views.comparator_upload, name="upload"),
]
