"""The Forum team's admin of the partnership structure. The Board change page shows the terms of
reference's core-membership warnings (read-only: warnings, never a refusal to save)."""
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html, format_html_join
from rest_framework_api_key.admin import APIKeyModelAdmin

from .models import (
    Board,
    BoardMembership,
    CommunityStrategy,
    ExistingPartnership,
    OfficerGroup,
    Organisation,
    PartnerAPIKey,
    Person,
    StrategicPartnership,
    chair_tier_errors,
)
from .selectors import TERMS_OF_REFERENCE, terms_of_reference_warnings


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "sector", "tier", "locality"]
    list_filter = ["sector", "tier"]
    search_fields = ["name", "short_name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["locality"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "job_title"]
    list_filter = ["organisation__tier", "organisation"]
    search_fields = ["name", "other_spellings", "job_title", "organisation__name", "email"]
    autocomplete_fields = ["organisation", "user"]


class BoardMembershipFormSet(BaseInlineFormSet):
    """Checks the board's chair rule across all the seats edited at once: each form alone cannot
    see that another form is making someone else Chair or Vice-Chair in the same save."""

    def clean(self):
        super().clean()
        if self.instance.kind != Board.Kind.AMBITION:
            return
        offices: dict[str, Organisation] = {}
        edited = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.instance.pk:
                edited.add(form.instance.pk)
            data = form.cleaned_data
            if data.get("DELETE") or data.get("end_date"):
                continue
            if data.get("role") in (BoardMembership.Role.CHAIR, BoardMembership.Role.VICE_CHAIR):
                offices[data["role"]] = data.get("organisation")
        for seat in self.instance.memberships.filter(end_date__isnull=True, role__in=["chair", "vice_chair"]).exclude(
            pk__in=edited
        ):
            offices.setdefault(seat.role, seat.organisation)
        errors = chair_tier_errors(chair=offices.get("chair"), vice_chair=offices.get("vice_chair"))
        if errors:
            raise ValidationError(list(errors.values()))


class BoardMembershipInline(admin.TabularInline):
    model = BoardMembership
    formset = BoardMembershipFormSet
    extra = 0
    autocomplete_fields = ["person", "organisation"]


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ambition", "locality", "accountable_to", "decision_making"]
    list_filter = ["kind", "decision_making"]
    search_fields = ["name", "roles"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["ambition", "locality", "accountable_to"]
    filter_horizontal = ["advises"]
    inlines = [BoardMembershipInline]
    readonly_fields = ["terms_of_reference_check"]

    @admin.display(description="Terms of reference check")
    def terms_of_reference_check(self, obj: Board | None) -> str:
        """The core-membership warnings of an Ambition Board (saved seats), or why there are none."""
        if obj is None or obj.pk is None:
            return "Checked once the board is saved."
        if obj.kind != Board.Kind.AMBITION:
            return "Only Ambition Boards have these terms of reference."
        warnings = terms_of_reference_warnings(obj)
        if not warnings:
            return f"Within the core membership of the {TERMS_OF_REFERENCE}."
        return format_html(
            "<strong>Warning: the nominations exceed the core membership of the {}.</strong>"
            "<ul>{}</ul>",
            TERMS_OF_REFERENCE,
            format_html_join("", "<li>{}</li>", ((warning,) for warning in warnings)),
        )


@admin.register(CommunityStrategy)
class CommunityStrategyAdmin(admin.ModelAdmin):
    list_display = ["name", "listed_under", "order"]
    list_filter = ["listed_under", "boards"]
    search_fields = ["name", "listed_under"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["boards"]


@admin.register(BoardMembership)
class BoardMembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "board", "role", "category", "organisation", "is_core", "end_date"]
    list_filter = ["board__kind", "board", "role", "category", "organisation__tier", "is_core"]
    search_fields = ["person__name", "board__name", "organisation__name", "note"]
    autocomplete_fields = ["board", "person", "organisation"]


@admin.register(StrategicPartnership)
class StrategicPartnershipAdmin(admin.ModelAdmin):
    list_display = ["name", "lead_board", "is_required", "order"]
    list_filter = ["is_required", "lead_board", "supported_boards"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["supported_boards"]


@admin.register(ExistingPartnership)
class ExistingPartnershipAdmin(admin.ModelAdmin):
    """Where the Forum team records the rationalisation: status, note, date decided and the
    required partnership(s) each existing one maps to. A reload of the framework keeps these."""

    list_display = ["name", "status", "decided_on", "aligned_board", "source_line"]
    list_filter = ["status", "aligned_board", "required_partnerships"]
    search_fields = ["name", "status_note", "source_note"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["required_partnerships"]


@admin.register(OfficerGroup)
class OfficerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "section", "chair", "meeting_frequency", "county_members", "district_members", "other_members"]
    list_filter = ["section", "board", "locality", "county_members", "district_members", "other_members"]
    search_fields = ["name", "chair", "comment"]


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    """Issue, name, scope, expire and revoke partner keys. The key itself is shown once, when
    it is created; only its prefix and hash are stored."""

    list_display = [*APIKeyModelAdmin.list_display, "partner", "scope", "last_used_at"]
    list_filter = [*APIKeyModelAdmin.list_filter, "scope", "partner"]
    search_fields = [*APIKeyModelAdmin.search_fields, "partner__name"]
    filter_horizontal = ["organisations"]
