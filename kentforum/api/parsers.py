"""The API's JSON parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]): DRF's, refusing with a 400
what would otherwise fail deep inside the server:

- JSON nested deeper than any body of ours (the deepest, a bulk list of returns with their
  breakdowns, is three levels); thousands of levels overflow Python's stack while parsing;
- lone surrogates (``"\\ud800"``): JSON may escape them, but they are not characters, so neither
  the database driver nor the JSON renderer can write them back out.
"""
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_parsed(data) -> None:
    """Walk parsed JSON without recursion; raise ParseError at the first lone surrogate (in a
    key or a string) or at a level deeper than MAX_DEPTH."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                raise ParseError(
                    "JSON parse error - the text holds a lone surrogate (an escape from \\ud800 to \\udfff "
                    "without its pair), which is not a character. Send text as UTF-8."
                )
            continue
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep.")
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing deep nesting and lone surrogates with a ParseError (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep.") from None
        check_parsed(data)
        return data
