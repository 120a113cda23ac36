"""The Forum team keeps the DHIS2 mapping tables in the admin (the Forum team admins and
superusers, by role: ``kentforum.admin_access``)."""
from django.contrib import admin

from exchange.models import DataElementMapping, OrgUnitMapping
from kentforum.admin_access import ForumTeamAdmin


@admin.register(DataElementMapping)
class DataElementMappingAdmin(ForumTeamAdmin):
    list_display = ["indicator", "measure", "breakdown", "data_element", "category_option_combo"]
    list_filter = ["measure"]
    search_fields = ["indicator__code", "data_element", "category_option_combo"]
    autocomplete_fields = ["indicator"]
    list_select_related = ["indicator", "breakdown__dimension"]


@admin.register(OrgUnitMapping)
class OrgUnitMappingAdmin(ForumTeamAdmin):
    list_display = ["locality", "org_unit"]
    search_fields = ["locality__gss_code", "locality__name", "org_unit"]
    list_select_related = ["locality"]
