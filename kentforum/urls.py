"""The portal's URLs."""
from django.contrib import admin
from django.urls import path

from . import views

admin.site.site_header = "Kent Forum performance portal"
admin.site.site_title = "Kent Forum portal admin"
admin.site.index_title = "Keep the framework"

urlpatterns = [
    path("", views.home, name="home"),
    path("delivery-plans/", views.delivery_plans, name="delivery-plans"),
    path("partnerships/", views.partnerships, name="partnerships"),
    path("boards/<slug:slug>/", views.board, name="board"),
    path("admin/", admin.site.urls),
]
