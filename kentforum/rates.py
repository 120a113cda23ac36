"""Request rates such as ``120/min``: one rule for the admin (where a key's rate is typed), the
model field that stores it and the API throttle that reads it.

DRF's throttles read only the first letter of the period, so ``100/week`` crashed every call
with the key (``KeyError: 'w'``) and ``100/month`` would have meant a hundred a minute. We
accept only the periods below, spelt out, and a whole number of requests from 1.
"""
import re

from django.core.exceptions import ValidationError

PERIOD_SECONDS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}
RATE_PATTERN = re.compile(r"([1-9][0-9]{0,8})/(" + "|".join(PERIOD_SECONDS) + r")")
RATE_HELP = (
    "Requests allowed per period: a whole number, a slash and one of s, sec, second, m, min, minute, h, hour, "
    "d or day (for example 120/min or 5000/day)."
)


def parse_rate(rate: str) -> tuple[int, int]:
    """(requests, seconds) of a rate such as ``120/min``; ValueError if it is not one we accept."""
    match = RATE_PATTERN.fullmatch(rate or "")
    if match is None:
        raise ValueError(f"Not a request rate: {rate!r}.")
    return int(match[1]), PERIOD_SECONDS[match[2]]


def validate_rate(value: str) -> None:
    """The model field's validator (and so the admin form's)."""
    try:
        parse_rate(value)
    except ValueError:
        raise ValidationError(f"“%(value)s” is not a rate we accept. {RATE_HELP}", code="invalid_rate",
                              params={"value": value[:40]}) from None
