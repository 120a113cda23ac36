"""The notifications pages' URLs (namespace ``notifications``)."""
from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.notifications_read, name="read-all"),
    path("<int:pk>/", views.notification_open, name="open"),
    path("preferences/", views.preferences, name="preferences"),
    path("following/", views.follow, name="follow"),
]
