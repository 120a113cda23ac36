"""Who is acting when it is not a signed-in person: a partner system through its API key. The
services take either a user or a ``KeyActor``; the audit trail names the key."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyActor:
    """A partner system acting through its API key: it may submit (never approve) returns of
    the organisations its key names, if its scope is 'submit'."""

    key: object
    is_authenticated: bool = True

    @property
    def organisation_ids(self) -> set[int]:
        if self.key.scope != "submit":
            return set()
        return set(self.key.organisations.values_list("pk", flat=True))

    def __str__(self) -> str:
        return f"API key '{self.key.name}' ({self.key.prefix})"
