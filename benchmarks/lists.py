"""The API's filtered lists at two scales (issue 19, item 3): the summary rows by board, ambition,
KPQ and delivery plan, the first page and a page ten pages in, measured the way a partner reads
them (the API's JSON, 100 rows a page, following the ``next`` links).

The filters resolve their indicators (or a Locality Board's district) first and read the pages
one indicator or area at a time through the (indicator, id) and (area, id) indexes
(``performance.catalogue.filter_scope``), so a page should cost the same whatever the size of
the table and the order of its ids. The parent process compares each list at the large scale
with the same list at the small one (target: within 1.5×)."""
from __future__ import annotations

import time

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ambitions.models import DeliveryPlan
from partnerships.models import Board

PAGE = 100
DEEP = 10  # the page the second measurement reads, following next links


def lists_to_measure() -> list[tuple[str, dict]]:
    """The filtered lists: an Ambition Board, a Locality Board, an ambition, a KPQ, a delivery
    plan (the first of ambition 1's), and the unfiltered list beside them."""
    plan = DeliveryPlan.objects.filter(ambitions__number=1).order_by("slug").values_list("slug", flat=True).first()
    return [
        ("every row", {}),
        ("Ambition Board 1", {"board": Board.objects.get(ambition__number=1).slug}),
        ("Ashford's Locality Board", {"board": Board.objects.get(locality__gss_code="E07000105").slug}),
        ("ambition 2", {"ambition": 2}),
        ("KPQ A1-KPQ1", {"kpq": "A1-KPQ1"}),
        (f"delivery plan {plan}", {"delivery_plan": plan}),
    ]


def _deep_link(client: Client, params: dict) -> str | None:
    response = client.get("/api/v1/rollups/", {**params, "page_size": PAGE}).json()
    for _ in range(DEEP - 1):
        if not response["next"]:
            return None
        response = client.get(response["next"]).json()
    return response["next"]


def filtered_lists(repeat: int) -> dict:
    """For each list: seconds for its first page and for its tenth (median of ``repeat``), SQL
    queries a page, rows on the first page."""
    client = Client()
    result = {}
    for name, params in lists_to_measure():
        first = {**params, "page_size": PAGE}
        response = client.get("/api/v1/rollups/", first)  # warm: connections, the scope's queries
        assert response.status_code == 200, response.content[:200]
        rows = len(response.json()["results"])
        deep = _deep_link(client, params)
        firsts, deeps = [], []
        for _ in range(repeat):
            reset_queries()
            started = time.perf_counter()
            with CaptureQueriesContext(connection):
                client.get("/api/v1/rollups/", first)
                queries = len(connection.queries)
            firsts.append(time.perf_counter() - started)
            if deep:
                started = time.perf_counter()
                client.get(deep)
                deeps.append(time.perf_counter() - started)
        result[name] = {"params": params, "first_page_seconds": firsts, "deep_page_seconds": deeps,
                        "queries": queries, "rows": rows}
    return result
