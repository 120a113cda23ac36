"""The localities in the admin: the districts and the county area, their local priorities, and the
briefing pack's data tables (read-only)."""
from django.contrib import admin

from kentforum.admin_access import ReadOnlyAdminMixin

from .models import Locality, LocalPriority, SourceFigure, SourceTable


class LocalPriorityInline(admin.TabularInline):
    model = LocalPriority
    extra = 0
    autocomplete_fields = ["ambition", "indicators"]


@admin.register(Locality)
class LocalityAdmin(admin.ModelAdmin):
    list_display = ["name", "gss_code", "kind", "current_name"]
    list_filter = ["kind"]
    search_fields = ["name", "gss_code", "current_name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LocalPriorityInline]


@admin.register(LocalPriority)
class LocalPriorityAdmin(admin.ModelAdmin):
    list_display = ["title", "locality", "ambition", "weight"]
    list_filter = ["locality", "ambition"]
    search_fields = ["title", "description", "locality__name"]
    autocomplete_fields = ["locality", "ambition", "indicators"]


@admin.register(SourceTable)
class SourceTableAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The briefing pack's data tables, as published: loaded by ``load_kent_framework`` from
    data/kent_framework/, corrected there (with the source line), not here."""

    list_display = ["title", "year", "area", "source", "first_line", "last_line"]
    list_filter = ["year", "area"]
    search_fields = ["title", "code", "source", "discrepancy_note"]


@admin.register(SourceFigure)
class SourceFigureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One printed figure of a data table (read-only: see ``SourceTableAdmin``)."""

    list_display = ["table", "row_label", "column_label", "value", "is_total", "parts_sum", "line", "baseline_of"]
    list_filter = ["table", "is_total"]
    search_fields = ["row_label", "column_label", "table__title", "baseline_for"]
    list_select_related = ["table", "baseline_of"]
