"""Pages of the catalogue: the list of indicators, filtered as the API filters them."""
from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from ambitions.models import Ambition
from kentforum.forms import error_list
from performance.catalogue import selectors
from performance.models import Indicator


@require_GET
def indicator_list(request):
    """Who may see it: anyone. Filtered by the same FilterSet as /api/v1/indicators/."""
    filterset, indicators = selectors.indicators_filtered(request.GET)
    return render(request, "performance/indicator_list.html", {
        "filterset": filterset, "indicators": indicators, "ambitions": Ambition.objects.all(),
        "frequencies": Indicator.Frequency.choices, "errors": error_list(filterset.form),
    })
