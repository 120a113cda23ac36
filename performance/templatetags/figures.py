"""Numbers as people write them: ``{{ value|figure:places }}`` gives a figure with thousands
separators and the indicator's own decimal places ("5,177.0", not "5177.0000"); an empty figure
is a dash. Files for machines (CSV, the API) keep full precision; this is for reading only."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

DEFAULT_PLACES = 1


@register.filter
def figure(value, places=DEFAULT_PLACES) -> str:
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
        places = int(places if places not in (None, "") else DEFAULT_PLACES)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    quantum = Decimal(1).scaleb(-places)
    return f"{number.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"
