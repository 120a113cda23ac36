"""Form helpers shared by the portal's pages."""
from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def number_text(text: str) -> str:
    """A number as people type it or a spreadsheet writes it (1,234, 1 234, £5, 12%, a leading
    apostrophe) made plain for ``Decimal``: the one rule of the return forms and the CSV import."""
    text = text.strip()
    for separator in (",", " ", "\u00a0", "\u202f"):
        text = text.replace(separator, "")
    return text.removeprefix("'").lstrip("£").rstrip("%")


class FriendlyDecimalField(forms.DecimalField):
    """A number as people type it: commas, spaces, a pound sign or a per cent sign are allowed.
    It is rounded to the 4 decimal places that are stored, so what is checked is what is saved."""

    default_error_messages = {
        "invalid": "Enter a number, like 1234 or 56.7.",
        "too_big": "Enter a number smaller than 10,000,000,000,000,000.",
    }

    def to_python(self, value):
        if isinstance(value, str):
            value = number_text(value)
        if value in self.empty_values:
            return None
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not number.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        fitted = fit_number(number)
        if fitted is None:
            raise forms.ValidationError(self.error_messages["too_big"], code="too_big")
        return fitted


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
