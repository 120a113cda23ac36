"""The exchange's API routes, included under /api/v1/exchange/ (kentforum.api.urls)."""
from django.urls import path

from exchange.api import Dhis2DataValueSetsView, SdmxDataView

urlpatterns = [
    path("dhis2/dataValueSets", Dhis2DataValueSetsView.as_view(), name="exchange-dhis2"),
    path("sdmx/data.csv", SdmxDataView.as_view(), name="exchange-sdmx"),
]
