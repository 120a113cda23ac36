"""CSV files of returns: the template an organisation fills in for a period (with its current
figures and versions) and the approved values in long format, in the import's own columns so
that a file can be uploaded again as it is."""
from __future__ import annotations

import csv

from kentforum.csvcells import number_cell, safe_cell
from performance.catalogue.selectors import period_for_indicator
from performance.models import IndicatorAssignment, IndicatorReturn, ReportingPeriod

COLUMNS = [
    "period", "indicator_code", "indicator_name", "area_gss_code", "area_name", "breakdown",
    "value", "numerator", "denominator", "commentary", "version",
]

def template_rows(organisation, period: ReportingPeriod):
    """The organisation's returns for the period as CSV rows (with current figures and versions)."""
    assignments = [
        a for a in IndicatorAssignment.objects.filter(organisation=organisation, indicator__is_active=True)
        .select_related("indicator", "locality").prefetch_related("indicator__breakdown_dimensions__categories")
        .order_by("indicator__code", "locality__name")
        if period in period_for_indicator(a.indicator, [period])
    ]
    existing = {
        (r.indicator_id, r.locality_id, r.breakdown_id): r
        for r in IndicatorReturn.objects.filter(organisation=organisation, period=period)
    }
    label = safe_cell(period.label)
    for a in assignments:
        total = existing.get((a.indicator_id, a.locality_id, None))
        code, name, gss, area = (safe_cell(a.indicator.code), safe_cell(a.indicator.name),
                                 safe_cell(a.locality.gss_code), safe_cell(a.locality.name))
        yield [
            label, code, name, gss, area, "",
            number_cell(total.value) if total and not a.indicator.is_rate else "",
            number_cell(total.numerator) if total else "", number_cell(total.denominator) if total else "",
            safe_cell(total.commentary) if total else "", total.version if total else "",
        ]
        for dimension in a.indicator.breakdown_dimensions.all():
            for category in dimension.categories.all():
                row = existing.get((a.indicator_id, a.locality_id, category.pk))
                yield [
                    label, code, name, gss, area, safe_cell(f"{dimension.code}:{category.code}"),
                    number_cell(row.value) if row else "", "", "", "", "",
                ]


EXPORT_COLUMNS = [
    "period", "indicator_code", "area_gss_code", "breakdown", "value", "numerator", "denominator", "state",
    # how final and how certain each figure is (the import reads none of these; they are for the reader)
    "quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base",
]


def export_rows(queryset):
    """Approved values in long format, one row per indicator, area, period and breakdown, in the
    import's own columns, so that the file can be uploaded again as it is. Text cells are
    neutralised; numbers are written as plain numbers."""
    yield EXPORT_COLUMNS
    for row in queryset.values_list(
        "period__label", "indicator__code", "locality__gss_code", "breakdown__dimension__code", "breakdown__code",
        "value", "numerator", "denominator", "state", "indicator__aggregation",
        "quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base",
    ).iterator(chunk_size=2000):
        (label, code, gss, dimension, category, value, numerator, denominator, state, aggregation,
         quality, released, note, lower, upper, base) = row
        is_rate = aggregation == "ratio"
        yield [
            safe_cell(label), safe_cell(code), safe_cell(gss), safe_cell(f"{dimension}:{category}") if dimension else "",
            "" if is_rate and numerator is not None else number_cell(value),
            number_cell(numerator), number_cell(denominator), safe_cell(state),
            safe_cell(quality), released.isoformat() if released else "", safe_cell(note),
            number_cell(lower), number_cell(upper), "" if base is None else str(base),
        ]


def write_template(out, organisation, period: ReportingPeriod) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(template_rows(organisation, period))
