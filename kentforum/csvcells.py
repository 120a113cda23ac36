"""Cells of the CSV files the portal writes and reads back: text a spreadsheet would run as a
formula is neutralised with a leading apostrophe (and the apostrophe taken off again when the
file comes back); numbers are written as plain digits."""
from __future__ import annotations

import re
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# --- Export ------------------------------------------------------------------------------------

def safe_cell(value) -> str:
    """A cell as text, with a leading apostrophe where a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def export_cell(value):
    """A cell of any CSV export (the board report, the API's CSV): a number, or text that is a
    plain number, stays a number (a minus sign is not a formula); other text goes through
    ``safe_cell``."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and NUMBER_TEXT.match(value):
        return value
    return safe_cell(value)


def unneutralised(text: str) -> str:
    """A cell of an uploaded file as it was before ``safe_cell`` (the apostrophe taken off)."""
    if text.startswith("'") and text[1:2] and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def number_cell(value) -> str:
    """A number as plain digits (a real negative number stays a number, with its minus sign)."""
    if value is None:
        return ""
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
