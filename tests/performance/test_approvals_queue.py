"""The approval queue (/approvals/): its filters, columns and order, its fixed query count, and
the bulk approval through the confirmation page, all or nothing, within the approver's scope."""
import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from performance.catalogue import services
from performance.models import IndicatorReturn, IndicatorTarget, ReturnEvent, WorkflowState
from performance.returns import approvals, validation, workflow
from tests.factories import IndicatorFactory, ambition, council, district, open_quarter

pytestmark = pytest.mark.django_db

QUEUE = reverse("performance:approvals")
CONFIRM = reverse("performance:approvals-confirm")
APPROVE = reverse("performance:approvals-approve")


def make(indicator, period, *, area="Ashford", organisation="Ashford Borough Council", state=WorkflowState.SUBMITTED,
         value=Decimal(10), **fields):
    return IndicatorReturn.objects.create(
        indicator=indicator, locality=district(area), period=period, organisation=council(organisation),
        state=state, value=value, **fields,
    )


def key(ret) -> str:
    return approvals.selection_key(ret)


def rows_in(html) -> list[str]:
    """The ids of the queue's indicator rows, in the page's order."""
    return re.findall(r'<tr class="govuk-table__row" id="return-indicator-(\d+)"', html)


@pytest.fixture
def earlier(db):
    """The quarter before ``period`` (2012/13 Q1): 2011/12 Q4."""
    return open_quarter(2011, 4)


# --- Columns ------------------------------------------------------------------------------------

def test_the_queue_shows_value_with_unit_status_change_warnings_quality_and_commentary(
    client, approver, period, earlier, count_indicator, rate_indicator,
):
    make(count_indicator, earlier, state=WorkflowState.APPROVED, value=Decimal(25))
    long_commentary = "Casualties rose after the A20 roadworks. " * 6 + "FULL-TEXT-END"
    make(count_indicator, period, value=Decimal(31), commentary=long_commentary,
         confirmed_warnings=["The value is more than 3 standard deviations from the last values."], quality="provisional")
    make(rate_indicator, earlier, state=WorkflowState.APPROVED, value=Decimal("38.5"))
    make(rate_indicator, period, value=Decimal("41.25"), commentary="Better than last quarter.")
    client.force_login(approver)
    html = client.get(QUEUE).content.decode()
    # Value with unit; the target status in the one set of words and colours.
    assert "41.3%" in html and "31.0" in html
    assert "govuk-tag--red\">Off target" in html, "31 against a target of 20 (lower is better, 10% tolerance)"
    assert "govuk-tag--green\">On target" in html, "41.25% against 40%, higher is better"
    # The change on the same area's previous approved value (a percentage's in points).
    assert "+6.0" in html and "from 25.0 in 2011/12 Q4" in html
    assert "+2.8 points" in html and "from 38.5% in 2011/12 Q4" in html
    # Warnings confirmed, data quality, and the commentary truncated with the full text at hand.
    assert "Yes, 1" in html and "3 standard deviations" in html
    assert "Provisional" in html
    assert "FULL-TEXT-END" in html and "Full commentary" in html
    assert "Better than last quarter." in html
    assert "<caption" in html and "2 indicator returns waiting for approval, soonest deadline first" in html


def test_a_return_without_an_earlier_approved_value_says_so(client, approver, period, earlier, count_indicator):
    make(count_indicator, earlier, state=WorkflowState.SUBMITTED, value=Decimal(99))  # not approved: not compared
    make(count_indicator, period, value=Decimal(12))
    client.force_login(approver)
    html = client.get(QUEUE).content.decode()
    assert "No earlier approved value" in html and "from 99" not in html


