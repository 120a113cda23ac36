"""Two people saving the same return at the same moment, on PostgreSQL: one wins, the other is
refused with their input kept, and the audit trail shows exactly one change."""
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from performance.models import IndicatorReturn, ReturnEvent
from performance.returns import validation, workflow
from tests.conftest import requires_postgres
from tests.factories import council, district

pytestmark = [pytest.mark.slow, requires_postgres, pytest.mark.django_db(transaction=True)]


def run_together(*functions):
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_saves_through_the_service(framework, officer, period, count_indicator):
    first = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(10)),
    )

    def save(value):
        return lambda: workflow.indicator_return_save_draft(
            indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
            figures=validation.IndicatorFigures(value=Decimal(value)), expected_version=first.version,
        )

    results = run_together(save(11), save(12))
    saved = [r for r in results if isinstance(r, IndicatorReturn)]
    refused = [r for r in results if isinstance(r, workflow.StaleReturnError)]
    assert len(saved) == 1 and len(refused) == 1, results
    stored = IndicatorReturn.objects.get(pk=first.pk)
    assert stored.version == 2 and stored.value == saved[0].value
    assert refused[0].current.version == 2
    assert ReturnEvent.objects.filter(indicator_return=stored, action="saved").count() == 1


def test_concurrent_form_posts(framework, officer, period, count_indicator):
    url = reverse("performance:indicator-return", args=[period.pk, count_indicator.code, district().gss_code])
    seed = Client()
    seed.force_login(officer)
    seed.post(url, {"action": "save", "value": "10", "commentary": "", "version": ""})

    def post(value, words):
        def go():
            client = Client()
            client.force_login(officer)
            return client.post(url, {"action": "save", "value": value, "commentary": words, "version": "1"})
        return go

    responses = run_together(post("11", "from the first browser"), post("12", "from the second browser"))
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 409], codes
    loser = next(r for r in responses if r.status_code == 409)
    html = loser.content.decode()
    assert "Someone else changed this return" in html
    stored = IndicatorReturn.objects.get(breakdown__isnull=True)
    words = {"from the first browser", "from the second browser"}
    assert stored.commentary in words and stored.version == 2
    (loser_words,) = words - {stored.commentary}
    assert f">{loser_words}</textarea>" in html, "the refused person's input is kept in the form"
    assert stored.commentary in html, "and the saved version is shown beside it"
    events = ReturnEvent.objects.filter(indicator_return=stored).order_by("id")
    assert [e.action for e in events] == ["created", "saved"]
