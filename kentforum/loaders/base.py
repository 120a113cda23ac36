"""Idempotent upserts for the loaders: each write is counted as created, updated or unchanged,
so that a second run can say it changed nothing."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import models


def read_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@dataclass
class LoadReport:
    """What a load did, per model: how many rows it created, updated or left unchanged."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def count(self, label: str, outcome: str) -> None:
        self.counts[label][outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] for c in self.counts.values())

    def lines(self) -> list[str]:
        return [
            f"{label}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for label, c in self.counts.items()
        ]


class Upserter:
    """Creates or updates rows by natural key, validating each with ``full_clean()``."""

    def __init__(self) -> None:
        self.report = LoadReport()

    @staticmethod
    def _label(model: type[models.Model]) -> str:
        return str(model._meta.verbose_name_plural)

    def upsert(self, model: type[models.Model], lookup: dict, values: dict | None = None) -> models.Model:
        values = values or {}
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean()
            obj.save()
            self.report.count(self._label(model), "created")
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.full_clean()
            obj.save()
            self.report.count(self._label(model), "updated")
        else:
            self.report.count(self._label(model), "unchanged")
        return obj

    def set_related(self, obj: models.Model, attribute: str, targets: list[models.Model], label: str) -> None:
        """Make a many-to-many relation hold exactly ``targets``."""
        manager = getattr(obj, attribute)
        wanted = {t.pk for t in targets}
        if set(manager.values_list("pk", flat=True)) != wanted:
            manager.set(targets)
            self.report.count(label, "updated")
        else:
            self.report.count(label, "unchanged")
