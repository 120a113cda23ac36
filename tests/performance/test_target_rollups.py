"""Changing a target or its tolerance rolls up the slice it decides at once (after the commit),
whoever changes it: the admin's target pages (add, change, delete, bulk delete), the targets on
an indicator's admin page, and the services (``changes.target_save``, ``target_delete``, both
calling ``changes.target_changed``). Before, a target changed in the admin left every status
wrong until the nightly rebuild."""
import html.parser
from decimal import Decimal

import pytest
from django.urls import reverse

from localities.models import Locality
from performance.catalogue import periods, services
from performance.models import IndicatorRollup, IndicatorTarget
from performance.returns import workflow
from performance.returns.validation import IndicatorFigures
from performance.rollups import changes, engine
from tests.factories import PercentageIndicatorFactory, district, open_quarter

pytestmark = pytest.mark.django_db


@pytest.fixture
def judged(approver, django_capture_on_commit_callbacks):
    """Household waste recycled (higher is better, judged from one district): Ashford's 30%
    approved for 2012/13 Q1 against a general target of 40% ± 5%, so the county's row is red."""
    indicator = PercentageIndicatorFactory(code="T-TGT", min_coverage=1)
    period = open_quarter(2012, 1)
    target = IndicatorTarget.objects.create(indicator=indicator, period=period, target=Decimal(40),
                                            tolerance_percent=Decimal(5))
    from partnerships.models import Organisation

    council = Organisation.objects.get(locality=district())
    services.assignment_ensure(organisation=council, indicator=indicator, locality=district())
    with django_capture_on_commit_callbacks(execute=True):
        ret = workflow.indicator_return_save_draft(
            indicator=indicator, locality=district(), period=period, organisation=council,
            figures=IndicatorFigures(numerator=Decimal(30), denominator=Decimal(100), commentary="Below target."),
        )
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    assert county_row(indicator, period).status == "red"
    return indicator, period, target


def county_row(indicator, period) -> IndicatorRollup:
    return IndicatorRollup.objects.get(indicator=indicator, period=period, breakdown_key="",
                                       locality__kind=Locality.Kind.COUNTY)


def admin_client(client, user):
    client.force_login(user)
    return client


# --- Through the services ----------------------------------------------------------------------

