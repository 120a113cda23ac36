"""Which indicators (and areas) a board, an ambition, a KPQ or a delivery plan covers, resolved
from the framework's small tables before the big ones are read.

The API's lists of returns and summary rows are filtered by these: the filter becomes
``indicator_id IN (…)`` (and ``locality_id IN (…)`` for a Locality Board) with the ids written
out, instead of joins through ambitions and boards with ``DISTINCT``. The planner then knows how
many rows the ids stand for (their statistics) and reads them through the table's indexes on
indicator or area; through the joins it walked the whole table in id order, filtering as it
went, which with the ids scattered (as after a full rebuild) took 7.7 s instead of 0.39 s a page
at a million values (issue 19)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connections
from django.db.models import Q, QuerySet

from localities.models import Locality
from performance.models import Indicator


@dataclass(frozen=True)
class FilterScope:
    """Rows belong to a scope when their indicator is one of ``indicator_ids`` or their area is
    one of ``locality_ids`` (either may be empty: then nothing matches on that side)."""

    indicator_ids: tuple[int, ...] = ()
    locality_ids: tuple[int, ...] = ()

    def q(self, indicator_field: str = "indicator_id", locality_field: str = "locality_id") -> Q:
        """The condition on a table with indicator and area columns (nothing matches an empty scope)."""
        condition = Q(pk__in=[])
        if self.indicator_ids:
            condition |= Q(**{f"{indicator_field}__in": list(self.indicator_ids)})
        if self.locality_ids:
            condition |= Q(**{f"{locality_field}__in": list(self.locality_ids)})
        return condition


def _ids(queryset) -> tuple[int, ...]:
    return tuple(sorted(set(queryset.values_list("pk", flat=True))))


def ambition_scope(number: int) -> FilterScope:
    """The indicators that are evidence for an ambition."""
    return FilterScope(indicator_ids=_ids(Indicator.objects.filter(ambitions__number=number)))


def board_scope(slug: str) -> FilterScope:
    """A board's rows: an Ambition Board's indicators (its ambition's) in every area, and a
    Locality Board's district, every indicator in it. A board that does neither (the Forum, Joint
    Kent Chiefs) or does not exist covers nothing."""
    return FilterScope(
        indicator_ids=_ids(Indicator.objects.filter(ambitions__board__slug=slug)),
        locality_ids=_ids(Locality.objects.filter(board__slug=slug)),
    )


def parse_kpq(code: str) -> tuple[int, int] | None:
    """A KPQ's code as people write it, "A2-KPQ4" (any case): (ambition 2, KPQ 4); None if it is
    not one."""
    try:
        ambition, number = code.strip().upper().removeprefix("A").split("-KPQ")
        return int(ambition), int(number)
    except ValueError:
        return None


def kpq_scope(code: str) -> FilterScope:
    """The indicators that answer a KPQ ("A2-KPQ4"); none for a code that is not a KPQ's."""
    parsed = parse_kpq(code)
    if parsed is None:
        return FilterScope()
    return FilterScope(indicator_ids=_ids(Indicator.objects.filter(kpqs__ambition__number=parsed[0], kpqs__number=parsed[1])))


def delivery_plan_scope(slug: str) -> FilterScope:
    """A delivery plan's indicators: those of the ambitions it serves."""
    return FilterScope(indicator_ids=_ids(Indicator.objects.filter(ambitions__delivery_plans__slug=slug)))


# --- Paging a scoped list through the indexes ----------------------------------------------

MAX_BRANCHES = 200  # above this many indicators and areas, a page is read the ordinary way (each costs ~1 ms to compile)


class ScopedQuerySet(QuerySet):
    """A list filtered to a scope and paged in id order (the API's cursor pages), read one
    indicator or area at a time through the (indicator, id) and (area, id) indexes.

    Ordered by id and filtered to a few indicators, PostgreSQL either walks the whole table in id
    order, filtering, or reads every row of the indicators and sorts them; which it chooses
    depends on its statistics, and either costs more as the table grows (0.28 s a page for a
    KPQ's five indicators at a million values). Sliced, this queryset first takes, for each
    indicator and area of the scope, the first rows of the whole filtered list in that
    indicator or area (each an index scan that stops at the page's end), then the page itself
    from among them: the same rows, at a cost that does not grow with the table."""

    _filter_scope: FilterScope | None = None
    _unscoped_class: type = QuerySet

    def _clone(self):
        clone = super()._clone()
        clone._filter_scope = self._filter_scope
        return clone

    def _plain(self) -> QuerySet:
        """The same queryset of the class it had before it was scoped."""
        plain = super()._clone()
        plain.__class__ = self._unscoped_class
        return plain

    def _pages_by_branch(self, stop: int) -> bool:
        scope = self._filter_scope
        return (
            scope is not None and connections[self.db].features.supports_slicing_ordering_in_compound
            and 0 < len(scope.indicator_ids) + len(scope.locality_ids) <= MAX_BRANCHES
            and tuple(self.query.order_by) in {("id",), ("-id",), ("pk",), ("-pk",)}
            and self.query.low_mark == 0 and self.query.high_mark is None and stop is not None
        )

    def __getitem__(self, k):
        if not isinstance(k, slice) or k.step or not self._pages_by_branch(k.stop):
            return super().__getitem__(k)
        scope, plain = self._filter_scope, self._plain()
        branches = [plain.filter(indicator_id=i) for i in scope.indicator_ids]
        branches += [plain.filter(locality_id=pk) for pk in scope.locality_ids]
        heads = [b.values_list("pk", flat=True)[:k.stop] for b in branches]
        candidates = set(heads[0].union(*heads[1:], all=True)) if len(heads) > 1 else set(heads[0])
        descending = self.query.order_by[0].startswith("-")
        page = sorted(candidates, reverse=descending)[:k.stop]
        return plain.filter(pk__in=page)[k.start:k.stop]


@functools.cache
def _scoped_class(base: type) -> type:
    """A queryset class with the scoped paging and every method of ``base`` (a model's own
    queryset, such as the returns' ``ReturnQuerySet``)."""
    if issubclass(base, ScopedQuerySet):
        return base
    return type(f"Scoped{base.__name__}", (ScopedQuerySet, base), {"_unscoped_class": base})


def in_scope(queryset: QuerySet, scope: FilterScope) -> ScopedQuerySet:
    """The queryset filtered to a scope, paged through the indexes when sliced in id order. A
    second scope (``?board=…&kpq=…``) narrows the rows; the pages are read by the narrower."""
    scoped = queryset.filter(scope.q())
    scoped.__class__ = _scoped_class(type(queryset))
    current = getattr(queryset, "_filter_scope", None)
    if current is None or len(scope.indicator_ids) + len(scope.locality_ids) < (
        len(current.indicator_ids) + len(current.locality_ids)
    ):
        scoped._filter_scope = scope
    return scoped
