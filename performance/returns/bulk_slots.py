"""What the API's bulk entry (``returns.bulk_entry``) holds in memory for each slot of a batch:
the returns stored for it (total and breakdown rows, as far as the checks need them), a snapshot
to restore when an item is refused, and the assignment that says who returns it."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NamedTuple

from performance.models import DataQuality, Indicator, WorkflowState
from performance.returns import validation
from performance.returns.bulk_write import Event


@dataclass
class BatchReturn:
    """A return (total or breakdown row) as the batch holds it: as stored, then as each item
    leaves it. Its attributes are those of ``IndicatorReturn`` the services read."""

    pk: int | None
    organisation_id: int
    state: str
    version: int
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    commentary: str = ""
    quality: str = DataQuality.FINAL
    source_released: object = None
    quality_note: str = ""
    ci_lower: Decimal | None = None
    ci_upper: Decimal | None = None
    sample_base: int | None = None
    return_reason: str = ""
    submitted_at: object = None
    submitted_by_id: int | None = None
    confirmed_warnings: list = field(default_factory=list)

    def get_state_display(self) -> str:
        return WorkflowState(self.state).label

    def __str__(self) -> str:
        return f"Return {self.pk or '(new)'}"


STORED_FIELDS = (
    "pk", "organisation_id", "state", "version", "value", "numerator", "denominator", "commentary",
    *validation.QUALITY_FIELDS, "return_reason", "submitted_at", "submitted_by_id", "confirmed_warnings",
)


class BatchSlot:
    """One indicator, area and period named by the items: its total and breakdown rows as stored
    (what the write compares with) and as the items leave them, and the events they make."""

    __slots__ = ("indicator", "locality", "period", "total", "parts", "stored_version", "stored_parts", "events",
                 "submitted")

    def __init__(self, indicator, locality, period, total: BatchReturn | None, parts: dict[int, BatchReturn]):
        self.indicator, self.locality, self.period = indicator, locality, period
        self.total, self.parts = total, parts
        self.stored_version = total.version if total else None
        self.stored_parts = {category_id: replace(part) for category_id, part in parts.items()}
        self.events: list[Event] = []
        self.submitted = False

    def snapshot(self) -> tuple:
        return (replace(self.total) if self.total else None, {k: replace(v) for k, v in self.parts.items()},
                list(self.events), self.submitted)

    def restore(self, snapshot: tuple) -> None:
        self.total, self.parts, self.events, self.submitted = snapshot


class BatchAssignment(NamedTuple):
    """Who returns an indicator for an area (``IndicatorAssignment``, with its objects)."""

    indicator: Indicator
    locality: object
    organisation: object

    @property
    def indicator_id(self) -> int:
        return self.indicator.pk

    @property
    def locality_id(self) -> int:
        return self.locality.pk

    @property
    def organisation_id(self) -> int:
        return self.organisation.pk
