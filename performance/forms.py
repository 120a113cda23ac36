"""Forms of the returns pages. They parse and type-check what was typed; the rules live in
``services`` (so the API and the CSV import apply the same ones)."""
from __future__ import annotations

from django import forms

from kentforum.forms import DateParts, FriendlyDecimalField

from .models import MilestoneReturn
from .services import IndicatorFigures, MilestoneProgress

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class IndicatorReturnForm(forms.Form):
    commentary = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea,
        help_text="Required when the value is off target or you confirm a warning: say why, and what is being done.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_warnings = forms.BooleanField(
        required=False, label="I have checked these figures and they are right; my commentary explains them",
    )

    def __init__(self, *args, indicator, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.categories = list(categories)
        fields = {}
        if indicator.is_rate:
            fields["numerator"] = FriendlyDecimalField(required=False, label=f"Numerator: {indicator.numerator_label}")
            fields["denominator"] = FriendlyDecimalField(required=False, label=f"Denominator: {indicator.denominator_label}")
        else:
            fields["value"] = FriendlyDecimalField(required=False, label=f"Value ({indicator.get_unit_display().lower()})")
        for category in self.categories:
            fields[f"breakdown_{category.pk}"] = FriendlyDecimalField(required=False, label=category.label)
        self.fields = {**fields, **self.fields}

    @property
    def breakdown_fields(self):
        return [self[f"breakdown_{c.pk}"] for c in self.categories]

    def figures(self) -> IndicatorFigures:
        data = self.cleaned_data
        return IndicatorFigures(
            value=data.get("value"), numerator=data.get("numerator"), denominator=data.get("denominator"),
            commentary=data.get("commentary", "").strip(),
            breakdowns={c.pk: data.get(f"breakdown_{c.pk}") for c in self.categories},
        )


class MilestoneReturnForm(forms.Form):
    status = forms.ChoiceField(
        choices=MilestoneReturn.Status.choices, widget=forms.RadioSelect, label="Status",
        error_messages={"required": "Select the milestone's status."},
    )
    percent_complete = forms.IntegerField(
        min_value=0, max_value=100, label="Percent complete", required=True,
        error_messages={
            "required": "Enter how complete the milestone is, from 0 to 100.",
            "invalid": "Percent complete must be a whole number, like 40.",
            "min_value": "Percent complete is between 0 and 100.",
            "max_value": "Percent complete is between 0 and 100.",
        },
    )
    revised_day = forms.IntegerField(required=False, label="Day")
    revised_month = forms.IntegerField(required=False, label="Month")
    revised_year = forms.IntegerField(required=False, label="Year")
    commentary = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea,
        help_text="Required when the milestone is at risk or off track.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        revised, error = DateParts.compose(cleaned, "revised", "The revised date")
        if error:
            self.add_error("revised_day", error)
        cleaned["revised_date"] = revised
        return cleaned

    def progress(self) -> MilestoneProgress:
        data = self.cleaned_data
        return MilestoneProgress(
            status=data["status"], percent_complete=data["percent_complete"], revised_date=data.get("revised_date"),
            commentary=data.get("commentary", "").strip(),
        )


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class SendBackForm(DecisionForm):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea, label="Why are you returning it?",
        help_text="The officer sees this reason.", error_messages={"required": "Enter a reason for returning the return."},
    )


class PeriodOpenForm(forms.Form):
    deadline_day = forms.IntegerField(label="Day", error_messages={"required": "Enter the deadline's day."})
    deadline_month = forms.IntegerField(label="Month", error_messages={"required": "Enter the deadline's month."})
    deadline_year = forms.IntegerField(label="Year", error_messages={"required": "Enter the deadline's year."})
    grace_days = forms.IntegerField(
        min_value=0, max_value=60, initial=5, label="Grace days",
        help_text="Days after the deadline before the period locks by itself.",
    )

    def clean(self):
        cleaned = super().clean()
        deadline, error = DateParts.compose(cleaned, "deadline", "The deadline")
        if error:
            self.add_error("deadline_day", error)
        cleaned["deadline"] = deadline
        return cleaned


class PeriodReopenForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea, label="Why are you reopening this period?",
        error_messages={"required": "Enter a reason for reopening the period."},
    )


class ReturnUploadForm(forms.Form):
    file = forms.FileField(
        label="Upload your completed CSV file", error_messages={"required": "Choose a CSV file to upload."},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file must be smaller than 2 MB.")
        return upload
