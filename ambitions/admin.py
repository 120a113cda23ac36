"""Admin for the Vision for Kent framework, kept by the Forum team."""
from django.contrib import admin

from .models import (
    KPQ,
    ActionPlan,
    Ambition,
    DeliveryPlan,
    DeliveryPlanAmbition,
    ForwardPlanItem,
    PriorityArea,
    TopPriority,
)


class KPQInline(admin.TabularInline):
    model = KPQ
    extra = 0


@admin.register(Ambition)
class AmbitionAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "short_name"]
    search_fields = ["title", "statement", "vision"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [KPQInline]


@admin.register(TopPriority)
class TopPriorityAdmin(admin.ModelAdmin):
    """The Vision's top priorities per ambition, in published order."""

    list_display = ["code", "text", "ambition", "number"]
    list_filter = ["ambition"]
    search_fields = ["text", "detail"]
    list_select_related = ["ambition"]
    filter_horizontal = ["kpqs"]


@admin.register(KPQ)
class KPQAdmin(admin.ModelAdmin):
    list_display = ["code", "text", "ambition"]
    list_filter = ["ambition"]
    search_fields = ["text"]
    list_select_related = ["ambition"]


class DeliveryPlanAmbitionInline(admin.TabularInline):
    model = DeliveryPlanAmbition
    extra = 0


@admin.register(DeliveryPlan)
class DeliveryPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "owner_name", "in_development", "order"]
    list_filter = ["group", "ambitions", "ambition_links__is_primary", "in_development", "owner"]
    search_fields = ["name", "title", "owner_name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["owner"]
    inlines = [DeliveryPlanAmbitionInline]


@admin.register(DeliveryPlanAmbition)
class DeliveryPlanAmbitionAdmin(admin.ModelAdmin):
    """Which plans serve which ambition: filter by ambition and primary to see an ambition's plans."""

    list_display = ["plan", "ambition", "is_primary"]
    list_filter = ["ambition", "is_primary", "plan__group"]
    search_fields = ["plan__name", "plan__owner_name"]
    list_select_related = ["plan", "ambition"]


class PriorityAreaInline(admin.StackedInline):
    model = PriorityArea
    extra = 0
    max_num = ActionPlan.MAX_PRIORITY_AREAS


@admin.register(ActionPlan)
class ActionPlanAdmin(admin.ModelAdmin):
    list_display = ["board", "year", "title", "status", "agreed_on"]
    list_filter = ["board", "year", "status"]
    search_fields = ["title", "priority_areas__title"]
    inlines = [PriorityAreaInline]


@admin.register(PriorityArea)
class PriorityAreaAdmin(admin.ModelAdmin):
    list_display = ["title", "number", "action_plan", "lead"]
    list_filter = ["action_plan__board", "action_plan__year"]
    search_fields = ["title", "description", "lead"]
    filter_horizontal = ["kpqs", "top_priorities"]


@admin.register(ForwardPlanItem)
class ForwardPlanItemAdmin(admin.ModelAdmin):
    list_display = ["meeting_date", "title", "board", "kind", "status"]
    list_filter = ["board", "kind", "status"]
    search_fields = ["title", "description", "lead"]
    date_hierarchy = "meeting_date"
