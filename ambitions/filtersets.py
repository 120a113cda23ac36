import django_filters

from kentforum.filtersets import BaseFilterSet, WholeNumberFilter

from .models import KPQ, Ambition, DeliveryPlan, TopPriority


class AmbitionFilterSet(BaseFilterSet):
    search_fields = ("title", "statement", "vision")

    class Meta:
        model = Ambition
        fields = ["number"]


class KPQFilterSet(BaseFilterSet):
    search_fields = ("text",)
    ambition = WholeNumberFilter(field_name="ambition__number")

    class Meta:
        model = KPQ
        fields = ["number"]


class TopPriorityFilterSet(BaseFilterSet):
    search_fields = ("text", "detail")
    ambition = WholeNumberFilter(field_name="ambition__number")

    class Meta:
        model = TopPriority
        fields = ["number"]


class DeliveryPlanFilterSet(BaseFilterSet):
    search_fields = ("name", "title", "owner_name")
    ambition = WholeNumberFilter(field_name="ambition_links__ambition__number", distinct=True)
    primary_ambition = WholeNumberFilter(method="filter_primary")
    board = django_filters.CharFilter(field_name="ambition_links__ambition__board__slug", distinct=True,
                                      label="Ambition Board (slug)")

    class Meta:
        model = DeliveryPlan
        fields = ["group", "in_development"]

    def filter_primary(self, queryset, name, value):
        return queryset.filter(ambition_links__ambition__number=value, ambition_links__is_primary=True)