def test_milestone_returns_waiting_for_approval_have_their_own_table(client, approver, period):
    from ambitions.models import DeliveryPlan
    from performance.models import Milestone, MilestoneReturn

    milestone = Milestone.objects.create(title="Open the Ashford hub", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
                                         owner=council(), due_date=datetime.date(2012, 9, 30))
    ms = MilestoneReturn.objects.create(milestone=milestone, period=period, organisation=council(), state=WorkflowState.SUBMITTED,
                                        percent_complete=40)
    client.force_login(approver)
    html = client.get(QUEUE).content.decode()
    assert "Milestone returns" in html and "Open the Ashford hub" in html and f'value="milestone-{ms.pk}-1"' in html


# --- Filters ------------------------------------------------------------------------------------

def test_filters_narrow_the_queue_and_live_in_the_url(client, approver, period, earlier, count_indicator, rate_indicator):
    ashford_count = make(count_indicator, period, value=Decimal(30), quality="revised")  # off target
    dover_count = make(count_indicator, period, area="Dover", organisation="Dover District Council", value=Decimal(5))
    rate = make(rate_indicator, period, value=Decimal(45), confirmed_warnings=["More than 50% up on last period."])
    approved = make(rate_indicator, earlier, value=Decimal(44), state=WorkflowState.APPROVED)
    rate_indicator.ambitions.add(ambition(2))
    client.force_login(approver)

    def shown(**params):
        response = client.get(QUEUE, params)
        assert response.status_code == 200, response.content.decode()[:2000]
        return {int(pk) for pk in rows_in(response.content.decode())}

    assert shown() == {ashford_count.pk, dover_count.pk, rate.pk}, "waiting for approval by default"
    assert shown(organisation=council("Dover District Council").pk) == {dover_count.pk}
    assert shown(indicator=count_indicator.code) == {ashford_count.pk, dover_count.pk}
    assert shown(ambition=2) == {rate.pk}
    assert shown(state="approved") == {approved.pk}
    assert shown(flags="off_target") == {ashford_count.pk}
    assert shown(flags="warnings") == {rate.pk}
    assert shown(flags="quality") == {ashford_count.pk}
    assert shown(flags=["quality", "warnings"]) == set(), "every ticked flag must hold"
    html = client.get(QUEUE, {"state": "approved"}).content.decode()
    assert "Approve selected" not in html and 'name="selected"' not in html, "only returns waiting may be selected"
    assert client.get(QUEUE, {"organisation": "999999"}).status_code == 400, "an unknown choice is an error, shown"


def test_the_queue_is_sorted_by_deadline_then_organisation_then_indicator(client, approver, period, earlier, count_indicator):
    other = IndicatorFactory(code="T-AAA", name="An earlier-coded indicator")
    earlier.deadline = datetime.date(2012, 8, 15)  # an earlier quarter whose deadline is later
    earlier.save()
    late = make(count_indicator, earlier, value=Decimal(1))
    dover = make(count_indicator, period, area="Dover", organisation="Dover District Council", value=Decimal(2))
    ashford_ksi = make(count_indicator, period, value=Decimal(3))
    ashford_aaa = make(other, period, value=Decimal(4))
    client.force_login(approver)
    order = [int(pk) for pk in rows_in(client.get(QUEUE).content.decode())]
    assert order == [ashford_aaa.pk, ashford_ksi.pk, dover.pk, late.pk]


# --- A fixed number of queries ------------------------------------------------------------------

def add_returns(n, start, period, earlier):
    for i in range(start, start + n):
        indicator = IndicatorFactory(code=f"T-Q{i:02d}")
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
        IndicatorTarget.objects.create(indicator=indicator, period=period, locality=district(), target=Decimal(5))
        make(indicator, earlier, state=WorkflowState.APPROVED, value=Decimal(i))
        make(indicator, period, value=Decimal(i + 1), commentary="x" * 200, confirmed_warnings=["w"])


def test_the_queue_costs_the_same_queries_for_3_returns_as_for_30(client, approver, period, earlier, django_assert_max_num_queries):
    client.force_login(approver)
    add_returns(3, 0, period, earlier)
    client.get(QUEUE)  # warm (session, content types)
    with CaptureQueriesContext(connection) as three:
        assert client.get(QUEUE).status_code == 200
    add_returns(27, 3, period, earlier)
    with django_assert_max_num_queries(len(three.captured_queries)):
        html = client.get(QUEUE).content.decode()
    assert len(rows_in(html)) == 30


