"""The portal's URLs."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = "Kent Forum performance portal"
admin.site.site_title = "Kent Forum portal admin"
admin.site.index_title = "Keep the framework"

urlpatterns = [
    path("", views.home, name="home"),
    path("welcome/", views.landing_page, name="landing"),
    path("search/", views.search, name="search"),
    path("delivery-plans/", views.delivery_plans, name="delivery-plans"),
    path("partnerships/", views.partnerships, name="partnerships"),
    path("boards/<slug:slug>/", views.board, name="board"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("performance.returns.urls")),
    path("dashboards/", include("performance.dashboards.urls")),
    path("api/", include("kentforum.api.urls")),
    path("admin/", admin.site.urls),
]
