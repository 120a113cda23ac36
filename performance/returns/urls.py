"""The returns pages' URLs (namespace ``performance``), with the catalogue's indicator list."""
from django.urls import path

from performance.catalogue import views as catalogue_views
from performance.returns import approval_views, comment_views, import_views, views

app_name = "performance"

urlpatterns = [
    path("returns/", views.my_returns, name="my-returns"),
    path("returns/<int:period_id>/indicators/<str:code>/<str:gss_code>/", views.indicator_return, name="indicator-return"),
    path("returns/<int:period_id>/milestones/<int:milestone_id>/", views.milestone_return, name="milestone-return"),
    path("returns/<int:period_id>/indicators/<str:code>/<str:gss_code>/comments/", comment_views.indicator_return_comments,
         name="indicator-return-comments"),
    path("returns/<int:period_id>/milestones/<int:milestone_id>/comments/", comment_views.milestone_return_comments,
         name="milestone-return-comments"),
    path("returns/<int:period_id>/template.csv", views.return_template, name="template"),
    path("returns/<int:period_id>/upload/", views.return_upload, name="upload"),
    path("returns/imports/<int:pk>/", views.return_import, name="import"),
    path("returns/imports/<int:pk>/submit/", import_views.import_submit_all, name="import-submit"),
    path("approvals/", approval_views.approval_queue, name="approvals"),
    path("approvals/confirm/", approval_views.approval_confirm, name="approvals-confirm"),
    path("approvals/approve/", approval_views.approval_approve, name="approvals-approve"),
    path("approvals/indicator/<int:pk>/<str:decision>/", views.indicator_decision, name="indicator-decision"),
    path("approvals/milestone/<int:pk>/<str:decision>/", views.milestone_decision, name="milestone-decision"),
    path("periods/", views.periods, name="periods"),
    path("indicators/", catalogue_views.indicator_list, name="indicators"),
]
