"""The demo set: a living portal for a newcomer, deterministic and safe to load twice."""
import datetime
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count, F
from django.test import RequestFactory  # django-axes needs the request in authenticate()

from ambitions.models import KPQ, ActionPlan
from kentforum.roles import Role, user_organisation, user_roles
from localities.models import Locality, LocalPriority
from performance.models import (
    Indicator,
    IndicatorReturn,
    IndicatorTarget,
    Milestone,
    MilestoneReturn,
    ReportingPeriod,
    Study,
)

pytestmark = pytest.mark.django_db

REAL_MEASURES = ["claimant count", "NEET", "killed or seriously injured", "recycling"]


def snapshot():
    return {
        "returns": sorted(IndicatorReturn.objects.values_list("pk", "version", "state", "value")),
        "milestone_returns": sorted(MilestoneReturn.objects.values_list("pk", "version", "state", "percent_complete")),
        "indicators": Indicator.objects.count(),
        "targets": IndicatorTarget.objects.count(),
        "priorities": LocalPriority.objects.count(),
    }


def test_demo_set(capsys):
    call_command("load_demo")
    output = capsys.readouterr().out
    passwords = dict(re.findall(r"^  (\S+)\s+(\S{12,})$", output, re.M))

    # Indicators: 30+, at least two per KPQ, real measures, with targets.
    assert Indicator.objects.filter(is_demo=True).count() >= 30
    per_kpq = KPQ.objects.annotate(n=Count("indicators"))
    assert per_kpq.count() == 15 and min(k.n for k in per_kpq) >= 2
    names = " ".join(Indicator.objects.values_list("name", flat=True))
    for measure in REAL_MEASURES:
        assert measure.lower() in names.lower(), measure
    assert not Indicator.objects.filter(targets__isnull=True).exists()
    assert Indicator.objects.filter(breakdown_dimensions__isnull=False).distinct().count() >= 2

    # Returns: twelve districts over eight quarters, some missing, late, off target, returned.
    quarterly = IndicatorReturn.objects.filter(period__kind="quarter", breakdown__isnull=True).order_by()
    assert quarterly.values("period").distinct().count() >= 8
    assert quarterly.filter(locality__kind="district").values("locality").distinct().count() == 12
    expected = sum(
        1 for i in Indicator.objects.filter(frequency="quarterly", reporting_level="district") for _ in range(12 * 8)
    )
    assert quarterly.filter(indicator__reporting_level="district").count() < expected, "some returns are missing"
    late = IndicatorReturn.objects.filter(submitted_at__date__gt=F("period__deadline"))
    assert late.exists()
    assert IndicatorReturn.objects.filter(state="returned").exclude(return_reason="").exists()
    assert IndicatorReturn.objects.filter(state="draft").exists()
    assert IndicatorReturn.objects.filter(state="submitted").exists()
    off_target = IndicatorReturn.objects.filter(
        breakdown__isnull=True, indicator__polarity="lower_is_better", indicator__aggregation="ratio",
        period__targets__indicator=F("indicator"), value__gt=F("period__targets__target"),
    )
    assert off_target.exists()
    # Breakdowns add up to their totals.
    total = IndicatorReturn.objects.filter(indicator__code="DEMO-NI47", breakdown__isnull=True).first()
    severities = IndicatorReturn.objects.filter(
        indicator=total.indicator, locality=total.locality, period=total.period, breakdown__dimension__code="severity"
    )
    assert sum(r.value for r in severities) == total.value
    # One open quarter, the others locked.
    assert list(ReportingPeriod.objects.filter(status="open").values_list("label", flat=True)) == ["2012/13 Q4"]
    assert ReportingPeriod.objects.get(label="2012/13 Q4").deadline > datetime.date.today()

    # Milestones of several delivery plans, with slipped and off-track ones.
    assert Milestone.objects.filter(delivery_plan__isnull=False).values("delivery_plan").distinct().count() >= 5
    assert MilestoneReturn.objects.filter(revised_date__gt=F("milestone__due_date")).exists()
    assert MilestoneReturn.objects.filter(status="off_track").exists()
    assert MilestoneReturn.objects.filter(status="complete", percent_complete=100).exists()

    # Ambition Boards' action plans, local priorities, studies.
    assert all(5 <= p.priority_areas.count() <= 6 for p in ActionPlan.objects.all())
    assert ActionPlan.objects.count() == 3
    for locality in Locality.objects.filter(kind="district"):
        assert 8 <= locality.priorities.count() <= 10
    assert Study.objects.exists()

    # Users for each role, with the passwords printed by the command.
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(passwords) == set(users)
    roles = set().union(*(user_roles(u) for u in users.values()))
    assert roles == {Role.OFFICER, Role.APPROVER, Role.BOARD_MEMBER, Role.FORUM_ADMIN}
    for username, password in passwords.items():
        assert authenticate(RequestFactory().post("/accounts/login/"), username=username, password=password) is not None
    assert user_organisation(users["officer.ashford"]).name == "Ashford Borough Council"
    assert users["forum.admin"].is_staff and not users["forum.admin"].is_superuser
    assert users["forum.admin"].has_perm("ambitions.change_deliveryplan")
    assert not users["forum.admin"].has_perm("performance.change_indicatorreturn")

    # Every dashboard renders from the demo data, for anyone.
    from django.test import Client
    from django.urls import reverse

    from performance.models import IndicatorRollup

    assert IndicatorRollup.objects.filter(locality__kind="county", reporting__gt=0).exists()
    visitor = Client()
    pages = [reverse("dashboards:forum"), reverse("home")]
    pages += [reverse("dashboards:ambition", args=[n]) for n in (1, 2, 3)]
    pages += [reverse("dashboards:locality", args=[loc.gss_code]) for loc in Locality.objects.filter(kind="district")]
    pages += [reverse("dashboards:kpq", args=[kpq.code]) for kpq in KPQ.objects.select_related("ambition")]
    for page in pages:
        assert visitor.get(page).status_code == 200, page

    # A second run changes nothing and says so; passwords stay unless reset.
    before = snapshot()
    call_command("load_demo")
    output = capsys.readouterr().out
    assert "No changes: the demo set is already loaded." in output
    assert "passwords are unchanged" in output
    assert snapshot() == before
    assert authenticate(RequestFactory().post("/accounts/login/"), username="approver", password=passwords["approver"]) is not None


def test_demo_needs_the_framework(django_db_blocker):
    from ambitions.models import KPQ as KPQModel
    from kentforum.loaders.demo import demo_load

    KPQModel.objects.all().delete()
    with pytest.raises(RuntimeError, match="load_kent_framework"):
        demo_load()