# --- Bulk approval ------------------------------------------------------------------------------

def test_a_bulk_approval_goes_through_the_confirmation_page(client, approver, period, count_indicator, rate_indicator,
                                                            django_capture_on_commit_callbacks):
    first = make(count_indicator, period, value=Decimal(18))
    second = make(rate_indicator, period, value=Decimal(42))
    untouched = make(count_indicator, period, area="Dover", organisation="Dover District Council", value=Decimal(3))
    client.force_login(approver)
    confirm = client.post(CONFIRM, {"selected": [key(first), key(second)]})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Approve 2 returns?" in html
    assert html.count('type="hidden" name="selected"') == 2 and f'value="{key(first)}"' in html
    assert IndicatorReturn.objects.filter(state=WorkflowState.APPROVED).count() == 0, "the confirmation changes nothing"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = client.post(APPROVE, {"selected": [key(first), key(second)]})
    assert done.status_code == 302 and done["Location"] == QUEUE
    for ret in (first, second):
        ret.refresh_from_db()
        assert ret.state == WorkflowState.APPROVED and ret.decided_by == approver
        assert ret.events.filter(action=ReturnEvent.Action.APPROVED).count() == 1
    untouched.refresh_from_db()
    assert untouched.state == WorkflowState.SUBMITTED
    assert len(callbacks) == 1, "the rollups of both are queued once, after the commit"
    assert "2 returns approved" in client.get(QUEUE).content.decode()


