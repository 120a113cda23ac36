"""A new quarter's form offers last quarter's commentary to start from (``selectors.carried_commentary``),
marked as carried forward while the text is still last quarter's."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from performance.catalogue import periods, services
from performance.models import IndicatorReturn, WorkflowState
from performance.returns import selectors
from tests.factories import council, district

LAST = "Police data for March arrive late.\nThe figure is provisional."


def earlier(count_indicator, quarter, commentary, *, state=WorkflowState.APPROVED, organisation=None):
    period, _ = services.period_ensure(span=periods.quarter(2011, quarter))
    IndicatorReturn.objects.create(indicator=count_indicator, locality=district(), period=period, value=Decimal(10 + quarter),
                                   organisation=organisation or council(), state=state, commentary=commentary)
    return period


def page(period, indicator):
    return reverse("performance:indicator-return", args=[period.pk, indicator.code, district().gss_code])


def commentary_in(html) -> str:
    start = html.index('name="commentary"')
    return html[html.index(">", start) + 1:html.index("</textarea>", start)]


def test_a_new_form_starts_from_last_quarters_commentary(client, officer, period, count_indicator):
    q3 = earlier(count_indicator, 3, LAST)
    earlier(count_indicator, 4, "")  # the latest earlier one with a commentary is carried
    client.force_login(officer)
    html = client.get(page(period, count_indicator)).content.decode()
    assert commentary_in(html) == LAST
    assert f"Carried forward from {q3.label}: check and update it." in html
    assert f'data-carried-forward="{q3.label}"' in html
    assert 'aria-describedby="id_commentary-hint' in html, "the mark is the textarea's hint"


def test_kept_as_it_was_it_is_saved_and_still_marked(client, officer, period, count_indicator):
    q3 = earlier(count_indicator, 3, LAST)
    client.force_login(officer)
    response = client.post(page(period, count_indicator), {"value": "14", "commentary": LAST.replace("\n", "\r\n"),
                                                           "quality": "final", "action": "save"})
    assert response.status_code == 302
    stored = IndicatorReturn.objects.get(period=period, breakdown__isnull=True).commentary
    assert stored.replace("\r\n", "\n") == LAST, "their choice: stored (as the browser sent it)"
    html = client.get(page(period, count_indicator)).content.decode()
    assert f"Carried forward from {q3.label}" in html, "still last quarter's words, line endings aside"


def test_edited_it_is_no_longer_marked(client, officer, period, count_indicator):
    earlier(count_indicator, 3, LAST)
    client.force_login(officer)
    response = client.post(page(period, count_indicator), {"value": "14", "commentary": LAST + " March is now in.",
                                                           "quality": "final", "action": "save"})
    assert response.status_code == 302
    html = client.get(page(period, count_indicator)).content.decode()
    assert commentary_in(html) == LAST + " March is now in." and "Carried forward" not in html
    assert "data-carried-forward" not in html


def test_a_refused_save_keeps_the_mark_while_the_text_is_unchanged(client, officer, period, count_indicator):
    earlier(count_indicator, 3, LAST)
    client.force_login(officer)
    response = client.post(page(period, count_indicator), {"value": "lots", "commentary": LAST.replace("\n", "\r\n"),
                                                           "quality": "final", "action": "save"})
    html = response.content.decode()
    assert response.status_code == 400 and "Carried forward from" in html
    assert commentary_in(html).replace("\r\n", "\n") == LAST, "as typed (a browser sends CR LF)"


def test_nothing_is_carried_without_an_earlier_commentary(client, officer, period, count_indicator):
    earlier(count_indicator, 3, "")
    client.force_login(officer)
    html = client.get(page(period, count_indicator)).content.decode()
    assert commentary_in(html) == "" and "Carried forward" not in html


def test_only_what_the_officer_may_see_is_carried(officer, period, count_indicator):
    """Another organisation's unpublished commentary on the same slot is not theirs to read."""
    earlier(count_indicator, 3, "Dover's draft words", state=WorkflowState.DRAFT,
            organisation=council("Dover District Council"))
    assert selectors.carried_commentary(count_indicator, district(), period, officer) is None
    q2 = earlier(count_indicator, 2, LAST)
    carried = selectors.carried_commentary(count_indicator, district(), period, officer)
    assert (carried.period, carried.text) == (q2.label, LAST)


@pytest.mark.parametrize("later", [False, True])
def test_only_earlier_periods_of_the_same_kind(officer, period, count_indicator, later):
    if later:
        later_period, _ = services.period_ensure(span=periods.quarter(2012, 2))
        IndicatorReturn.objects.create(indicator=count_indicator, locality=district(), period=later_period,
                                       organisation=council(), state=WorkflowState.APPROVED, value=1, commentary="Later")
    assert selectors.carried_commentary(count_indicator, district(), period, officer) is None
