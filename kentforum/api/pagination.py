"""API pagination: numbered pages for the framework's short lists; cursor pagination for
returns and rollups, so that a partner pages through millions of rows at constant cost."""
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class StrictPageSize:
    """A page size that is not a whole number from 1 to the maximum is an error, not ignored."""

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


class StandardPagination(StrictPageSize, PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SyncCursorPagination(StrictPageSize, CursorPagination):
    """Ordered by last change then id: with ``updated_since`` a partner syncs incrementally."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("updated_at", "id")


class RollupCursorPagination(SyncCursorPagination):
    ordering = ("computed_at", "id")
