"""The exchange's doors in the REST API, under /api/v1/exchange/: approved values out and returns
in, as DHIS2 ``dataValueSets`` JSON (``dhis2/dataValueSets``) and as SDMX-CSV (``sdmx/data.csv``).
The views parse and answer; the work is ``exchange.services``'.

Who may use them: anyone may export (approved values only, what the public sees); importing is
for whoever may enter the returns of the organisations the file names (officers of those
organisations, signed in; partner keys with the submit scope naming them), as the CSV import and
the bulk API are (``kentforum.api.base.PublicReadOnly``, then the returns' own permission)."""
from __future__ import annotations

import io

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_orjson_renderer.renderers import ORJSONRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange import services
from kentforum.api.base import BaseReadViewSet, PublicReadOnly, actor
from kentforum.api.parsers import StrictJSONParser
from kentforum.api.renderers import SafeCSVRenderer
from kentforum.errors import error_dict, joined
from kentforum.filtersets import UTCDateTimeFilter, WholeNumberFilter
from performance.returns import imports
from performance.returns.filtersets import IndicatorReturnFilterSet

# --- The schema's shapes --------------------------------------------------------------------------


class DataValueSerializer(serializers.Serializer):
    dataElement = serializers.CharField(help_text="DHIS2 data element (see the mapping tables).")
    period = serializers.CharField(help_text="DHIS2 ISO period: 2024Q2, 2024April, 2024 or 202404.")
    orgUnit = serializers.CharField(help_text="DHIS2 organisation unit (see the mapping tables).")
    categoryOptionCombo = serializers.CharField(required=False, help_text="Omitted: DHIS2's default combo.")
    value = serializers.CharField(help_text="The number, as text.")


class DataValueSetSerializer(serializers.Serializer):
    dataValues = DataValueSerializer(many=True)


class DataValueSetInSerializer(DataValueSetSerializer):
    period = serializers.CharField(required=False, help_text="The period of data values that give none.")
    orgUnit = serializers.CharField(required=False, help_text="The organisation unit of data values that give none.")


class ImportResultSerializer(serializers.Serializer):
    detail = serializers.CharField()
    saved = serializers.IntegerField(help_text="How many returns were written (new or changed), as drafts.")
    returns = serializers.ListField(child=serializers.IntegerField(), help_text="Their ids (indicator-returns).")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="DHIS2: the data value's place in dataValues, from 1. SDMX-CSV: the "
                                             "file's row, the header being 1. 0: the file as a whole.")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = RowErrorSerializer(many=True, required=False, help_text="Absent when the body could not be read at all.")


def filter_parameters() -> list[OpenApiParameter]:
    """The export's filters: those of the approved-values CSV export (``IndicatorReturnFilterSet``)."""
    parameters = []
    for name, spec in IndicatorReturnFilterSet.base_filters.items():
        kind, enum = OpenApiTypes.STR, None
        if isinstance(spec, WholeNumberFilter):
            kind = OpenApiTypes.INT
        elif isinstance(spec, UTCDateTimeFilter):
            kind = OpenApiTypes.DATETIME
        elif isinstance(spec, django_filters.ChoiceFilter):
            enum = [value for value, _ in spec.extra["choices"]]
        parameters.append(OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=False, enum=enum,
                                           description=str(spec.label or name)))
    return parameters


IMPORT_ERRORS = {
    400: OpenApiResponse(ImportErrorSerializer, description="Rows refused, each named; nothing was saved."),
    403: OpenApiResponse(description="Not the caller's organisations' returns (or a read key); nothing was saved."),
}


# --- The views ------------------------------------------------------------------------------------


