"""API pagination: numbered pages for the framework's short lists; cursor pagination for
returns and rollups, so that a partner pages through millions of rows at constant cost.

Every page, JSON or CSV, names the next and previous pages in a ``Link`` header (``rel="next"``,
``rel="prev"``), so a CSV list is read whole by following it; a cursor list's JSON also gives
the cursors themselves (``next_cursor``, ``previous_cursor``), so a client need not take them out
of the links."""
from urllib.parse import parse_qs, urlparse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class StrictPageSize:
    """A page size that is not a whole number from 1 to the maximum is an error, not ignored;
    the schema gives its bounds. Each page links to the next and previous in a Link header."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": [f"page_size is a whole number from 1 to {self.max_page_size}."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"page_size is a whole number from 1 to {self.max_page_size}."]})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Items a page: 1 to {self.max_page_size:,} (default {self.page_size})."
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                                       "default": self.page_size}
            elif parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        links = [f'<{response.data[key]}>; rel="{rel}"' for key, rel in (("next", "next"), ("previous", "prev"))
                 if response.data.get(key)]
        if links:
            response["Link"] = ", ".join(links)
        return response


class StandardPagination(StrictPageSize, PageNumberPagination):
    """Numbered pages (``page`` from 1) of 1 to 1,000 items."""


class SyncCursorPagination(StrictPageSize, CursorPagination):
    """Ordered by last change then id: with ``updated_since`` a partner syncs incrementally.

    A cursor the list did not give (not base64, or a position that is not a value of the field
    the list is ordered by, such as ``p=abc`` for an id) is a 400 saying so, not a 404 or a
    server error."""

    ordering = ("updated_at", "id")
    invalid_cursor_message = (
        "This cursor is not one the list gave: follow the list's next or previous link, or start again without a cursor."
    )

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["next_cursor"] = self.cursor_of(response.data["next"])
        response.data["previous_cursor"] = self.cursor_of(response.data["previous"])
        return response

    def cursor_of(self, link: str | None) -> str | None:
        """The cursor a page link carries, for a client that pages by passing ``cursor``."""
        if not link:
            return None
        return parse_qs(urlparse(link).query).get(self.cursor_query_param, [None])[0]

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        for name, which in (("next_cursor", "next"), ("previous_cursor", "previous")):
            schema["properties"][name] = {
                "type": "string", "nullable": True,
                "description": f"The {which} page's cursor (pass it as `{self.cursor_query_param}`); null on the {'last' if which == 'next' else 'first'} page.",
            }
        schema["required"] = ["next", "previous", "next_cursor", "previous_cursor", "results"]
        return schema

    def paginate_queryset(self, queryset, request, view=None):
        self._paged_queryset = queryset  # decode_cursor checks the position against its model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        """The position must be a value the ordering field's column holds (the paginator puts
        it straight into a ``__gt``/``__lt`` filter)."""
        queryset = self._paged_queryset
        name = self.ordering[0].lstrip("-")
        opts = queryset.model._meta
        try:
            field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:  # ordered by an annotation: nothing to check it against
            return
        connection = connections[queryset.db]
        try:
            value = field.to_python(position)
            field.get_db_prep_value(value, connection, prepared=False)  # a date-time turned to UTC may overflow
            if isinstance(value, int):
                low, high = connection.ops.integer_field_range(field.get_internal_type())
                if not low <= value <= high:
                    raise ValueError(value)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None


class RollupCursorPagination(SyncCursorPagination):
    ordering = ("computed_at", "id")
