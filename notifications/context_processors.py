"""The signed-in person's unread notifications, for the header: counted at most once a page,
and only if the page shows it."""
from django.utils.functional import SimpleLazyObject

from . import selectors


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": SimpleLazyObject(lambda: selectors.unread_count(user))}
