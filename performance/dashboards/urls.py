"""The dashboards' URLs (namespace ``dashboards``)."""
from django.urls import path

from performance.dashboards import downloads, views

app_name = "dashboards"

urlpatterns = [
    path("", views.forum, name="forum"),
    path("pack.pdf", views.forum_pack, name="forum-pack"),
    path("ambitions/<int:number>/", views.ambition, name="ambition"),
    path("ambitions/<int:number>/report/", views.board_report, name="board-report"),
    path("ambitions/<int:number>/report/publish/", views.board_report_publish, name="board-report-publish"),
    path("localities/<str:gss_code>/", views.locality, name="locality"),
    path("kpqs/<str:code>/", views.kpq, name="kpq"),
    path("indicators/<str:code>/", views.indicator, name="indicator"),
    path("reports/<int:pk>/", views.published_report, name="report"),
    # Every table of a page as Excel, or one of them as CSV (performance/dashboards/downloads.py).
    path("tables.xlsx", downloads.forum_xlsx, name="forum-tables"),
    path("tables/<slug:table>.csv", downloads.forum_csv, name="forum-table"),
    path("ambitions/<int:number>/tables.xlsx", downloads.ambition_xlsx, name="ambition-tables"),
    path("ambitions/<int:number>/tables/<slug:table>.csv", downloads.ambition_csv, name="ambition-table"),
    path("localities/<str:gss_code>/tables.xlsx", downloads.locality_xlsx, name="locality-tables"),
    path("localities/<str:gss_code>/tables/<slug:table>.csv", downloads.locality_csv, name="locality-table"),
    path("kpqs/<str:code>/tables.xlsx", downloads.kpq_xlsx, name="kpq-tables"),
    path("kpqs/<str:code>/tables/<slug:table>.csv", downloads.kpq_csv, name="kpq-table"),
    path("indicators/<str:code>/tables.xlsx", downloads.indicator_xlsx, name="indicator-tables"),
    path("indicators/<str:code>/tables/<slug:table>.csv", downloads.indicator_csv, name="indicator-table"),
]
