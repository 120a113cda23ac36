"""The one translation of a service's ``ValidationError`` into what each door shows: a dict of
field: [messages] (the API, the bulk write, the CSV import), errors on a form (the browser
pages) or (field id, message) pairs for a GOV.UK error summary. A ValidationError without
fields (a plain message or a list) belongs to no field."""
from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

API_NON_FIELD = "non_field_errors"  # DRF's name for errors of no field


def error_dict(error: ValidationError, *, non_field: str = API_NON_FIELD) -> dict[str, list[str]]:
    """Field: [messages]; messages of no field under ``non_field``."""
    if hasattr(error, "error_dict"):
        return {(non_field if name == NON_FIELD_ERRORS else name): list(messages)
                for name, messages in error.message_dict.items()}
    return {non_field: list(error.messages)}


def add_to_form(form, error: ValidationError) -> None:
    """Put a service's errors on the form's fields; those of fields it does not have on the form itself."""
    for name, messages in error_dict(error, non_field=NON_FIELD_ERRORS).items():
        form.add_error(name if name in form.fields else None, messages)


def summary_pairs(error: ValidationError, *, prefix: str = "id_") -> list[tuple[str, str]]:
    """(field id, message) pairs for a GOV.UK error summary: a field's errors link to it, the
    others to nothing (as ``kentforum.forms.error_list`` gives them for a form)."""
    return [
        ("" if name == NON_FIELD_ERRORS else f"{prefix}{name}", message)
        for name, messages in error_dict(error, non_field=NON_FIELD_ERRORS).items() for message in messages
    ]


def joined(error: ValidationError) -> str:
    """Every message of the error in one sentence, for a banner."""
    return " ".join(message for messages in error_dict(error).values() for message in messages)
