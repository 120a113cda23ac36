"""The site's search: indicators, Key Performance Questions, delivery plans, boards and
partnerships, by words. On PostgreSQL it is full-text search (English stemming, ranked: a
word's other forms match, "reduce" finds "reducing"); on the embedded SQLite every word must
appear somewhere in the item (a plain fallback, unranked). Only published things are searched:
the framework and active indicators, never returns."""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q
from django.urls import reverse

from ambitions.models import KPQ, DeliveryPlan
from partnerships.models import Board, StrategicPartnership
from performance.models import Indicator

MAX_RESULTS = 50  # of each kind
MAX_WORDS = 12


@dataclass(frozen=True)
class Result:
    kind: str
    title: str
    summary: str
    url: str


# What is searched of each kind: the queryset, the fields, and how a found item is shown.
KINDS = [
    ("Indicator", lambda: Indicator.objects.filter(is_active=True), ("code", "name", "definition", "source"),
     lambda i: Result("Indicator", f"{i.name} ({i.code})", i.definition, reverse("dashboards:indicator", args=[i.code]))),
    ("Key Performance Question", lambda: KPQ.objects.select_related("ambition"), ("text",),
     lambda k: Result("Key Performance Question", f"{k.code}: {k.text}", f"Ambition {k.ambition.number}: {k.ambition.title}",
                      reverse("dashboards:kpq", args=[k.code]))),
    ("Delivery plan", lambda: DeliveryPlan.objects.all(), ("name", "title", "owner_name"),
     lambda p: Result("Delivery plan", p.name, p.owner_name or p.title, reverse("delivery-plans") + f"#plan-{p.slug}")),
    ("Board", lambda: Board.objects.all(), ("name", "roles"),
     lambda b: Result("Board", b.name, b.get_kind_display(), reverse("board", args=[b.slug]))),
    ("Partnership", lambda: StrategicPartnership.objects.select_related("lead_board"), ("name", "description"),
     lambda p: Result("Partnership", p.name, p.description, reverse("partnerships") + f"#partnership-{p.slug}")),
]


def words_of(text: str) -> list[str]:
    return [w for w in (text or "").split() if w.strip()][:MAX_WORDS]


def search(text: str) -> list[Result]:
    """What matches every word of ``text``, indicators first; nothing for an empty query."""
    words = words_of(text)
    if not words:
        return []
    results: list[Result] = []
    for _kind, queryset, fields, show in KINDS:
        if connection.vendor == "postgresql":
            query = SearchQuery(" ".join(words), search_type="plain", config="english")
            found = (queryset().annotate(kf_vector=SearchVector(*fields, config="english"))
                     .annotate(kf_rank=SearchRank("kf_vector", query)).filter(kf_vector=query).order_by("-kf_rank"))
        else:
            found = queryset().filter(reduce(and_, (reduce(or_, (Q(**{f"{name}__icontains": word}) for name in fields))
                                                    for word in words)))
        results += [show(item) for item in found[:MAX_RESULTS]]
    return results
