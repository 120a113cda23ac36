"""API pagination: numbered pages for the framework's short lists; cursor pagination for
returns and rollups, so that a partner pages through millions of rows at constant cost."""
from rest_framework.pagination import CursorPagination, PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SyncCursorPagination(CursorPagination):
    """Ordered by last change then id: with ``updated_since`` a partner syncs incrementally."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("updated_at", "id")


class RollupCursorPagination(SyncCursorPagination):
    ordering = ("computed_at", "id")
