"""The base FilterSet: every list, in the browser or the API, can be searched with ``q``."""
import datetime

import django_filters
from django.db.models import Q


class BaseFilterSet(django_filters.FilterSet):
    """Declares ``q``: a case-insensitive search over the subclass's ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset, name, value):
        if not value.strip() or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(condition)


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, turned to UTC before it reaches the database (PostgreSQL refuses
    offsets beyond ±15:59, which ISO 8601 allows)."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(datetime.timezone.utc)
        return super().filter(qs, value)
