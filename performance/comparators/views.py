"""The Forum team's page for loading comparator figures (England, the South East, similar
counties) from a CSV file: the file's rows are checked and shown before anything is saved, then
saved all together or not at all, through ``services.comparator_figures_import``. The portal has
no separate research role: the Forum team (``Role.FORUM_ADMIN``) loads them."""
from __future__ import annotations

import base64
import binascii

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kentforum.forms import error_list
from kentforum.roles import Role, require_role
from performance.comparators import services
from performance.comparators.forms import ComparatorUploadForm


def _page(request, form, *, check=None, content="", errors=None, status=200):
    return render(request, "comparators/upload.html", {
        "form": form, "check": check, "content": content, "columns": services.COLUMNS,
        "errors": errors if errors is not None else error_list(form),
    }, status=status)


@require_role(Role.FORUM_ADMIN)
@require_http_methods(["GET", "POST"])
def comparator_upload(request):
    """Who may use it: the Forum team. A file posted is checked and its rows shown, saving
    nothing; posting the checked file again with ``confirm`` saves every row, or none."""
    if request.method == "POST" and request.POST.get("action") == "confirm":
        form = ComparatorUploadForm()
        try:
            raw = base64.b64decode(request.POST.get("content", ""), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        try:
            result = services.comparator_figures_import(user=request.user, raw=raw)
        except ValidationError as error:
            check = services.comparator_figures_check(raw)
            return _page(request, form, check=check, errors=[("", m) for m in error.messages], status=400)
        messages.success(request, f"Comparator figures saved: {result.created} new, {result.updated} replaced, "
                                  f"{result.unchanged} unchanged.")
        return redirect("comparators:upload")
    form = ComparatorUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, status=400)
        raw = form.cleaned_data["file"].read()
        check = services.comparator_figures_check(raw)
        if check.errors:
            errors = [("", e) for e in check.file_errors] + [
                (f"row-{r.number}", f"Row {r.number}: {e}") for r in check.rows for e in r.errors]
            return _page(request, form, check=check, errors=errors, status=400)
        return _page(request, form, check=check, content=base64.b64encode(raw).decode("ascii"))
    return _page(request, form)