class CSVBodyParser(BaseParser):
    """An SDMX-CSV body, as bytes (decoded by the service, as the CSV import decodes a file)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(imports.max_bytes() + 1) if stream is not None else b""


class ExchangeView(APIView):
    permission_classes = [PublicReadOnly]
    throttle_classes = BaseReadViewSet.throttle_classes

    def params(self, request):
        return request.query_params

    def run_import(self, call) -> Response:
        try:
            saved = call()
        except services.ExchangeErrors as refused:
            return Response({"detail": refused.detail, "errors": refused.errors}, status=status.HTTP_400_BAD_REQUEST)
        except DjangoPermissionDenied as denied:
            raise exceptions.PermissionDenied(str(denied)) from None
        except DjangoValidationError as invalid:  # the file as a whole (too many values)
            return Response({"detail": joined(invalid), "errors": []}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": f"{len(saved)} returns saved as drafts.", "saved": len(saved), "returns": saved})

    def export(self, call):
        try:
            return call()
        except DjangoValidationError as invalid:
            raise exceptions.ValidationError(error_dict(invalid)) from None


class Dhis2DataValueSetsView(ExchangeView):
    """Approved values as a DHIS2 data value set (GET: anyone), and a data value set imported as
    returns (POST: officers of the organisations it names, and submit keys naming them)."""

    renderer_classes = [ORJSONRenderer]
    parser_classes = [StrictJSONParser]

    @extend_schema(operation_id="exchange_dhis2_export", parameters=filter_parameters(),
                   responses={200: DataValueSetSerializer})
    def get(self, request):
        """Approved values, filtered like the approved-values CSV export, as DHIS2 dataValueSets JSON:
        one data value per mapped figure (value, numerator, denominator) of a mapped area."""
        return self.export(lambda: Response(services.dhis2_export(self.params(request))))

    @extend_schema(operation_id="exchange_dhis2_import", request=DataValueSetInSerializer,
                   responses={200: ImportResultSerializer, **IMPORT_ERRORS})
    def post(self, request):
        """Import a DHIS2 data value set as returns (drafts), all or nothing, through the same rules as
        every other write; each data value that cannot be saved is listed by its place."""
        return self.run_import(lambda: services.dhis2_import(user=actor(request), payload=request.data))

    def throttle_cost(self, request) -> int:
        """Each data value counts as one request, as each item of a bulk write does."""
        if request.method == "POST" and isinstance(request.data, dict) and isinstance(request.data.get("dataValues"), list):
            return min(max(1, len(request.data["dataValues"])), imports.max_rows())
        return 1


class SdmxDataView(ExchangeView):
    """Approved values as SDMX-CSV (GET: anyone), and SDMX-CSV imported as returns (POST, text/csv:
    officers of the organisations it names, and submit keys naming them)."""

    renderer_classes = [ORJSONRenderer, SafeCSVRenderer]  # errors in JSON, or CSV when asked
    parser_classes = [CSVBodyParser]

    @extend_schema(operation_id="exchange_sdmx_export", parameters=filter_parameters(),
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                       "SDMX-CSV 2.0 of the dataflow KENT_FORUM:DF_PERFORMANCE(1.0): STRUCTURE, STRUCTURE_ID, ACTION, "
                       "FREQ, INDICATOR, REF_AREA, BREAKDOWN, TIME_PERIOD, OBS_VALUE, NUMERATOR, DENOMINATOR, "
                       "UNIT_MEASURE, OBS_STATUS, REPORTING_YEAR_START_DAY."))})
    def get(self, request):
        """Approved values, filtered like the approved-values CSV export, as SDMX-CSV."""
        def write():
            out = io.StringIO()
            services.sdmx_export(out, self.params(request))
            response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="kent-forum-performance.sdmx.csv"'
            return response

        return self.export(write)

    @extend_schema(operation_id="exchange_sdmx_import", request={"text/csv": OpenApiTypes.STR},
                   responses={200: ImportResultSerializer, **IMPORT_ERRORS})
    def post(self, request):
        """Import SDMX-CSV (2.0, or 1.0 with DATAFLOW) as returns (drafts), all or nothing, through the
        same rules as every other write; each row that cannot be saved is listed by its row."""
        raw = request.data if isinstance(request.data, bytes) else b""
        return self.run_import(lambda: services.sdmx_import(user=actor(request), raw=raw))

    def throttle_cost(self, request) -> int:
        """Each row counts as one request, as each item of a bulk write does."""
        if request.method == "POST" and isinstance(request.data, bytes):
            return min(max(1, request.data.count(b"\n")), imports.max_rows())
        return 1
