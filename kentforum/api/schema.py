"""OpenAPI schema post-processing (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): the schema says
what each operation serves, so that a generated client can rely on it.

- Every operation documents the errors it can answer with, and only those: 409 only where a
  write declares it (a stale version), 415 only on operations that take a body.
- A JSON operation documents JSON only. Every list also has a CSV twin, its path ending in
  ``.csv`` (``/api/v1/indicators.csv``), whose answers are ``text/csv`` text (its errors too,
  listed first, so that a generated client reads any error as text), so a client never parses
  CSV as JSON. Both are paged; the ``Link`` header names the next page.
"""
from __future__ import annotations

import copy

ERROR_REF = "#/components/schemas/Error"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
STANDARD_ERRORS = {
    "400": "Invalid input (an unknown or invalid query parameter, a page, a field): the body says which and why.",
    "401": "The credentials are not a valid partner key: an unknown, revoked or expired key, or a key sent in any "
           "other way than `Authorization: Api-Key <key>`.",
    "403": "The caller may not do this (for example, another organisation's return).",
    "404": "No such object, or not one the caller may see; or a page past the end.",
    "406": "The requested format is not offered.",
    "415": "The body must be JSON (application/json).",
    "429": "Too many requests for this key, user or address (a bulk write counts each item); see the Retry-After header.",
    "503": "The database was busy (another save of the same returns, or a slow query); nothing was saved. See the "
           "Retry-After header.",
}
BODY_ONLY = {"415"}  # answered only to a request with a body
BODY_METHODS = ("post", "put", "patch")
CSV = {"schema": {"type": "string"}}
LINK_HEADER = {
    "Link": {
        "description": 'The next and previous pages, if any: `<url>; rel="next", <url>; rel="prev"`.',
        "schema": {"type": "string"},
    },
}
KEY_ONLY_PATHS = ("/api/v1/webhooks/",)  # a partner's own webhooks: its API key always (no key is 401)
FORMAT = "format"


def is_list(method: str, operation: dict) -> bool:
    return method == "get" and any(p.get("name") == "page_size" for p in operation.get("parameters", []))


def error_responses(operation: dict, method: str, media: dict) -> None:
    """Add the standard errors an operation can answer with, each with the given content."""
    responses = operation["responses"]
    for code, description in STANDARD_ERRORS.items():
        if code in BODY_ONLY and (method not in BODY_METHODS or "requestBody" not in operation):
            continue
        response = responses.setdefault(code, {"description": description})
        response["content"] = {**media, **{k: v for k, v in response.get("content", {}).items() if k in media}}


def json_only(operation: dict) -> None:
    """The operation as JSON: no ``format`` parameter and no other media types."""
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != FORMAT]
    for response in operation["responses"].values():
        if "content" in response:
            response["content"] = {k: v for k, v in response["content"].items() if k == "application/json"}


def csv_twin(operation: dict, description: str) -> dict:
    """The CSV version of a list operation."""
    twin = copy.deepcopy(operation)
    twin["operationId"] = f"{operation['operationId']}_csv"
    twin["description"] = (operation.get("description", "") + "\n\n" + description).strip()
    twin["responses"] = {"200": {
        "description": "The page as CSV, a header row then one row per item (nested values as dotted columns); "
                       "text a spreadsheet would run as a formula starts with an apostrophe.",
        "headers": copy.deepcopy(LINK_HEADER),
        "content": {"text/csv": copy.deepcopy(CSV)},
    }}
    # Errors are CSV; those answered before the API is reached (such as a NUL in the address) are JSON.
    error_responses(twin, "get", {"text/csv": copy.deepcopy(CSV), "application/json": {"schema": {"$ref": ERROR_REF}}})
    return twin


def add_standard_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    json_error = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    twins = {}
    for route, path in result.get("paths", {}).items():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if route.startswith(KEY_ONLY_PATHS):
                operation["security"] = [s for s in operation.get("security", []) if s]
            elif method in ("get", "head") and {} not in operation.setdefault("security", []):
                # Every read is open to anonymous callers (published data only).
                operation["security"].append({})
            if route.endswith(".csv") and method == "get":  # an export (approved values): CSV, errors in JSON
                operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != FORMAT]
                error_responses(operation, method, json_error)
                continue
            json_only(operation)
            error_responses(operation, method, json_error)
            if is_list(method, operation):
                operation["responses"]["200"].setdefault("headers", {}).update(copy.deepcopy(LINK_HEADER))
                if not operation["responses"]["200"].get("description"):
                    operation["responses"]["200"]["description"] = "A page of the list."
                twins[route.rstrip("/") + ".csv"] = {"get": csv_twin(
                    operation, f"As CSV: the same list, filters and pages as `GET {route}`.",
                )}
    result["paths"] = dict(sorted({**result.get("paths", {}), **twins}.items()))
    return result
