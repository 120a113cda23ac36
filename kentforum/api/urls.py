"""The partner REST API under /api/v1/, its OpenAPI schema and interactive docs."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from ambitions.api.views import AmbitionViewSet, DeliveryPlanViewSet, KPQViewSet, TopPriorityViewSet
from localities.api.views import LocalityViewSet
from partnerships.api.views import (
    BoardMembershipViewSet,
    BoardViewSet,
    ExistingPartnershipViewSet,
    OfficerGroupViewSet,
    OrganisationViewSet,
    PersonViewSet,
    StrategicPartnershipViewSet,
)
from performance.catalogue.api import IndicatorViewSet, MilestoneViewSet, ReportingPeriodViewSet, StudyViewSet
from performance.comparators.api import ComparatorAreaViewSet, ComparatorFigureViewSet
from performance.returns.api.views import ApprovedValuesExportView, IndicatorReturnViewSet, MilestoneReturnViewSet
from performance.rollups.api import IndicatorRollupViewSet
from webhooks.api.views import WebhookEndpointViewSet


class PublicRouter(DefaultRouter):
    """The API root lists the resources; anyone may see it."""

    class APIRootView(DefaultRouter.APIRootView):
        permission_classes = [AllowAny]


router = PublicRouter()
router.register("organisations", OrganisationViewSet)
router.register("people", PersonViewSet)
router.register("memberships", BoardMembershipViewSet)
router.register("boards", BoardViewSet)
router.register("ambitions", AmbitionViewSet)
router.register("kpqs", KPQViewSet)
router.register("top-priorities", TopPriorityViewSet)
router.register("partnerships", StrategicPartnershipViewSet)
router.register("existing-partnerships", ExistingPartnershipViewSet)
router.register("officer-groups", OfficerGroupViewSet)
router.register("delivery-plans", DeliveryPlanViewSet)
router.register("localities", LocalityViewSet)
router.register("indicators", IndicatorViewSet)
router.register("periods", ReportingPeriodViewSet)
router.register("indicator-returns", IndicatorReturnViewSet, basename="indicatorreturn")
router.register("milestones", MilestoneViewSet)
router.register("milestone-returns", MilestoneReturnViewSet, basename="milestonereturn")
router.register("rollups", IndicatorRollupViewSet)
router.register("studies", StudyViewSet)
router.register("comparator-areas", ComparatorAreaViewSet)
router.register("comparator-figures", ComparatorFigureViewSet)
router.register("webhooks", WebhookEndpointViewSet)

urlpatterns = [
    path("v1/exports/approved-values.csv", ApprovedValuesExportView.as_view(), name="export-approved-values"),
    path("v1/exchange/", include("exchange.urls")),
    path("v1/", include(router.urls)),
    # Who may see them: anyone.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    # The split view serves its start-up script from ?script, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[AllowAny]), name="api-docs"),
]
