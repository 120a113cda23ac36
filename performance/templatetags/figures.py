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


@register.filter(name="figure_kept")
def figure_for_input(value, places=DEFAULT_PLACES) -> str:
    """A stored figure as a form's input shows it: like ``figure`` (separators, the indicator's
    own places: "5,177.0", not "5177.0000"), but never rounded, so that saving the form again
    keeps what is stored (a figure entered with more places shows them: "5,177.25"). What this
    writes, ``returns.validation.parse_figure`` reads back. Empty is empty, not a dash; text
    typed into the form is shown again as typed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value  # text typed into the form: shown again as typed
    number = Decimal(str(value))
    if not number.is_finite():
        return str(value)
    kept = max(-number.normalize().as_tuple().exponent, 0)
    return figure(number, max(int(places), kept))
