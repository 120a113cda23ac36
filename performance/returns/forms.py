"""Forms of the returns pages. They parse and type-check what was typed; the rules are those of
``returns.validation`` and the workflow (so the API and the CSV import apply the same ones),
and the upload's size limit is ``returns.imports.max_bytes``."""
from __future__ import annotations

from django import forms

from kentforum.forms import DateParts
from performance.catalogue import rules
from performance.models import DataQuality, Indicator, MilestoneReturn
from performance.returns import imports
from performance.returns.validation import IndicatorFigures, MilestoneProgress, commentary_errors, parse_figure
from performance.templatetags.figures import figure_for_input


class CommentaryLimit:
    """The commentary's limit as the services check it (``validation.commentary_errors``), with
    the same words; no maxlength attribute, so a long paste is reported, never cut short."""

    def clean_commentary(self):
        commentary = self.cleaned_data.get("commentary", "")
        for message in commentary_errors(commentary).values():
            raise forms.ValidationError(message)
        return commentary


class FigureField(forms.Field):
    """A figure as people type it ("5,177", "£5,177", "12.5%"), read by ``parse_figure``, the one
    rule of every door that takes figures as text; what it cannot read is refused with a message
    and kept in the input as typed. A stored figure is shown as ``figure_for_input`` writes it
    (separators and the indicator's own decimal places), which reads back as the same figure.
    ``unit`` (an ``Indicator.Unit`` value, or None for a count such as a numerator) says which
    of "£" and "%" may be typed and what the input shows beside it (``prefix``, ``suffix``)."""

    default_error_messages = {"invalid": "Enter a number, like 1234 or 56.7."}

    def __init__(self, *, unit=None, places=0, what="the value", **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.unit, self.places, self.what = unit, places, what
        self.prefix, self.suffix = (part.strip() for part in rules.UNIT_AFFIXES.get(unit, ("", "")))

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_figure(value, unit=self.unit, what=self.what)
        except forms.ValidationError as error:
            if error.code == "invalid":
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
            raise

    def prepare_value(self, value):
        return figure_for_input(value, self.places)


class WholePercentField(forms.IntegerField):
    """A whole percentage ("40", "40%"), read by the same ``parse_figure`` as every figure."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            number = parse_figure(value, unit=Indicator.Unit.PERCENTAGE, what=self.label.lower())
        except forms.ValidationError as error:
            if error.code in ("invalid", "places"):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
            if error.code == "too_big":
                raise forms.ValidationError(self.error_messages["max_value"], code="max_value") from None
            raise
        if number is None:
            return None
        if number != number.to_integral_value():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(number)


def unit_words(indicator) -> str:
    """The indicator's unit as a label says it: "count", "rate per 1,000", "pounds"."""
    return {Indicator.Unit.CURRENCY_GBP: "pounds", Indicator.Unit.PERCENTAGE_POINTS: "percentage points"}.get(
        indicator.unit, indicator.get_unit_display().lower()
    )


class IndicatorReturnForm(CommentaryLimit, forms.Form):
    commentary = forms.CharField(
        required=False, widget=forms.Textarea,
        help_text="Required when the value misses its target or you confirm a warning: say why, and what is being done.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_warnings = forms.BooleanField(
        required=False, label="I have checked these figures and they are right; my commentary explains them",
    )

    quality = forms.ChoiceField(
        choices=DataQuality.choices, required=False, widget=forms.RadioSelect, label="How final is this figure?",
        initial=DataQuality.FINAL,
    )
    released_day = forms.IntegerField(required=False, label="Day")
    released_month = forms.IntegerField(required=False, label="Month")
    released_year = forms.IntegerField(required=False, label="Year")
    quality_note = forms.CharField(
        required=False, max_length=500, label="Note on data quality",
        help_text="Required unless final: what is provisional, estimated or revised, and when the final figure is due.",
    )

    def __init__(self, *args, indicator, categories=(), carried=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.categories = list(categories)
        fields = {}
        # The value, its breakdowns and its interval are in the indicator's unit and places; a
        # rate's numerator and denominator are counts.
        figure = {"unit": indicator.unit, "places": indicator.decimal_places}
        if indicator.is_rate:
            fields["numerator"] = FigureField(label=f"Numerator: {indicator.numerator_label}", what="the numerator")
            fields["denominator"] = FigureField(label=f"Denominator: {indicator.denominator_label}", what="the denominator")
        else:
            fields["value"] = FigureField(label=f"Value ({unit_words(indicator)})", **figure)
        for category in self.categories:
            fields[f"breakdown_{category.pk}"] = FigureField(  # the unit in words where the input shows its sign
                label=f"{category.label} ({unit_words(indicator)})" if indicator.unit in rules.UNIT_AFFIXES else category.label,
                what=f"the figure for {category.label}", **figure,
            )
        if indicator.is_survey:
            fields["ci_lower"] = FigureField(
                label=f"Lower limit of the published 95% interval ({unit_words(indicator)})", what="the lower limit", **figure,
            )
            fields["ci_upper"] = FigureField(
                label=f"Upper limit of the published 95% interval ({unit_words(indicator)})", what="the upper limit", **figure,
            )
            fields["sample_base"] = forms.IntegerField(
                required=False, min_value=1, label="Unweighted sample base",
                help_text="If the source publishes no interval: how many people answered.",
                error_messages={"invalid": "The sample base is a whole number, like 640.",
                                "min_value": "The sample base is at least 1."},
            )
        self.fields = {**fields, **self.fields}
        self.carried = self._carry(carried)

    def _carry(self, carried):
        """Last period's commentary (``carried``, a ``selectors.CarriedCommentary`` or None)
        starts a commentary not written yet, and the form says so (``self.carried``, and a hint)
        while the commentary is still that text: an officer who keeps it has chosen to."""
        if carried is None:
            return None
        if not self.is_bound and not self.initial.get("commentary"):
            self.initial["commentary"] = carried.text
        text = self.data.get(self.add_prefix("commentary")) if self.is_bound else self.initial.get("commentary")
        if (text or "").replace("\r\n", "\n").strip() != carried.text.replace("\r\n", "\n").strip():
            return None
        field = self.fields["commentary"]
        field.help_text = f"Carried forward from {carried.period}: check and update it. {field.help_text}"
        return carried

    @property
    def breakdown_fields(self):
        return [self[f"breakdown_{c.pk}"] for c in self.categories]

    @property
    def released_parts(self):
        return [(self["released_day"], 2), (self["released_month"], 2), (self["released_year"], 4)]

    def clean(self):
        cleaned = super().clean()
        released, error = DateParts.compose(cleaned, "released", "The release date")
        if error:
            self.add_error("released_day", error)
        cleaned["source_released"] = released
        return cleaned

    def figures(self) -> IndicatorFigures:
        """The figures typed. Data-quality and survey fields are sent only where the page had
        them (a post without them keeps what is stored)."""
        data = self.cleaned_data
        quality = {}
        if "quality" in self.data:
            quality = {
                "quality": data.get("quality") or DataQuality.FINAL, "source_released": data.get("source_released"),
                "quality_note": (data.get("quality_note") or "").strip(),
            }
        if self.indicator.is_survey and "sample_base" in self.data:
            quality.update({name: data.get(name) for name in ("ci_lower", "ci_upper", "sample_base")})
        return IndicatorFigures(
            value=data.get("value"), numerator=data.get("numerator"), denominator=data.get("denominator"),
            commentary=data.get("commentary", "").strip(),
            breakdowns={c.pk: data.get(f"breakdown_{c.pk}") for c in self.categories}, quality=quality,
        )


class MilestoneReturnForm(CommentaryLimit, forms.Form):
    status = forms.ChoiceField(
        choices=MilestoneReturn.Status.choices, widget=forms.RadioSelect, label="Status",
        error_messages={"required": "Select the milestone's status."},
    )
    percent_complete = WholePercentField(
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
        required=False, widget=forms.Textarea,
        help_text="Required when the milestone is at risk or off track.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    @property
    def revised_parts(self):
        return [(self["revised_day"], 2), (self["revised_month"], 2), (self["revised_year"], 4)]

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

    @staticmethod
    def initial_from(ret) -> dict:
        """The form's fields as ``ret`` (a stored milestone return, or None) holds them."""
        if ret is None:
            return {}
        revised = ret.revised_date
        return {
            "status": ret.status, "percent_complete": ret.percent_complete, "commentary": ret.commentary,
            "version": ret.version, "revised_day": revised.day if revised else None,
            "revised_month": revised.month if revised else None, "revised_year": revised.year if revised else None,
        }


class DecisionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class SendBackForm(DecisionForm):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea, label="Why are you returning it?",
        help_text="The officer sees this reason.", error_messages={"required": "Enter a reason for returning the return."},
    )


class ReturnCommentForm(forms.Form):
    """A comment on a return; its rule (some words, the length) is ``comments.comment_errors``,
    which the service applies, so that a long paste is reported, never cut short."""

    prefix = "comment"  # its field is "comment-text", apart from the return form's
    text = forms.CharField(
        required=False, widget=forms.Textarea, label="Add a comment",
        help_text="The officers of the organisation, the approvers and the Forum team see it. Comments cannot be changed.",
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
        if problem := imports.size_error(upload.size):
            raise forms.ValidationError(problem)
        return upload
