"""Reads of the Vision for Kent framework: ambitions, their top priorities and KPQs, and delivery plans."""
from django.db.models import Prefetch, QuerySet

from .models import KPQ, Ambition, DeliveryPlan, DeliveryPlanAmbition, TopPriority


def ambition_list() -> QuerySet[Ambition]:
    """The three ambitions with their top priorities and KPQs, in order."""
    return Ambition.objects.prefetch_related(
        Prefetch("kpqs", queryset=KPQ.objects.select_related("ambition")),
        Prefetch("top_priorities", queryset=TopPriority.objects.select_related("ambition")),
    )


def top_priority_list() -> QuerySet[TopPriority]:
    """Every top priority in published order, with its ambition, KPQs and action-plan priority areas."""
    return TopPriority.objects.select_related("ambition").prefetch_related(
        Prefetch("kpqs", queryset=KPQ.objects.select_related("ambition")),
        "priority_areas",
    )


def delivery_plan_list() -> QuerySet[DeliveryPlan]:
    """Every delivery plan with its owner and the ambitions it serves (primary flagged)."""
    return DeliveryPlan.objects.select_related("owner").prefetch_related(
        Prefetch("ambition_links", queryset=DeliveryPlanAmbition.objects.select_related("ambition"))
    )
