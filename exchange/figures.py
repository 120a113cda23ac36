"""One figure read from an exchange file, and the reading of its number: what the DHIS2 and
SDMX readers (``exchange.dhis2``, ``exchange.sdmx``) give ``services.returns_import``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from performance.returns import validation

TOTAL = ""  # the breakdown key of a total


def row_error(row: int, field_name: str, message: str) -> dict:
    return {"row": row, "field": field_name, "message": message}


@dataclass(frozen=True)
class Figure:
    """One figure read from a file: which return (indicator code, GSS code, period), which part of
    it (the total or a breakdown "dimension:category"; its value, numerator or denominator), the
    number, and the row it came from."""

    row: int
    indicator_code: str
    gss_code: str
    period: tuple[str, date]  # kind and first day (exchange.periods)
    breakdown: str
    measure: str
    amount: Decimal | None


def parse_amount(text, row: int, field_name: str, errors: list[dict]) -> Decimal | None:
    """A number sent as text (or a JSON number), read by the one rule of figures typed as text
    (``validation.parse_figure``: at most 4 decimal places, under 10^16)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        errors.append(row_error(row, field_name, "The value must be a number."))
        return None
    try:
        return validation.parse_figure(str(text), unit=None, what=f"the {field_name}")
    except ValidationError as invalid:
        errors.append(row_error(row, field_name, " ".join(invalid.messages)))
        return None


