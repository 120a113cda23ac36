"""``{% sso_sign_in_button next %}``: the sign-in page's button for single sign-on, shown only
while it is configured."""
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("sso/_button.html")
def sso_sign_in_button(next_url=""):
    start = reverse("sso:start")
    if next_url:
        start += "?" + urlencode({"next": next_url})
    return {"sso_enabled": settings.SSO_ENABLED, "start_url": start, "provider_name": settings.OIDC_PROVIDER_NAME}
