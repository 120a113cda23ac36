"""OpenAPI schema post-processing: every operation documents the errors it can answer with."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
STANDARD_ERRORS = {
    "400": "Invalid input (a filter, a page, a field): the body says which and why.",
    "401": "The API key is unknown, revoked or expired.",
    "403": "The caller may not do this (for example, another organisation's return).",
    "404": "No such object, or not one the caller may see; or a page past the end.",
    "405": "This method is not allowed here.",
    "406": "The requested format is not offered.",
    "409": "The return changed since the caller read it: the body holds the current version.",
    "415": "The body must be JSON (application/json).",
    "429": "Too many requests for this key, user or address (a bulk write counts each item); see the Retry-After header.",
    "503": "The database was busy (another save of the same returns, or a slow query); nothing was saved. See the "
           "Retry-After header.",
}


KEY_ONLY_PATHS = ("/api/v1/webhooks/",)  # a partner's own webhooks: its API key always (no key is 401)


def add_standard_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for route, path in result.get("paths", {}).items():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if route.startswith(KEY_ONLY_PATHS):
                operation["security"] = [s for s in operation.get("security", []) if s]
            elif method in ("get", "head") and {} not in operation.setdefault("security", []):
                # Every read is open to anonymous callers (published data only).
                operation["security"].append({})
            for code, description in STANDARD_ERRORS.items():
                response = operation["responses"].setdefault(code, {"description": description, "content": {}})
                content = response.setdefault("content", {})
                content.setdefault("application/json", {"schema": {"$ref": "#/components/schemas/Error"}})
                # Lists answer in CSV when asked (?format=csv), errors included.
                content.setdefault("text/csv", {"schema": {"type": "string"}})
    return result
