"""The admin of the performance app, where the Forum team keeps the catalogue: indicators and
their targets (saved through ``rollups.changes`` so the dashboards re-judge at once),
breakdowns, periods, assignments, milestones and studies. Returns, their histories, the
summary rows, judgements and reports are read-only here. The comparator areas, groups and
(read-only) figures are registered by ``comparators/admin.py``."""
from django.contrib import admin

from kentforum.admin_access import ReadOnlyAdminMixin
from performance.comparators import admin as comparators_admin  # noqa: F401  (registers the comparator models)
from performance.models import (
    BoardReport,
    BreakdownCategory,
    BreakdownDimension,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    IndicatorRollup,
    IndicatorTarget,
    KPQJudgement,
    Milestone,
    MilestoneReturn,
    MilestoneRollup,
    PeriodEvent,
    ReportingPeriod,
    ReturnComment,
    ReturnEvent,
    ReturnImport,
    Study,
)
from performance.rollups import changes


class BreakdownCategoryInline(admin.TabularInline):
    model = BreakdownCategory
    extra = 0


@admin.register(BreakdownDimension)
class BreakdownDimensionAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    inlines = [BreakdownCategoryInline]


@admin.register(BreakdownCategory)
class BreakdownCategoryAdmin(admin.ModelAdmin):
    list_display = ["label", "dimension", "code", "order"]
    list_filter = ["dimension"]
    search_fields = ["label", "code"]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    """Periods are created here; they are opened, locked and reopened (with a reason) on the
    Periods page, so that every change of status is recorded."""

    list_display = ["label", "kind", "start", "end", "deadline", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["label"]
    date_hierarchy = "start"
    readonly_fields = ["status", "reopen_reason"]


@admin.register(IndicatorAssignment)
class IndicatorAssignmentAdmin(admin.ModelAdmin):
    list_display = ["indicator", "locality", "organisation"]
    list_filter = ["organisation", "locality", "indicator__ambitions"]
    search_fields = ["indicator__code", "indicator__name", "organisation__name", "locality__name"]
    autocomplete_fields = ["indicator", "locality", "organisation"]
    list_select_related = ["indicator", "locality", "organisation"]


class IndicatorTargetInline(admin.TabularInline):
    """An indicator's targets on its page; written through the services (``IndicatorAdmin.save_formset``)."""

    model = IndicatorTarget
    extra = 0
    autocomplete_fields = ["period", "locality"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "polarity", "aggregation", "frequency", "data_owner", "is_active"]
    list_filter = ["unit", "polarity", "aggregation", "frequency", "reporting_level", "ambitions", "kpqs", "is_active", "is_demo"]
    search_fields = ["code", "name", "definition", "ni_reference", "source"]
    autocomplete_fields = ["data_owner", "baseline_period"]
    filter_horizontal = ["kpqs", "ambitions", "breakdown_dimensions"]
    inlines = [IndicatorTargetInline]

    def save_model(self, request, obj, form, change):
        """A change to how the indicator's figures are combined or judged re-rolls its slices
        (``changes.indicator_definition_changed``)."""
        before = Indicator.objects.filter(pk=obj.pk).values(*changes.JUDGEMENT_FIELDS).first() if change else None
        super().save_model(request, obj, form, change)
        changes.indicator_definition_changed(indicator=obj, before=before)

    def save_formset(self, request, form, formset, change):
        """Targets change through ``changes.target_save``/``target_delete``, which queue the
        rollup of the slices they decide; other inlines save as usual."""
        if formset.model is not IndicatorTarget:
            return super().save_formset(request, form, formset, change)
        changed = formset.save(commit=False)
        for target in formset.deleted_objects:
            changes.target_delete(target=target)
        for target in changed:
            changes.target_save(target=target)
        formset.save_m2m()


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(admin.ModelAdmin):
    """Targets and tolerances. Every save and delete goes through the services
    (``target_save``, ``target_delete``), which queue the rollup of the slice a target decides,
    so statuses change at once, not after the nightly rebuild."""

    list_display = ["indicator", "period", "locality", "target", "tolerance_percent"]
    list_filter = ["period", "locality"]
    search_fields = ["indicator__code", "indicator__name"]
    autocomplete_fields = ["indicator", "period", "locality"]

    def save_model(self, request, obj, form, change):
        changes.target_save(target=obj)

    def delete_model(self, request, obj):
        changes.target_delete(target=obj)

    def delete_queryset(self, request, queryset):
        for target in queryset.select_related("indicator", "period"):
            changes.target_delete(target=target)


class ReadOnlyReturnAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Returns change only through the return workflow (services), which keeps versions and
    the audit trail; the admin shows them but does not edit them."""


@admin.register(IndicatorReturn)
class IndicatorReturnAdmin(ReadOnlyReturnAdmin):
    list_display = ["indicator", "locality", "period", "breakdown", "value", "state", "version", "updated_at"]
    list_filter = ["state", "period", "locality", "indicator__ambitions"]
    search_fields = ["indicator__code", "indicator__name", "locality__name", "organisation__name"]
    list_select_related = ["indicator", "locality", "period", "breakdown"]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "delivery_plan", "priority_area", "owner", "due_date"]
    list_filter = ["delivery_plan", "owner", "is_demo"]
    search_fields = ["title", "description", "lead_officer"]
    autocomplete_fields = ["delivery_plan", "owner"]
    filter_horizontal = ["kpqs"]


@admin.register(MilestoneReturn)
class MilestoneReturnAdmin(ReadOnlyReturnAdmin):
    list_display = ["milestone", "period", "status", "percent_complete", "state", "version"]
    list_filter = ["state", "status", "period"]
    search_fields = ["milestone__title", "organisation__name"]
    list_select_related = ["milestone", "period"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "commissioned_by", "published_on"]
    list_filter = ["kind", "ambitions", "is_demo"]
    search_fields = ["title", "summary", "findings"]
    filter_horizontal = ["ambitions", "kpqs"]


class ReadOnlyAdmin(ReadOnlyReturnAdmin):
    """History: shown, never edited."""


@admin.register(ReturnEvent)
class ReturnEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "from_state", "to_state", "version", "actor", "indicator_return", "milestone_return"]
    list_filter = ["action", "to_state"]
    search_fields = ["actor__username", "note", "indicator_return__indicator__code", "milestone_return__milestone__title"]
    date_hierarchy = "at"


@admin.register(ReturnComment)
class ReturnCommentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "author", "role", "indicator_return", "milestone_return"]
    list_filter = ["role"]
    search_fields = ["author__username", "text", "indicator_return__indicator__code", "milestone_return__milestone__title"]
    date_hierarchy = "created_at"


@admin.register(PeriodEvent)
class PeriodEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "period", "action", "actor", "reason"]
    list_filter = ["action", "period"]
    search_fields = ["period__label", "reason", "actor__username"]


@admin.register(ReturnImport)
class ReturnImportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "filename", "organisation", "period", "state", "applied_count", "uploaded_by"]
    list_filter = ["state", "organisation", "period"]
    search_fields = ["filename", "organisation__name", "uploaded_by__username"]
    exclude = ["content"]


@admin.register(IndicatorRollup)
class IndicatorRollupAdmin(ReadOnlyAdmin):
    """Summary rows are computed; rebuild them with manage.py rebuild_rollups."""

    list_display = ["indicator", "locality", "period", "breakdown_key", "value", "reporting", "expected", "status", "direction_year"]
    list_filter = ["status", "direction_year", "period", "locality__kind"]
    search_fields = ["indicator__code", "indicator__name", "locality__name"]
    list_select_related = ["indicator", "locality", "period"]


@admin.register(MilestoneRollup)
class MilestoneRollupAdmin(ReadOnlyAdmin):
    list_display = ["milestone", "period", "status", "percent_complete", "overdue", "slipped"]
    list_filter = ["status", "overdue", "slipped", "period"]
    search_fields = ["milestone__title"]
    list_select_related = ["milestone", "period"]


@admin.register(KPQJudgement)
class KPQJudgementAdmin(ReadOnlyAdmin):
    list_display = ["kpq", "period", "answer", "derived_answer", "author", "at"]
    list_filter = ["answer", "derived_answer", "period"]
    search_fields = ["rationale", "author__username"]


@admin.register(BoardReport)
class BoardReportAdmin(admin.ModelAdmin):
    """A published report is fixed: only its route is recorded here, the dates it was presented
    to Joint Kent Chiefs and then the Forum (the model's ``clean`` and a check constraint keep
    that order). Reports are published from the board's page, never added or deleted here."""

    list_display = ["title", "board", "period", "as_at", "to_joint_kent_chiefs_on", "to_forum_on"]
    list_filter = ["board", "period"]
    search_fields = ["title"]
    fields = ["title", "board", "period", "as_at", "published_by", "to_joint_kent_chiefs_on", "to_forum_on"]
    readonly_fields = ["title", "board", "period", "as_at", "published_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
