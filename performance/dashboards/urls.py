"""The dashboards' URLs (namespace ``dashboards``)."""
from django.urls import path

from performance.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.forum, name="forum"),
    path("ambitions/<int:number>/", views.ambition, name="ambition"),
    path("ambitions/<int:number>/report/", views.board_report, name="board-report"),
    path("ambitions/<int:number>/report/publish/", views.board_report_publish, name="board-report-publish"),
    path("localities/<str:gss_code>/", views.locality, name="locality"),
    path("kpqs/<str:code>/", views.kpq, name="kpq"),
    path("indicators/<str:code>/", views.indicator, name="indicator"),
    path("reports/<int:pk>/", views.published_report, name="report"),
]
