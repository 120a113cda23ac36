"""The admin of the comparator areas and groups, where the Forum team keeps which counties are
Kent's CIPFA nearest neighbours; comparator figures are shown read-only (they are loaded through
the CSV import, ``services.comparator_figures_import``)."""
from django.contrib import admin

from kentforum.admin_access import ReadOnlyAdminMixin
from performance.models import ComparatorArea, ComparatorFigure, ComparatorGroup


@admin.register(ComparatorArea)
class ComparatorAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "gss_code", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "gss_code"]


@admin.register(ComparatorGroup)
class ComparatorGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    list_filter = ["areas"]  # the groups an area is in
    search_fields = ["name", "slug", "areas__name"]
    filter_horizontal = ["areas"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ComparatorFigure)
class ComparatorFigureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Figures are loaded by the CSV import only (all or nothing, with who loaded them)."""

    list_display = ["indicator", "area", "period", "value", "ci_lower", "ci_upper", "quality", "source_released"]
    list_filter = ["quality", "area"]
    search_fields = ["indicator__code", "area__name", "source"]
