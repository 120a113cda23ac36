"""``{% follow_button indicator %}``: the button that follows (or stops following) an indicator,
for a signed-in person, on the indicator's page."""
from django import template

from notifications import selectors

register = template.Library()


@register.inclusion_tag("notifications/_follow.html", takes_context=True)
def follow_button(context, indicator):
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "signed_in": signed_in, "indicator": indicator, "csrf_token": context.get("csrf_token"),
        "following": signed_in and selectors.is_following(user, indicator),
        "next": request.get_full_path() if request else "",
    }