def test_a_return_changed_after_the_queue_was_loaded_means_nothing_is_approved(client, approver, period, count_indicator,
                                                                               rate_indicator):
    chosen = [
        make(count_indicator, period, value=Decimal(18)),
        make(count_indicator, period, area="Dover", organisation="Dover District Council", value=Decimal(3)),
        make(rate_indicator, period, value=Decimal(42)),
    ]
    client.force_login(approver)
    keys = [key(r) for r in chosen]  # as the queue showed them
    # Meanwhile another approver sends the rate back, and its officer corrects and resubmits it.
    changed = chosen[2]
    workflow.return_send_back(ret=changed, reason="Check the denominator.", expected_version=changed.version, user=approver)
    changed = workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(),
        figures=validation.IndicatorFigures(numerator=Decimal(43), denominator=Decimal(100)), expected_version=changed.version,
    )
    workflow.indicator_return_submit(ret=changed, expected_version=changed.version)
    response = client.post(APPROVE, {"selected": keys})
    html = response.content.decode()
    assert response.status_code == 409
    assert set(IndicatorReturn.objects.filter(pk__in=[r.pk for r in chosen]).values_list("state", flat=True)) == {"submitted"}
    assert not ReturnEvent.objects.filter(action=ReturnEvent.Action.APPROVED).exists(), "nothing approved"
    assert "There is a problem" in html and "Nothing was approved" in html
    assert f'href="#return-indicator-{changed.pk}"' in html and "Household waste recycled" in html
    assert "changed after you chose it" in html
    assert f'id="return-indicator-{changed.pk}"' in html
    # The way back keeps the selection: the queue ticks them again (the changed one at its new version).
    back = re.search(r'href="(/approvals/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    queue = client.get(back).content.decode()
    assert queue.count(" checked>") == 3
    assert f'value="indicator-{changed.pk}-{changed.version}" checked' in queue


def test_the_bulk_service_is_all_or_nothing(approver, period, count_indicator, django_capture_on_commit_callbacks):
    good = make(count_indicator, period, value=Decimal(1))
    stale = make(count_indicator, period, area="Dover", organisation="Dover District Council", value=Decimal(2))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(workflow.BulkApprovalError) as refused:
            workflow.returns_approve_many(items=[(good, good.version), (stale, stale.version - 1 or 99)], user=approver)
    assert [f.ret for f in refused.value.failures] == [stale]
    assert not callbacks, "no rollup is queued for what was not approved"
    assert set(IndicatorReturn.objects.values_list("state", flat=True)) == {"submitted"}


def test_a_crafted_selection_outside_the_approvers_scope_approves_nothing(client, approver, officer, period, count_indicator):
    waiting = make(count_indicator, period, value=Decimal(1))
    draft = make(count_indicator, period, area="Dover", organisation="Dover District Council", state=WorkflowState.DRAFT,
                 value=Decimal(2))
    client.force_login(approver)
    for url in (CONFIRM, APPROVE):
        assert client.post(url, {"selected": [key(waiting), key(draft)]}).status_code == 403
        assert client.post(url, {"selected": [key(waiting), "indicator-999999-1"]}).status_code == 403
    client.force_login(officer)  # an officer may approve nothing, even their own organisation's
    assert client.post(APPROVE, {"selected": [key(waiting)]}).status_code == 403
    assert set(IndicatorReturn.objects.values_list("state", flat=True)) == {"submitted", "draft"}


def test_the_bulk_pages_take_posts_only_with_a_csrf_token(approver, period, count_indicator):
    waiting = make(count_indicator, period, value=Decimal(1))
    client = Client(enforce_csrf_checks=True)
    client.force_login(approver)
    assert client.get(CONFIRM).status_code == 405 and client.get(APPROVE).status_code == 405
    assert client.post(APPROVE, {"selected": [key(waiting)]}).status_code == 403, "no CSRF token"
    waiting.refresh_from_db()
    assert waiting.state == WorkflowState.SUBMITTED


def test_approving_nothing_is_an_error_on_the_queue(client, approver, period, count_indicator):
    make(count_indicator, period, value=Decimal(1))
    client.force_login(approver)
    response = client.post(CONFIRM, {})
    assert response.status_code == 400 and "Select at least one return to approve." in response.content.decode()
    assert 'href="#selected-returns"' in response.content.decode()


def test_milestone_returns_are_approved_in_the_same_bulk(client, approver, period, count_indicator):
    from ambitions.models import DeliveryPlan
    from performance.models import Milestone, MilestoneReturn

    milestone = Milestone.objects.create(title="Open the Ashford hub", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
                                         owner=council(), due_date=datetime.date(2012, 9, 30))
    ms = MilestoneReturn.objects.create(milestone=milestone, period=period, organisation=council(), state=WorkflowState.SUBMITTED,
                                        percent_complete=40)
    ret = make(count_indicator, period, value=Decimal(18))
    client.force_login(approver)
    confirm = client.post(CONFIRM, {"selected": [key(ms), key(ret)]}).content.decode()
    assert "Open the Ashford hub" in confirm and "40% complete" in confirm
    assert client.post(APPROVE, {"selected": [key(ms), key(ret)]}).status_code == 302
    ms.refresh_from_db()
    ret.refresh_from_db()
    assert ms.state == ret.state == WorkflowState.APPROVED


def test_the_queue_is_paged_and_the_pages_keep_the_filters(client, approver, period, count_indicator, rate_indicator, monkeypatch):
    monkeypatch.setattr(approvals, "ROWS_PER_PAGE", 2)
    made = [make(count_indicator, period, value=Decimal(30)), make(rate_indicator, period, value=Decimal(30)),
            make(count_indicator, period, area="Dover", organisation="Dover District Council", value=Decimal(2))]
    client.force_login(approver)
    first = client.get(QUEUE, {"state": "submitted"}).content.decode()
    assert len(rows_in(first)) == 2 and "page 1 of 2" in first and "state=submitted&amp;page=2" in first
    assert len(rows_in(client.get(QUEUE, {"state": "submitted", "page": 2}).content.decode())) == 1
    # With "missing its target" judged per row, the page is cut after the judging.
    off = client.get(QUEUE, {"flags": "off_target"}).content.decode()
    assert {int(pk) for pk in rows_in(off)} == {made[0].pk, made[1].pk}
