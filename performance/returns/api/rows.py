"""The hot API lists (indicator returns) read plain rows with ``values()`` and format them exactly
as their serializer would: no model instances, no field objects per item. A page of 1,000
returns costs one query and a loop over dictionaries. tests/api/test_fast_lists.py checks every
item against the serializer's output.
"""
from __future__ import annotations

from django.db.models import F
from django.utils import timezone

RETURN_FIELDS = {
    "indicator_code": F("indicator__code"),
    "locality_gss": F("locality__gss_code"),
    "period_label": F("period__label"),
    "dimension_code": F("breakdown__dimension__code"),
    "category_code": F("breakdown__code"),
    "organisation_name": F("organisation__name"),
}
# The model's own columns keep their names, so that whatever the list is ordered by (the
# paginator reads the last row's value of it) is in the row.
MODEL_FIELDS = [
    "id", "indicator", "locality", "period", "breakdown", "organisation", "value", "numerator", "denominator",
    "commentary", "quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base",
    "state", "return_reason", "version", "submitted_at", "decided_at", "created_at", "updated_at",
]


def _datetime(value, zone) -> str | None:
    """As DRF's DateTimeField: in the current time zone, ISO 8601, 'Z' for UTC."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def indicator_return_rows(queryset):
    """The queryset as plain rows, for the paginator to order and slice."""
    return queryset.values(*MODEL_FIELDS, **RETURN_FIELDS)


class DateTimeTexts(dict):
    """Times as ``_datetime`` writes them, each written once: the returns of one bulk write
    share their times (updated, submitted), and 15,000 conversions cost more than 5,000 rows."""

    def __init__(self, zone):
        super().__init__()
        self.zone = zone

    def __missing__(self, value):
        text = self[value] = _datetime(value, self.zone)
        return text


def indicator_return_items(rows) -> list[dict]:
    """A page of rows as IndicatorReturnSerializer writes them."""
    texts = DateTimeTexts(timezone.get_current_timezone())
    return [indicator_return_row(row, texts) for row in rows]


def indicator_return_row(row: dict, texts: DateTimeTexts) -> dict:
    """One row as IndicatorReturnSerializer writes it (figures as Decimals, which the renderer
    writes as JSON numbers: REST_FRAMEWORK["COERCE_DECIMAL_TO_STRING"] is off)."""
    category = row["category_code"]
    return {
        "id": row["id"],
        "indicator": row["indicator_code"],
        "locality": row["locality_gss"],
        "period": row["period_label"],
        "breakdown": f"{row['dimension_code']}:{category}" if category is not None else "",
        "organisation": row["organisation_name"],
        "value": row["value"],
        "numerator": row["numerator"],
        "denominator": row["denominator"],
        "commentary": row["commentary"],
        "quality": row["quality"],
        "source_released": row["source_released"].isoformat() if row["source_released"] else None,
        "quality_note": row["quality_note"],
        "ci_lower": row["ci_lower"],
        "ci_upper": row["ci_upper"],
        "sample_base": row["sample_base"],
        "state": row["state"],
        "return_reason": row["return_reason"],
        "version": row["version"],
        "submitted_at": texts[row["submitted_at"]],
        "decided_at": texts[row["decided_at"]],
        "updated_at": texts[row["updated_at"]],
    }
