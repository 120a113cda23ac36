"""The webhooks API, for partner API keys only (read or submit scope): a partner lists, registers
and removes its own endpoints, reads their delivery log and replays a delivery. Another
partner's endpoint or delivery is 404; a signed-in person without a key is 403."""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from kentforum.api.base import BaseReadViewSet
from kentforum.api.filters import KnownParameters, check_parameters
from kentforum.errors import error_dict
from partnerships.models import PartnerAPIKey
from webhooks import outbox, services
from webhooks.api import serializers
from webhooks.filtersets import WebhookDeliveryFilterSet
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

DIGITS = re.compile(r"[0-9]{1,18}")


class PartnerKeyOnly(permissions.BasePermission):
    """A partner's API key (either scope); no key is 401, a signed-in person without one 403."""

    message = "Webhooks are managed with a partner API key (Authorization: Api-Key <key>)."

    def has_permission(self, request, view):
        return isinstance(request.auth, PartnerAPIKey)


class WebhookEndpointViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, BaseReadViewSet):
    """Your organisation's webhook endpoints: each is told, by a signed POST, when a return is
    approved (``return.approved``), a period is locked (``period.locked``) or a board report is
    published (``report.published``). Only partner API keys may use this; each partner sees
    and manages its own endpoints."""

    queryset = WebhookEndpoint.objects.all()  # scoped to the caller's partner in get_queryset
    serializer_class = serializers.WebhookEndpointSerializer
    permission_classes = [PartnerKeyOnly]
    filter_backends = [KnownParameters]  # no filters: an unknown parameter is a 400
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not isinstance(self.request.auth, PartnerAPIKey):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(partner_id=self.request.auth.partner_id).order_by("pk")

    @extend_schema(
        request=serializers.WebhookEndpointWriteSerializer,
        responses={201: serializers.WebhookEndpointCreatedSerializer,
                   400: OpenApiResponse(description="Not an https address on a public host, or unknown events.")},
    )
    def create(self, request, *args, **kwargs):
        """Register an endpoint. The response carries its ``secret``, shown this once."""
        payload = serializers.WebhookEndpointWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            endpoint = services.endpoint_create(
                partner=request.auth.partner, created_by_key=request.auth, **payload.validated_data,
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error_dict(error)) from None
        return Response(serializers.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance)

    @extend_schema(
        responses={200: serializers.WebhookDeliverySerializer(many=True)},
        parameters=[
            OpenApiParameter("status", str, enum=WebhookDelivery.Status.values, description="pending, delivered or failed"),
            OpenApiParameter("event", str, enum=Event.values),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}),
            OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                             description="Items a page: 1 to 1,000 (default 100)."),
        ],
    )
    # Its parameters are its own filters (checked below), not the endpoint list's.
    @action(detail=True, methods=["get"], url_path="deliveries", serializer_class=serializers.WebhookDeliverySerializer,
            filter_backends=[])
    def deliveries(self, request, pk=None, format=None):
        """The endpoint's deliveries, newest first: status, attempts, the next attempt, the last answer."""
        check_parameters(request, self, WebhookDeliveryFilterSet)
        endpoint = self.get_object()
        filterset = WebhookDeliveryFilterSet(request.query_params, queryset=endpoint.deliveries.order_by("-pk"))
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(serializers.WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={202: serializers.WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/]+)/replay")
    def replay(self, request, pk=None, delivery_id=None, format=None):
        """Send a delivery again: the same payload and event id, from a first attempt."""
        endpoint = self.get_object()
        delivery = endpoint.deliveries.filter(pk=int(delivery_id)).first() if DIGITS.fullmatch(delivery_id) else None
        if delivery is None:
            raise exceptions.NotFound("No such delivery of this endpoint.")
        delivery = outbox.delivery_replay(delivery=delivery)
        return Response(serializers.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
