"""Form helpers shared by the portal's pages."""
from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import forms


def error_list(*forms_) -> list[tuple[str, str]]:
    """(field id, message) pairs for a GOV.UK error summary, in field order; non-field errors
    have no link target."""
    result = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            result.append(("", message))
        for name in form.fields:
            for message in form[name].errors:
                result.append((form[name].auto_id, message))
    return result


# What the figure columns hold: decimal(20, 4), 16 digits before the point and 4 after.
NUMBER_LIMIT = Decimal("1e16")
NUMBER_PLACES = Decimal("0.0001")


def fit_number(number: Decimal) -> Decimal | None:
    """``number`` rounded to the 4 decimal places the columns keep, or None if it is too big for
    them (10^16 or more, before or after rounding)."""
    if abs(number) >= NUMBER_LIMIT:
        return None
    number = number.quantize(NUMBER_PLACES, rounding=ROUND_HALF_UP)
    return None if abs(number) >= NUMBER_LIMIT else number


class DateParts(forms.Form):
    """Mixin-style helper: turn day/month/year fields named <prefix>_day etc. into a date."""

    @staticmethod
    def compose(cleaned: dict, prefix: str, label: str) -> tuple[datetime.date | None, str | None]:
        parts = [cleaned.get(f"{prefix}_{p}") for p in ("day", "month", "year")]
        if all(p in (None, "") for p in parts):
            return None, None
        if any(p in (None, "") for p in parts):
            return None, f"{label} must include a day, month and year."
        try:
            return datetime.date(int(parts[2]), int(parts[1]), int(parts[0])), None
        except (ValueError, TypeError, OverflowError):
            return None, f"{label} must be a real date."
