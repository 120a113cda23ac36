"""Single sign-on's addresses, under /accounts/sso/ (they exist whether or not it is configured;
the sign-in ones answer 404 while it is not)."""
from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("start/", views.PortalStartView.as_view(), name="start"),
    path("callback/", views.PortalCallbackView.as_view(), name="callback"),
    path("held/", views.held_page, name="held"),
    path("requests/", views.requests_page, name="requests"),
]
