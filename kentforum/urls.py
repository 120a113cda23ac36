"""The portal's URLs."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

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
    path("data-tables/", views.source_tables, name="source-tables"),
    path("boards/<slug:slug>/", views.board, name="board"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sso/", include("sso.urls")),  # single sign-on (OpenID Connect): 404 unless configured
    path("", include("performance.returns.urls")),
    path("dashboards/", include("performance.dashboards.urls")),
    path("comparators/", include("performance.comparators.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("kentforum.api.urls")),
    path("admin/", admin.site.urls),
    # Browsers and crawlers ask for /favicon.ico whatever a page says: our own SVG icon (pages link
    # to it too). Not permanent: the static file's name carries a hash that changes with it.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"), http_method_names=["get", "head"]),
         name="favicon"),
]
