"""Pages of a saved CSV upload: submitting, in one step, the drafts it saved that pass validation."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from kentforum.roles import Role, require_role
from performance.models import ReturnImport
from performance.returns import imports


@require_role(Role.OFFICER)
@require_POST
def import_submit_all(request, pk: int):
    """Who may use it: the officer who uploaded the file, for their organisation's returns. Each
    return posted with the version shown on the import page is submitted on its own; the page
    then says which were submitted and which could not be, and why."""
    job = get_object_or_404(ReturnImport.objects.select_related("period", "organisation"), pk=pk)
    if job.uploaded_by_id != request.user.pk:
        raise PermissionDenied("This upload is someone else's.")
    versions = {}
    for pk_text in request.POST.getlist("returns"):
        ret_pk, _, version = pk_text.partition(":")
        if ret_pk.isdigit() and version.isdigit():
            versions[int(ret_pk)] = int(version)
    try:
        submitted, refused = imports.import_submit_all(
            user=request.user, job=job, versions=versions, confirm_warnings=request.POST.get("confirm_warnings") == "yes",
        )
    except ValidationError as error:
        return render(request, "performance/import_submitted.html", {"job": job, "error": error.messages[0]}, status=400)
    return render(request, "performance/import_submitted.html", {"job": job, "submitted": submitted, "refused": refused})
