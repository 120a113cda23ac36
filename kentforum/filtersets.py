"""The base FilterSet: every list, in the browser or the API, can be searched with ``q``."""
import datetime

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from django_filters.fields import IsoDateTimeField
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

# What every database we run on holds in an integer column (PostgreSQL bigint, SQLite INTEGER).
INTEGER_RANGE = (-(2**63), 2**63 - 1)


class WholeNumberField(forms.IntegerField):
    """A whole number a database integer holds: anything else (1.5, 1e97, 10**30) is a 400
    naming the filter, not a silent truncation, an empty list or an OverflowError."""

    default_error_messages = {
        "invalid": "Enter a whole number.",
        "max_value": "Enter a whole number no larger than %(limit_value)s.",
        "min_value": "Enter a whole number no smaller than %(limit_value)s.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INTEGER_RANGE[0])
        kwargs.setdefault("max_value", INTEGER_RANGE[1])
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)  # documented as an integer even where no model field says so
class WholeNumberFilter(django_filters.NumberFilter):
    """The numeric filter of every FilterSet: ids, ambition and KPQ numbers are whole numbers."""

    field_class = WholeNumberField


class BaseFilterSet(django_filters.FilterSet):
    """Declares ``q``: a case-insensitive search over the subclass's ``search_fields``. Filters
    generated from ``Meta.fields`` for integer columns are whole-number filters too."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        **{
            field: {**options, "filter_class": WholeNumberFilter}
            for field, options in FILTER_FOR_DBFIELD_DEFAULTS.items()
            if issubclass(field, (models.IntegerField, models.AutoField)) and options["filter_class"] is django_filters.NumberFilter
        },
    }
    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset, name, value):
        if not value.strip() or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(condition)


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned to UTC as it is read (PostgreSQL refuses offsets beyond
    ±15:59, which ISO 8601 allows). One that leaves the years 1 to 9999 on the way
    (0001-01-01T00:00:00+01:00) is a 400 naming the filter, not an OverflowError."""

    default_error_messages = {
        "overflow": "This date-time is out of range: in UTC it falls outside the years 1 to 9999.",
    }

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.timezone.utc)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """Filters by a date-time read as UTC (see UTCDateTimeField)."""

    field_class = UTCDateTimeField
