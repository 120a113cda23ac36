"""The Forum team's decision on a first sign-in."""
from __future__ import annotations

from django import forms


class DecisionForm(forms.Form):
    """Approve or refuse one pending first sign-in (the page prefixes each request's form with its
    id); a refusal says why (the person sees it)."""

    decision = forms.ChoiceField(
        label="Decision", choices=[("approve", "Approve"), ("refuse", "Refuse")],
        error_messages={"required": "Select whether to approve or refuse the sign-in."},
    )
    reason = forms.CharField(
        label="Why is it refused?", required=False, max_length=1000,
        help_text="Only if you refuse it. The person sees this when they try to sign in.",
        error_messages={"max_length": "The reason must be 1000 characters or fewer."},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Enter why the sign-in is refused.")
        return cleaned
