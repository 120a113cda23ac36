"""The reads of the exchange: the approved values the public may see, filtered as the approved-values
CSV export filters them (``IndicatorReturnFilterSet``), and the DHIS2 mapping tables."""
from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from exchange.models import DataElementMapping, OrgUnitMapping
from performance.models import IndicatorReturn, WorkflowState
from performance.returns.filtersets import IndicatorReturnFilterSet

VALUE_FIELDS = (
    "period__kind", "period__start", "indicator__code", "indicator__unit", "indicator__aggregation",
    "locality__gss_code", "breakdown__dimension__code", "breakdown__code", "value", "numerator", "denominator",
    "quality",
)


def filter_names() -> list[str]:
    """The filters an export takes: those of the approved-values CSV export."""
    return list(IndicatorReturnFilterSet.base_filters)


def approved_values(params=None):
    """Approved (published) indicator values, whoever asks, filtered by ``params`` (the filters of
    ``IndicatorReturnFilterSet``, as on the approved-values CSV export), in period, indicator, area
    and breakdown order, as plain rows (``VALUE_FIELDS``). An invalid or unknown filter is a
    ValidationError naming it, never ignored (which would export everything)."""
    params = params if params is not None else {}
    unknown = sorted(set(params) - set(filter_names()))
    if unknown:
        raise ValidationError({name: ["Not a filter of this export."] for name in unknown})
    queryset = (
        IndicatorReturn.objects.restrict(AnonymousUser(), "view").filter(state=WorkflowState.APPROVED)
        .order_by("period__start", "period__kind", "indicator__code", "locality__gss_code", "breakdown_id")
    )
    filterset = IndicatorReturnFilterSet(data=params, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError({name: list(messages) for name, messages in filterset.errors.items()})
    return filterset.qs.values_list(*VALUE_FIELDS)


def data_element_mappings() -> list[DataElementMapping]:
    return list(DataElementMapping.objects.select_related("indicator", "breakdown__dimension"))


def org_unit_mappings() -> dict[str, str]:
    """GSS code: DHIS2 organisation unit."""
    return dict(OrgUnitMapping.objects.values_list("locality__gss_code", "org_unit"))
