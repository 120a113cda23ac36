from django.contrib import admin

from .models import Locality, LocalPriority


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
