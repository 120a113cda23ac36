"""Rules of the ambitions, KPQs, delivery plans and action plans."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ambitions.models import (
    KPQ,
    ActionPlan,
    Ambition,
    DeliveryPlan,
    DeliveryPlanAmbition,
    PriorityArea,
)
from partnerships.models import Board

pytestmark = pytest.mark.django_db


def test_a_plan_has_at_most_one_primary_ambition():
    plan = DeliveryPlan.objects.get(name="Growth Without Gridlock")
    assert plan.ambition_links.filter(is_primary=True).count() == 1
    second = plan.ambition_links.get(is_primary=False)
    second.is_primary = True
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_plan_serves_an_ambition_once():
    plan = DeliveryPlan.objects.get(name="Kent Highways Strategy")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryPlanAmbition.objects.create(plan=plan, ambition=Ambition.objects.get(number=1))


def test_plans_with_no_primary_named():
    bold = DeliveryPlan.objects.get(name__startswith="Bold Steps")
    assert bold.primary_ambition is None
    assert bold.ambitions.count() == 3


def test_kpq_numbers_are_one_to_five_per_ambition():
    with pytest.raises(IntegrityError), transaction.atomic():
        KPQ.objects.create(ambition=Ambition.objects.get(number=1), number=6, text="A sixth question?")
    with pytest.raises(IntegrityError), transaction.atomic():
        KPQ.objects.create(ambition=Ambition.objects.get(number=1), number=1, text="A duplicate?")


def make_plan(areas: int) -> ActionPlan:
    board = Board.objects.get(kind="ambition", ambition__number=2)
    plan = ActionPlan.objects.create(board=board, year="2011/12", title="Action plan 2011/12")
    for number in range(1, areas + 1):
        PriorityArea.objects.create(action_plan=plan, number=number, title=f"Priority area {number}")
    return plan


@pytest.mark.parametrize("areas,valid", [(4, False), (5, True), (6, True)])
def test_an_agreed_action_plan_has_five_or_six_priority_areas(areas, valid):
    plan = make_plan(areas)
    plan.status = ActionPlan.Status.AGREED
    plan.agreed_on = datetime.date(2011, 9, 1)
    if valid:
        plan.full_clean()
    else:
        with pytest.raises(ValidationError, match="5 or 6 priority areas"):
            plan.full_clean()


def test_no_seventh_priority_area_in_the_database():
    plan = make_plan(6)
    with pytest.raises(IntegrityError), transaction.atomic():
        PriorityArea.objects.create(action_plan=plan, number=7, title="One too many")


def test_action_plans_belong_to_ambition_boards():
    plan = ActionPlan(board=Board.objects.get(kind="forum"), year="2011/12", title="Forum plan")
    with pytest.raises(ValidationError, match="Ambition Boards"):
        plan.full_clean()
