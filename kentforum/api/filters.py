"""The API's query-string rules, shared by every list: a parameter the list does not take is a
400 naming it (a misspelt filter such as ``?localty=`` would otherwise return every row); a
choice filter sent empty is a 400 (it would otherwise be ignored); ``ordering`` takes only the
fields the list offers, each ascending or descending (``-name``), and the schema lists them."""
from __future__ import annotations

import django_filters
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.encoding import force_str
from rest_framework import exceptions, filters


class UnknownParameters(exceptions.APIException):
    status_code = 400
    default_code = "unknown_parameters"


class StrictOrderingFilter(filters.OrderingFilter):
    """``ordering`` takes a field the list offers (its ``ordering_fields``, else its serializer's
    fields that are the model's own columns), or several separated by commas; anything else is a
    400 naming the fields offered. The schema lists them as an enum."""

    ordering_description = "Order by this field; a leading minus sign orders it descending."

    def get_valid_fields(self, queryset, view, context=None):
        valid = super().get_valid_fields(queryset, view, context)
        if getattr(view, "ordering_fields", self.ordering_fields) is not None:
            return valid
        # The serializer's fields: only the model's own columns (a many-to-many or reverse
        # relation would repeat rows; a property cannot be ordered by in SQL).
        opts = queryset.model._meta
        return [(name, label) for name, label in valid if _is_column(opts, name)]

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = [name for name, _label in self.get_valid_fields(queryset, view, {"request": request})]
        wrong = [term for term in fields if term.removeprefix("-") not in valid]
        if wrong:
            raise exceptions.ValidationError({self.ordering_param: [
                f"Cannot order by {', '.join(repr(term) for term in wrong)}; order by one of: "
                f"{', '.join(valid)} (a leading minus sign orders descending)."
            ]})
        return fields

    def ordering_choices(self, view) -> list[str]:
        queryset = view.queryset if getattr(view, "queryset", None) is not None else view.get_queryset()
        names = [name for name, _label in self.get_valid_fields(queryset, view, {"request": getattr(view, "request", None)})]
        return [choice for name in names for choice in (name, f"-{name}")]

    def get_schema_operation_parameters(self, view):
        return [{
            "name": self.ordering_param, "required": False, "in": "query",
            "description": force_str(self.ordering_description),
            "schema": {"type": "string", "enum": self.ordering_choices(view)},
        }]


def _is_column(opts, name: str) -> bool:
    try:
        field = opts.pk if name == "pk" else opts.get_field(name)
    except FieldDoesNotExist:
        return False
    return field.concrete and not field.many_to_many


def allowed_parameters(view, filterset_class=None) -> set[str]:
    """The query parameters a list takes: its filters, search, ordering, page or cursor, page
    size, and the format."""
    names = {settings.REST_FRAMEWORK.get("URL_FORMAT_OVERRIDE", "format")}
    filterset_class = filterset_class or getattr(view, "filterset_class", None)
    if filterset_class is not None:
        names.update(filterset_class.base_filters)
    for backend in getattr(view, "filter_backends", ()):
        for attribute in ("ordering_param", "search_param"):
            if hasattr(backend, attribute):
                names.add(getattr(backend, attribute))
    paginator = getattr(view, "paginator", None)
    for attribute in ("page_query_param", "cursor_query_param", "page_size_query_param"):
        if paginator is not None and getattr(paginator, attribute, None):
            names.add(getattr(paginator, attribute))
    return names


def check_parameters(request, view, filterset_class=None) -> None:
    """Refuse (400) a query parameter the list does not take, and a choice filter sent empty."""
    allowed = allowed_parameters(view, filterset_class)
    unknown = sorted(name for name in request.query_params if name not in allowed)
    if unknown:
        raise UnknownParameters(
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"This list takes: {', '.join(sorted(allowed))}."
        )
    filterset_class = filterset_class or getattr(view, "filterset_class", None)
    if filterset_class is None:
        return
    errors = {}
    for name, declared in filterset_class.base_filters.items():
        if isinstance(declared, (django_filters.ChoiceFilter, django_filters.MultipleChoiceFilter)):
            if any(value == "" for value in request.query_params.getlist(name)):
                offered = declared.extra.get("choices", ())
                choices = [str(value) for value, _label in (offered() if callable(offered) else offered) if value != ""]
                errors[name] = [f"Choose one of: {', '.join(choices)}; an empty value is not one." if choices
                                else "An empty value is not a choice."]
    if errors:
        raise exceptions.ValidationError(errors)


class KnownParameters(filters.BaseFilterBackend):
    """Applies ``check_parameters`` to every list before it is filtered."""

    def filter_queryset(self, request, queryset, view):
        check_parameters(request, view)
        return queryset
