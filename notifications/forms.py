"""The forms of the notifications pages."""
from __future__ import annotations

from django import forms

from .models import Kind


class PreferencesForm(forms.Form):
    """Which kinds of notification the person is e-mailed."""

    emailed = forms.MultipleChoiceField(
        choices=Kind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose only from the kinds listed."},
    )


class FollowForm(forms.Form):
    """Follow an indicator, or stop following it."""

    indicator = forms.CharField(max_length=50, error_messages={"required": "Say which indicator."})
    follow = forms.TypedChoiceField(
        choices=[("yes", "Follow"), ("no", "Stop following")], coerce=lambda value: value == "yes",
        error_messages={"required": "Say whether to follow it.", "invalid_choice": "Say whether to follow it."},
    )
