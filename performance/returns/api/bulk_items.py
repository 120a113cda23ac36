"""The bulk write's items, checked fast: ``plain_item`` accepts an item only when it is plainly
valid and gives exactly the dict ``IndicatorReturnWriteSerializer().run_validation(item)`` would
(the same keys in the same order, Decimals quantized to four places, stripped strings, DRF's
defaults for commentary, breakdowns, submit and confirm_warnings). Anything else (a key it does
not know, a number written with an exponent or a plus sign, a boolean where a figure goes, a
string in a boolean, a date, a blank code, ...) gives None, and the serializer checks the item:
DRF's messages stay the only messages. tests/api/test_bulk_items.py runs both on many items.

DRF's per-item validation (85,000 field calls for 5,000 items) cost as much as the set-based
save itself; this costs a few dictionary look-ups and one regular expression per figure.
"""
from __future__ import annotations

import re
from decimal import Context, Decimal

from performance.models import DataQuality
from performance.returns.validation import COMMENTARY_MAX_LENGTH

# DecimalField(max_digits=20, decimal_places=4): at most 16 digits before the point and 4 after,
# ASCII digits only (Decimal would also read other scripts' digits, "1_000", "+1" and "1e3"; DRF
# then judges them by their digits: those go to the serializer).
PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,4})?")
FOUR_PLACES = Decimal("0.0001")
# DRF quantizes in a context of max_digits' precision; a plain figure has at most 20 digits and
# 4 places, so quantizing it only adds zeros and is exact in any rounding mode.
TWENTY_DIGITS = Context(prec=20)
INTEGER_LIMIT = 2**63  # IntegerField reads any int of up to 4,300 digits; a plain one is a bigint
QUALITY_NOTE_MAX_LENGTH = 500  # IndicatorReturnWriteSerializer.quality_note
QUALITY_CHOICES = {str(value): value for value, _ in DataQuality.choices}  # as ChoiceField maps them
# Null characters (ProhibitNullCharactersValidator) and lone surrogates
# (ProhibitSurrogateCharactersValidator): CharField refuses both.
REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")

CODES = ("indicator", "locality", "period")
FIGURES = ("value", "numerator", "denominator")
SURVEY_FIGURES = ("ci_lower", "ci_upper")
FLAGS = ("submit", "confirm_warnings")
# The serializer's fields: an item naming anything else goes to the serializer.
KNOWN = frozenset((*CODES, *FIGURES, "commentary", "breakdowns", "quality", "source_released", "quality_note",
                   *SURVEY_FIGURES, "sample_base", "version", *FLAGS))


class NotPlain(Exception):
    """The item is not plainly valid: the serializer must judge it."""


def plain_decimal(value):
    """A DecimalField(max_digits=20, decimal_places=4, allow_null=True) value: None (null, or a
    blank string), or the quantized Decimal. Raises NotPlain for anything else."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        if not text:
            return None  # DRF: a blank string in a nullable DecimalField is null
    elif kind is int:
        if not -INTEGER_LIMIT < value < INTEGER_LIMIT:
            raise NotPlain
        text = str(value)
    elif kind is float:
        text = str(value)  # as DRF's smart_str: "0.1", "1e-05", "nan", "inf"
    elif value is None:
        return None
    else:
        raise NotPlain
    if PLAIN_DECIMAL.fullmatch(text) is None:
        raise NotPlain
    return Decimal(text).quantize(FOUR_PLACES, context=TWENTY_DIGITS)


def plain_text(value, *, max_length: int | None = None, blank: bool = False) -> str:
    """A CharField value (trimmed): a string without null characters or lone surrogates, within
    ``max_length``; blank only if ``blank`` allows it. Raises NotPlain for anything else."""
    if type(value) is not str:
        raise NotPlain
    text = value.strip()
    if not text:
        if blank:
            return ""
        raise NotPlain
    if (max_length is not None and len(text) > max_length) or REFUSED_CHARACTERS.search(text):
        raise NotPlain
    return text


def plain_integer(value):
    """IntegerField(allow_null=True, min_value=1): None, or an int of at least 1."""
    if value is None:
        return None
    if type(value) is not int or not 0 < value < INTEGER_LIMIT:
        raise NotPlain
    return value


def plain_breakdowns(value) -> dict:
    """DictField(child=DecimalField(20, 4, allow_null=True)): the figures by (string) key."""
    if type(value) is not dict:
        raise NotPlain
    return {plain_key(key): plain_decimal(figure) for key, figure in value.items()}


def plain_key(key) -> str:
    if type(key) is not str:  # DictField writes str(key); a JSON object's keys are strings
        raise NotPlain
    return key


def plain_choice(value) -> str:
    """ChoiceField(choices=DataQuality.choices): one of the choices, sent as a string."""
    if type(value) is not str or value not in QUALITY_CHOICES:
        raise NotPlain
    return QUALITY_CHOICES[value]


def plain_null(value) -> None:
    """DateField(allow_null=True) sent null (a date itself goes to the serializer)."""
    if value is not None:
        raise NotPlain


def plain_flag(value) -> bool:
    """BooleanField: true or false (DRF's other spellings go to the serializer)."""
    if type(value) is not bool:
        raise NotPlain
    return value


def plain_item(raw) -> dict | None:
    """``raw`` as ``IndicatorReturnWriteSerializer().run_validation(raw)`` returns it, if it is
    plainly valid; otherwise None (the serializer must check it, and will give its messages)."""
    if type(raw) is not dict or not KNOWN.issuperset(raw):
        return None
    try:
        item = {name: plain_text(raw[name]) for name in CODES}  # KeyError: a code is missing
        for name in FIGURES:
            if name in raw:
                item[name] = plain_decimal(raw[name])
        item["commentary"] = plain_text(raw["commentary"], max_length=COMMENTARY_MAX_LENGTH, blank=True) \
            if "commentary" in raw else ""
        item["breakdowns"] = plain_breakdowns(raw["breakdowns"]) if "breakdowns" in raw else {}
        if "quality" in raw:
            item["quality"] = plain_choice(raw["quality"])
        if "source_released" in raw:
            item["source_released"] = plain_null(raw["source_released"])
        if "quality_note" in raw:
            item["quality_note"] = plain_text(raw["quality_note"], max_length=QUALITY_NOTE_MAX_LENGTH, blank=True)
        for name in SURVEY_FIGURES:
            if name in raw:
                item[name] = plain_decimal(raw[name])
        for name in ("sample_base", "version"):
            if name in raw:
                item[name] = plain_integer(raw[name])
        for name in FLAGS:
            item[name] = plain_flag(raw[name]) if name in raw else False
    except (NotPlain, KeyError):
        return None
    return item
