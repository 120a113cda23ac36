"""The returns' API: indicator and milestone returns (readable as ``restrict(actor, "view")``
allows, as the return pages are, and writable through the same services as the browser) and the
long-format export of approved values."""
from __future__ import annotations

import csv
import io

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from kentforum.api.base import BaseReadViewSet, PublicReadOnly, actor
from kentforum.api.filters import KnownParameters
from kentforum.api.gc_pause import gc_paused
from kentforum.api.pagination import SyncCursorPagination
from kentforum.errors import error_dict
from performance.models import IndicatorReturn, MilestoneReturn, WorkflowState
from performance.returns import bulk_entry, by_code, validation, workflow
from performance.returns.api import bulk_items, rows, serializers
from performance.returns.exports import EXPORT_COLUMNS, export_rows
from performance.returns.filtersets import IndicatorReturnFilterSet, MilestoneReturnFilterSet


def call_return_service(call, current_serializer):
    """Run a return service for the API, turning its refusals into HTTP answers: a stale version
    is a 409 with the current return, a permission refusal 403, invalid input 400. Returns
    (return, None) or (None, the 409 response)."""
    try:
        return call(), None
    except workflow.StaleReturnError as stale:
        return None, Response(
            {"detail": f"The return has changed: it is now version {stale.current.version}. Nothing was saved.",
             "current": current_serializer(stale.current).data},
            status=status.HTTP_409_CONFLICT,
        )
    except DjangoPermissionDenied as denied:
        raise exceptions.PermissionDenied(str(denied)) from None
    except DjangoValidationError as invalid:
        raise exceptions.ValidationError(error_dict(invalid)) from None


def json_object(data) -> dict:
    """The body of a write, which must be one JSON object (a list, a string or a number is a 400)."""
    if not isinstance(data, dict):
        raise exceptions.ParseError("Send one JSON object, such as {\"version\": 2, \"commentary\": \"...\"}.")
    return data


def patched(stored: dict, sent: dict, *, fixed: tuple[str, ...]) -> dict:
    """A PATCH's item: the stored values of the fields it did not send, overridden by those it
    did. ``fixed`` fields name the return itself; sent with another value, they are a 400 (a
    PATCH changes this return, it never moves to another one)."""
    moved = {name: ["This names the return and cannot be changed; post to the list to enter another return."]
             for name in fixed if name in sent and sent[name] != stored[name]}
    if moved:
        raise exceptions.ValidationError(moved)
    if sent.get("version") is None:
        raise exceptions.ValidationError({"version": ["Send the version you read."]})
    return {**stored, **sent}


def indicator_entry(item: dict) -> dict:
    """The arguments of ``by_code.indicator_return_save_by_codes`` for one validated write item."""
    return {
        "indicator_code": item["indicator"], "gss_code": item["locality"], "period_label": item["period"],
        "figures": validation.IndicatorFigures(
            value=item.get("value"), numerator=item.get("numerator"), denominator=item.get("denominator"),
            commentary=item.get("commentary", ""),
            # data quality and survey fields: those not sent keep their stored values, in a POST as in a PATCH
            quality={name: item[name] for name in validation.QUALITY_FIELDS if name in item},
        ),
        "breakdown_values": item.get("breakdowns") or {}, "expected_version": item.get("version"),
        "submit": item.get("submit", False), "confirm_warnings": item.get("confirm_warnings", False),
    }


BULK_MAX_ITEMS = 5000  # items of one bulk write


def saved_returns(queryset, ids: list[int]):
    """``queryset.filter(pk__in=ids)``, the ids written into the SQL as the integers they are:
    the database reads the same list (and plans the query as it did), but Django no longer
    resolves and binds 5,000 parameters one by one (about 50 ms of a 5,000-item write)."""
    if not ids:
        return queryset.none()
    listed = ", ".join(str(int(pk)) for pk in ids)
    return queryset.extra(where=[f"{IndicatorReturn._meta.db_table}.id IN ({listed})"])


class IndicatorReturnViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, BaseReadViewSet):
    """Indicator returns. Who may read: anyone reads approved (published) returns; officers also their own organisation's returns in every state;
    approvers also submitted and returned ones of every organisation (not drafts); the Forum
    team all; a submit key also every return of the organisations it names. A return one may
    not read is 404. Who may write: officers (session) and submit-scope keys, for their own
    organisations only, through the same services as the browser."""

    serializer_class = serializers.IndicatorReturnSerializer
    filterset_class = IndicatorReturnFilterSet
    pagination_class = SyncCursorPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    # A cursor pages correctly only over a unique order that never changes or is null.
    ordering = ["id"]
    ordering_fields = ["id"]

    def get_queryset(self):
        return IndicatorReturn.objects.restrict(actor(self.request), "view").select_related(
            "indicator", "locality", "period", "organisation", "breakdown__dimension"
        )

    def list(self, request, *args, **kwargs):
        # The JSON list reads plain rows (rows.py): the same items as the serializer's, without
        # building a model instance and its fields for each one. (A comment, not a docstring:
        # the docstring would become the operation's description for partners.)
        if request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(rows.indicator_return_rows(queryset))
        return self.get_paginated_response(rows.indicator_return_items(page))

    def dispatch(self, request, *args, **kwargs):
        # The bulk write, from parsing its body to its answer, runs with Python's cyclic garbage
        # collector paused (kentforum/api/gc_pause.py: its full passes cost about 0.2 s of a
        # 5,000-item write and find nothing); every other request runs as usual.
        if self.action_map.get(request.method.lower()) == "bulk":
            with gc_paused():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def _enter(self, item: dict):
        return call_return_service(
            lambda: by_code.indicator_return_save_by_codes(user=actor(self.request), **indicator_entry(item)),
            serializers.IndicatorReturnSerializer,
        )

    @extend_schema(
        request=serializers.IndicatorReturnWriteSerializer,
        responses={201: serializers.IndicatorReturnSerializer, 409: serializers.ConflictSerializer,
                   400: OpenApiResponse(description="Invalid figures or unknown codes; nothing was saved."),
                   403: OpenApiResponse(description="Not your organisation's return.")},
    )
    def create(self, request, *args, **kwargs):
        """Save a return as a draft (creating it if new), and submit it if ``submit`` is true.
        To change an existing return, send the ``version`` you read: the return becomes what
        this body says (fields not sent are emptied; breakdowns not sent are kept)."""
        payload = serializers.IndicatorReturnWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ret, conflict = self._enter(payload.validated_data)
        if conflict:
            return conflict
        ret = self.get_queryset().get(pk=ret.pk)
        return Response(serializers.IndicatorReturnSerializer(ret).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.IndicatorReturnWriteSerializer,
        responses={200: serializers.IndicatorReturnSerializer, 409: serializers.ConflictSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a return: send the ``version`` you read and the fields to change; every field
        not sent keeps its stored value (breakdowns not named keep theirs). A stale version is
        refused with 409."""
        current = self.get_object()
        payload = serializers.IndicatorReturnWriteSerializer(data=json_object(request.data), partial=True)
        payload.is_valid(raise_exception=True)
        if current.breakdown_id:
            total = IndicatorReturn.objects.filter(
                indicator_id=current.indicator_id, locality_id=current.locality_id, period_id=current.period_id,
                breakdown__isnull=True,
            ).values_list("pk", flat=True).first()
            key = f"{current.breakdown.dimension.code}:{current.breakdown.code}"
            raise exceptions.ValidationError({"non_field_errors": [
                f"This is the {key} breakdown of a return: change it through the return's total (id {total}), "
                f'sending {{"breakdowns": {{"{key}": …}}, "version": …}} with the version of the total.'
            ]})
        stored = {
            "indicator": current.indicator.code, "locality": current.locality.gss_code, "period": current.period.label,
            "value": current.value, "numerator": current.numerator, "denominator": current.denominator,
            "commentary": current.commentary,
        }
        ret, conflict = self._enter(patched(stored, payload.validated_data, fixed=("indicator", "locality", "period")))
        if conflict:
            return conflict
        return Response(serializers.IndicatorReturnSerializer(self.get_queryset().get(pk=ret.pk)).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed("PUT")
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=serializers.IndicatorReturnWriteSerializer(many=True),
        responses={201: serializers.IndicatorReturnSerializer(many=True), 400: serializers.BulkErrorSerializer},
    )
    @action(detail=False, methods=["post"], url_path="bulk", pagination_class=None, filter_backends=[])
    def bulk(self, request, *args, **kwargs):
        """Save many returns (1 to 5,000) in one request, all or nothing: if any item fails,
        nothing is saved and every failing item is listed with its errors. Each item counts as
        one request against the caller's rate limit (429 with Retry-After, nothing saved, when
        they would exceed it). The returns are checked with the same rules as one at a time and
        written set-based, so other saves of the same returns wait well under a second."""
        if not isinstance(request.data, list) or not request.data or len(request.data) > BULK_MAX_ITEMS:
            return Response(
                {"detail": "Send a list of 1 to 5,000 returns. Nothing was saved.", "errors": []},
                status=status.HTTP_400_BAD_REQUEST,
            )
        items, errors = [], []
        # A plainly valid item is read as the serializer would read it (bulk_items.py); any other
        # is checked by one serializer for every item (as a ListSerializer's child is), whose
        # messages are the only ones.
        payload = serializers.IndicatorReturnWriteSerializer()
        for index, raw in enumerate(request.data):
            validated = bulk_items.plain_item(raw)
            if validated is None:
                try:
                    validated = payload.run_validation(raw if isinstance(raw, dict) else {})
                except exceptions.ValidationError as invalid:
                    errors.append({"index": index, "errors": invalid.detail})
                    continue
            items.append(indicator_entry(validated))
        if errors:
            return Response({"detail": "Nothing was saved.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            saved = bulk_entry.indicator_returns_save_by_codes(user=actor(request), items=items)
        except by_code.BulkErrors as failed:
            return Response(
                {"detail": failed.detail, "errors": [{"index": i, "errors": e} for i, e in failed.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # After the commit: the saved returns as the serializer writes them (rows.py), read as plain rows.
        written = saved_returns(self.get_queryset(), saved)
        return Response(rows.indicator_return_items(rows.indicator_return_rows(written)), status=status.HTTP_201_CREATED)

    def throttle_cost(self, request) -> int:
        """How many requests this one counts as against the caller's rate limit
        (kentforum.api.base.ItemCountThrottle): a bulk write counts each of its items."""
        if self.action == "bulk" and isinstance(request.data, list) and 0 < len(request.data) <= BULK_MAX_ITEMS:
            return len(request.data)
        return 1


class ApprovedValuesExportView(GenericAPIView):
    """A long-format CSV of approved (published) indicator values, filtered like
    indicator-returns (indicator, locality, ambition, board, delivery plan, period,
    period_from, period_to, breakdown, updated_since, q). Who may use it: anyone."""

    permission_classes = [PublicReadOnly]
    throttle_classes = BaseReadViewSet.throttle_classes
    filterset_class = IndicatorReturnFilterSet
    # As on the lists: an unknown parameter or an invalid filter is a 400 naming it, never
    # ignored (which would export everything).
    filter_backends = [KnownParameters, DjangoFilterBackend]
    pagination_class = None

    def get_queryset(self):
        # Published: what anyone, signed in or not, may view (approved returns), whoever asks.
        return (
            IndicatorReturn.objects.restrict(AnonymousUser(), "view").filter(state=WorkflowState.APPROVED)
            .order_by("period__start", "indicator__code", "locality__gss_code", "breakdown_id")
        )

    @extend_schema(
        operation_id="v1_exports_approved_values",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR, description=(
                "Approved values in long format, one row per indicator, area, period and breakdown, with a header row: "
                + ", ".join(EXPORT_COLUMNS) + ". The first eight are the CSV import's own columns, so the file uploads "
                "again as it is. The whole filtered set, streamed (not paged).")),
        },
    )
    def get(self, request, format=None):
        queryset = self.filter_queryset(self.get_queryset())
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        response = StreamingHttpResponse(_stream(writer, buffer, export_rows(queryset)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="kent-approved-values.csv"'
        return response


def _stream(writer, buffer, rows):
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


class MilestoneReturnViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, BaseReadViewSet):
    """Milestone returns. Who may read: as for indicator returns (approved ones for anyone;
    approvers not drafts). Who may write: officers and submit-scope
    keys of the milestone's owner, through the same services as the browser."""

    serializer_class = serializers.MilestoneReturnSerializer
    filterset_class = MilestoneReturnFilterSet
    pagination_class = SyncCursorPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["id"]  # a cursor pages correctly only over a unique, non-null order

    def _enter(self, item: dict):
        return call_return_service(lambda: by_code.milestone_return_save_by_codes(
            user=actor(self.request), milestone_id=item["milestone"], period_label=item["period"],
            progress=validation.MilestoneProgress(
                status=item["status"], percent_complete=item["percent_complete"],
                revised_date=item.get("revised_date"), commentary=item.get("commentary", ""),
            ),
            expected_version=item.get("version"), submit=item.get("submit", False),
        ), serializers.MilestoneReturnSerializer)

    @extend_schema(request=serializers.MilestoneReturnWriteSerializer,
                   responses={201: serializers.MilestoneReturnSerializer, 409: serializers.MilestoneConflictSerializer})
    def create(self, request, *args, **kwargs):
        """Save a milestone's progress as a draft, and submit it if ``submit`` is true."""
        payload = serializers.MilestoneReturnWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ret, conflict = self._enter(payload.validated_data)
        if conflict:
            return conflict
        return Response(serializers.MilestoneReturnSerializer(self.get_queryset().get(pk=ret.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.MilestoneReturnWriteSerializer,
                   responses={200: serializers.MilestoneReturnSerializer, 409: serializers.MilestoneConflictSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Change a milestone return: send the ``version`` you read and the fields to change;
        every field not sent keeps its stored value. A stale version gets 409."""
        current = self.get_object()
        payload = serializers.MilestoneReturnWriteSerializer(data=json_object(request.data), partial=True)
        payload.is_valid(raise_exception=True)
        stored = {
            "milestone": current.milestone_id, "period": current.period.label, "status": current.status,
            "percent_complete": current.percent_complete, "revised_date": current.revised_date,
            "commentary": current.commentary,
        }
        ret, conflict = self._enter(patched(stored, payload.validated_data, fixed=("milestone", "period")))
        if conflict:
            return conflict
        return Response(serializers.MilestoneReturnSerializer(self.get_queryset().get(pk=ret.pk)).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed("PUT")
        return super().update(request, *args, **kwargs)

    def get_queryset(self):
        return MilestoneReturn.objects.restrict(actor(self.request), "view").select_related("milestone", "period", "organisation")
