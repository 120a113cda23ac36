"""The notifications pages. Each view says who may use it; each parses the request, calls a
service or selector, and renders. A person sees, opens and marks only their own notifications."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from kentforum.forms import error_list
from performance.models import Indicator

from . import selectors, services
from .forms import FollowForm, PreferencesForm
from .models import Kind, Notification

# Who receives each kind, as a hint under its checkbox.
KIND_HINTS = {
    Kind.RETURN_SENT_BACK: "Officers: when an approver sends back one of your organisation's returns, with the reason.",
    Kind.RETURN_APPROVED: "Officers: when an approver approves one of your organisation's returns.",
    Kind.APPROVALS_DIGEST: "Approvers: each morning, how many returns await your approval, when any do.",
    Kind.REPORT_PUBLISHED: "Board members: when the report of a board you sit on is published.",
    Kind.INDICATOR_ALERT: "Anyone: when the latest complete Kent figure of an indicator you follow turns red or worsens.",
    Kind.RETURN_COMMENT: "Officers and approvers: when someone comments on a return of your organisation, or on one you "
                         "sent back, approved or commented on, with the comment.",
}


@login_required
@require_http_methods(["GET"])
def notification_list(request):
    """Who may see it: anyone signed in; each sees their own notifications only."""
    return render(request, "notifications/list.html", {
        "notifications": selectors.notifications_for(request.user),
        "limit": selectors.LIST_LENGTH,
    })


@login_required
@require_POST
def notifications_read(request):
    """Who may use it: anyone signed in, for their own notifications: marks them all read."""
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read." if count
                     else "No unread notifications.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET"])
def notification_open(request, pk: int):
    """Who may use it: the person the notification is for (anyone else: 404). Marks it read and
    goes to the page it is about."""
    try:
        notification = services.notification_open(user=request.user, pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404("No such notification of yours.") from exc
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link)
    return redirect("notifications:list")


def _preferences_context(request, form, *, follow_errors=None):
    preferences = selectors.email_preferences(request.user)
    emailed = set(form.data.getlist("emailed")) if form.is_bound else {k for k, on in preferences.items() if on}
    return {
        "form": form,
        "kinds": [{"value": value, "label": label, "hint": KIND_HINTS[value], "checked": value in emailed}
                  for value, label in Kind.choices],
        "subscriptions": selectors.subscriptions_for(request.user),
        "errors": error_list(form) + (follow_errors or []),
    }


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Who may use it: anyone signed in, for themselves: which kinds they are e-mailed, and the
    indicators they follow."""
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.preferences_set(user=request.user, emailed=set(form.cleaned_data["emailed"]))
            messages.success(request, "Your e-mail preferences are saved.")
            return redirect("notifications:preferences")
        return render(request, "notifications/preferences.html", _preferences_context(request, form), status=400)
    return render(request, "notifications/preferences.html", _preferences_context(request, PreferencesForm()))


@login_required
@require_POST
def follow(request):
    """Who may use it: anyone signed in, for themselves: follow an indicator (told when its
    latest complete Kent figure turns red or worsens), or stop following it."""
    form = FollowForm(request.POST)
    if not form.is_valid():
        errors = [("", message) for messages_ in form.errors.values() for message in messages_]
        context = _preferences_context(request, PreferencesForm(), follow_errors=errors)
        return render(request, "notifications/preferences.html", context, status=400)
    indicator = Indicator.objects.filter(code=form.cleaned_data["indicator"]).first()
    if indicator is None:
        raise Http404("No such indicator.")
    following = form.cleaned_data["follow"]
    services.subscription_follow(user=request.user, indicator=indicator, follow=following)
    messages.success(request, f"You {'now follow' if following else 'no longer follow'} {indicator.name}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("notifications:preferences")
    return redirect(target)
