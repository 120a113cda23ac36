"""The ``sso`` app's configuration."""
from django.apps import AppConfig


class SsoConfig(AppConfig):
    """Single sign-on by OpenID Connect (README, "Single sign-on (OpenID Connect)")."""

    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"