def test_a_changed_target_is_rolled_up_after_the_commit(judged, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    target.target = Decimal(25)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        changes.target_save(target=target)
    assert county_row(indicator, period).status == "red", "nothing runs before the commit"
    assert len(callbacks) == 1
    for callback in callbacks:
        callback()
    row = county_row(indicator, period)
    assert (row.status, row.target) == ("green", Decimal(25))


def test_a_changed_tolerance_is_rolled_up(judged, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    target.tolerance_percent = Decimal(30)  # 30% is within 30% of 40%
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_save(target=target)
    row = county_row(indicator, period)
    assert (row.status, row.tolerance_percent) == ("amber", Decimal(30))


def test_a_deleted_target_leaves_no_target(judged, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_delete(target=target)
    row = county_row(indicator, period)
    assert (row.status, row.target) == ("no_target", None)


def test_a_new_target_for_an_area_is_rolled_up(judged, django_capture_on_commit_callbacks):
    indicator, period, _ = judged
    ashford = lambda: IndicatorRollup.objects.get(indicator=indicator, period=period, locality=district(), breakdown_key="")  # noqa: E731
    assert ashford().status == "red"
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_save(target=IndicatorTarget(indicator=indicator, period=period, locality=district(),
                                                    target=Decimal(20), tolerance_percent=Decimal(5)))
    assert ashford().status == "green" and county_row(indicator, period).status == "red"


def test_a_target_moved_to_another_period_rolls_up_both(judged, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    q2 = open_quarter(2012, 2)
    with django_capture_on_commit_callbacks(execute=True):
        target.period = q2
        changes.target_save(target=target)
    assert county_row(indicator, period).status == "no_target"
    assert county_row(indicator, q2).target == Decimal(40)


def test_a_target_in_a_period_the_indicator_is_not_returned_in_queues_nothing(judged, django_capture_on_commit_callbacks):
    indicator, _, _ = judged
    year, _ = services.period_ensure(span=periods.financial_year(2012))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        changes.target_save(target=IndicatorTarget(indicator=indicator, period=year, target=Decimal(1)))
    assert not callbacks
    assert not IndicatorRollup.objects.filter(period=year).exists()


def test_a_target_change_and_the_rebuild_agree(judged, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    target.target = Decimal(31)
    with django_capture_on_commit_callbacks(execute=True):
        changes.target_save(target=target)
    before = county_row(indicator, period)
    engine.rebuild_all()
    after = county_row(indicator, period)
    assert (before.status, before.target, before.tolerance_percent) == (after.status, after.target, after.tolerance_percent)
    assert after.status == "amber"


# --- Through the admin -------------------------------------------------------------------------

def target_post(obj, **changes) -> dict:
    data = {
        "indicator": obj.indicator_id, "period": obj.period_id, "locality": obj.locality_id or "",
        "target": obj.target, "tolerance_percent": obj.tolerance_percent, "_save": "Save",
    }
    return {**data, **changes}


@pytest.mark.parametrize("who", ["forum team admin", "superuser"])
def test_a_target_changed_in_the_admin_changes_the_status_at_once(who, judged, forum_admin, client,
                                                                   django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    user = forum_admin if who == "forum team admin" else get_user_model().objects.create_superuser("targets.root", "r@example.org", "x")
    indicator, period, target = judged
    client = admin_client(client, user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicatortarget_change", args=[target.pk]),
                               target_post(target, target="30.0000"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert county_row(indicator, period).status == "green"


def test_a_target_added_in_the_admin_is_rolled_up(judged, forum_admin, client, django_capture_on_commit_callbacks):
    indicator, period, _ = judged
    client = admin_client(client, forum_admin)
    new = IndicatorTarget(indicator=indicator, period=period, locality=district(), target=Decimal(20),
                          tolerance_percent=Decimal(5))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicatortarget_add"), target_post(new))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert IndicatorRollup.objects.get(indicator=indicator, period=period, locality=district(), breakdown_key="").status == "green"


def test_a_target_deleted_in_the_admin_leaves_no_target(judged, forum_admin, client, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    client = admin_client(client, forum_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicatortarget_delete", args=[target.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not IndicatorTarget.objects.filter(pk=target.pk).exists()
    assert county_row(indicator, period).status == "no_target"


def test_targets_deleted_in_bulk_in_the_admin_leave_no_target(judged, forum_admin, client, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    client = admin_client(client, forum_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicatortarget_changelist"), {
            "action": "delete_selected", "_selected_action": [target.pk], "post": "yes",
        })
    assert response.status_code == 302
    assert not IndicatorTarget.objects.filter(pk=target.pk).exists()
    assert county_row(indicator, period).status == "no_target"


class _FormFields(html.parser.HTMLParser):
    """The values a browser would submit from a page's main form (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "image", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((a["name"], a.get("value") or ("on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.data.append((self._select, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.data.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            name, text = self.data[-1]
            self.data[-1] = (name, text + data)


def indicator_page_post(client, indicator, change) -> dict:
    """The indicator's admin page as it stands, with ``change(data)`` applied to it."""
    page = client.get(reverse("admin:performance_indicator_change", args=[indicator.pk]))
    assert page.status_code == 200
    parser = _FormFields()
    parser.feed(page.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value.removeprefix("\n"))
    change(data)
    data["_save"] = ["Save"]
    return data


def test_targets_changed_on_the_indicator_page_are_rolled_up(judged, forum_admin, client, django_capture_on_commit_callbacks):
    indicator, period, target = judged
    client = admin_client(client, forum_admin)
    prefix = "targets"

    def lower_the_target(data):
        (row,) = [name.split("-")[1] for name, values in data.items() if name.endswith("-id") and values == [str(target.pk)]]
        data[f"{prefix}-{row}-target"] = ["28"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicator_change", args=[indicator.pk]),
                               indicator_page_post(client, indicator, lower_the_target))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert IndicatorTarget.objects.get(pk=target.pk).target == 28
    assert county_row(indicator, period).status == "green"

    def delete_the_target(data):
        (row,) = [name.split("-")[1] for name, values in data.items() if name.endswith("-id") and values == [str(target.pk)]]
        data[f"{prefix}-{row}-DELETE"] = ["on"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicator_change", args=[indicator.pk]),
                               indicator_page_post(client, indicator, delete_the_target))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not IndicatorTarget.objects.filter(pk=target.pk).exists()
    assert county_row(indicator, period).status == "no_target"


def test_a_changed_judgement_rule_on_the_indicator_page_rolls_up_its_slices(judged, forum_admin, client,
                                                                           django_capture_on_commit_callbacks):
    """Raising the minimum coverage from 1 to all districts makes Ashford's lone figure an
    incomplete county figure at once, not after the nightly rebuild; an unrelated change (the
    source) queues nothing."""
    indicator, period, _ = judged
    client = admin_client(client, forum_admin)

    def require_every_district(data):
        data["min_coverage"] = [""]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:performance_indicator_change", args=[indicator.pk]),
                               indicator_page_post(client, indicator, require_every_district))
    assert response.status_code == 302, response.content.decode()[:3000]
    row = county_row(indicator, period)
    assert (row.complete, row.status) == (False, "incomplete")

    def new_source(data):
        data["source"] = ["Waste Data Flow"]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("admin:performance_indicator_change", args=[indicator.pk]),
                    indicator_page_post(client, indicator, new_source))
    assert not callbacks, "a change that does not touch how figures are judged queues no rollup"
