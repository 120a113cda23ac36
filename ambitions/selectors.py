"""Reads of the Vision for Kent framework: ambitions, KPQs and delivery plans."""
from django.db.models import Prefetch, QuerySet

from .models import KPQ, Ambition, DeliveryPlan, DeliveryPlanAmbition


def ambition_list() -> QuerySet[Ambition]:
    """The three ambitions with their KPQs, in order."""
    return Ambition.objects.prefetch_related(Prefetch("kpqs", queryset=KPQ.objects.select_related("ambition")))


def delivery_plan_list() -> QuerySet[DeliveryPlan]:
    """Every delivery plan with its owner and the ambitions it serves (primary flagged)."""
    return DeliveryPlan.objects.select_related("owner").prefetch_related(
        Prefetch("ambition_links", queryset=DeliveryPlanAmbition.objects.select_related("ambition"))
    )
