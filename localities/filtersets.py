from kentforum.filtersets import BaseFilterSet

from .models import Locality


class LocalityFilterSet(BaseFilterSet):
    search_fields = ("name", "gss_code", "current_name")

    class Meta:
        model = Locality
        fields = ["kind", "gss_code"]
