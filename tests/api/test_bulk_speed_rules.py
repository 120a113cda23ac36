"""The bulk write's speed rules change nothing it does: the pause of Python's cyclic collector
(kentforum/api/gc_pause.py) is undone whatever happens and covers the bulk write alone, and the
read of the returns just saved (``views.saved_returns``, by primary key) gives the rows and the
order that ``filter(pk__in=...)`` gives."""
from __future__ import annotations

import gc
import random
from decimal import Decimal

import pytest

from kentforum.api.gc_pause import gc_paused
from performance.catalogue import services
from performance.models import BreakdownCategory, BreakdownDimension, IndicatorReturn, WorkflowState
from performance.returns import bulk_entry
from performance.returns.api import rows, views
from tests.factories import IndicatorFactory, council, district, open_quarter


@pytest.fixture
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_pause_disables_the_collector_and_enables_it_again_after_an_exception(collector_enabled):
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("refused")
    assert gc.isenabled()


def test_a_collector_disabled_before_the_pause_stays_disabled(collector_enabled):
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("refused")
    assert not gc.isenabled()
    gc.enable()


def _slots(count: int) -> list[str]:
    codes = [f"T-GC-{n:03d}" for n in range(count)]
    for code in codes:
        services.assignment_ensure(organisation=council(), indicator=IndicatorFactory(code=code), locality=district())
    return codes


def test_only_the_bulk_write_runs_with_the_collector_paused(db, collector_enabled, period, submit_client, monkeypatch):
    during = []
    save, items = bulk_entry.indicator_returns_save_by_codes, rows.indicator_return_items

    def saving(**kwargs):
        during.append(("bulk", gc.isenabled()))
        return save(**kwargs)

    def listing(page):
        during.append(("list", gc.isenabled()))
        return items(page)

    monkeypatch.setattr(bulk_entry, "indicator_returns_save_by_codes", saving)
    monkeypatch.setattr(rows, "indicator_return_items", listing)
    body = [{"indicator": code, "locality": "E07000105", "period": period.label, "value": "3"} for code in _slots(3)]
    response = submit_client.post("/api/v1/indicator-returns/bulk/", body, format="json")
    assert response.status_code == 201, response.content
    assert gc.isenabled()
    refused = submit_client.post("/api/v1/indicator-returns/bulk/", [{**body[0], "value": "x"}], format="json")
    assert refused.status_code == 400 and gc.isenabled()
    assert submit_client.get("/api/v1/indicator-returns/").status_code == 200
    assert gc.isenabled()
    # the bulk answer's items are written with the collector still paused; the list's with it on
    assert during == [("bulk", False), ("list", False), ("list", True)]


def test_the_saved_returns_are_read_as_filter_pk_in_reads_them(officer, other_officer):
    """Totals (what a bulk write answers with) of two areas, indicators and periods made in an
    order unlike the answer's (period start, indicator code, area name), beside breakdown rows,
    and drafts of another council the officer may not read: the same rows in the same order,
    whatever the order (and repeats) of the ids."""
    later, earlier = open_quarter(2011, 2), open_quarter(2010, 4)
    dimension = BreakdownDimension.objects.create(code="t-speed", name="Speed")
    category = BreakdownCategory.objects.create(dimension=dimension, code="fast", label="Fast")
    indicators = [IndicatorFactory(code=code) for code in ("T-ZED", "T-ALPHA", "T-MID")]
    areas = [(district("Ashford"), council(), WorkflowState.DRAFT),
             (district("Dover"), council("Dover District Council"), WorkflowState.DRAFT),
             (district("Dover"), council("Dover District Council"), WorkflowState.APPROVED)]
    made = []
    for period in (later, earlier):
        for n, indicator in enumerate(indicators):
            locality, organisation, state = areas[n]
            for breakdown in (None, category):
                pk = IndicatorReturn.objects.create(
                    indicator=indicator, locality=locality, period=period, organisation=organisation, state=state,
                    breakdown=breakdown, value=Decimal(n) + Decimal("0.5"), commentary=f"{period.label} {n}",
                ).pk
                if breakdown is None:
                    made.append(pk)
    ids = made[::-1] + made[:3]
    random.Random(7).shuffle(ids)
    for actor in (officer, other_officer):
        queryset = IndicatorReturn.objects.restrict(actor, "view").select_related(
            "indicator", "locality", "period", "organisation", "breakdown__dimension")
        expected = list(rows.indicator_return_rows(queryset.filter(pk__in=ids)))
        assert 0 < len(expected) < len(made)
        got = list(rows.indicator_return_rows(views.saved_returns(queryset, ids)))
        assert got == expected
        assert rows.indicator_return_items(got) == rows.indicator_return_items(expected)
    assert list(views.saved_returns(queryset, [])) == []
