"""The comparator upload's form: one CSV file, no larger than the service takes."""
from __future__ import annotations

from django import forms

from performance.comparators.services import MAX_BYTES


class ComparatorUploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a CSV file of comparator figures", error_messages={"required": "Choose a CSV file to upload."},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
        return upload
