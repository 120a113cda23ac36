"""The base FilterSet: every list, in the browser or the API, can be searched with ``q``."""
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
