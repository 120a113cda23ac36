"""Bulk entry by CSV: the template, a checked preview with row-level errors, all or nothing."""
import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from performance.models import BreakdownCategory, IndicatorReturn, ReturnEvent, ReturnImport
from performance.returns import validation, workflow
from tests.factories import council, district

pytestmark = pytest.mark.django_db


def template(client, period) -> list[dict]:
    response = client.get(reverse("performance:template", args=[period.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(rows: list[dict], columns=None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(rows[0].keys()))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(client, period, content: bytes, name="returns.csv"):
    return client.post(reverse("performance:upload", args=[period.pk]), {"file": SimpleUploadedFile(name, content, "text/csv")})


def fill(rows, values_by_key):
    for row in rows:
        key = (row["indicator_code"], row["breakdown"])
        if key in values_by_key:
            row.update(values_by_key[key])
    return rows


def test_template_lists_only_the_officers_own_returns(client, officer, period, count_indicator, rate_indicator):
    client.force_login(officer)
    rows = template(client, period)
    assert {(r["indicator_code"], r["area_gss_code"], r["breakdown"]) for r in rows} == {
        ("T-KSI", "E07000105", ""), ("T-KSI", "E07000105", "severity:fatal"), ("T-KSI", "E07000105", "severity:serious"),
        ("T-RECYC", "E07000105", ""),
    }


def test_exported_text_cannot_run_as_a_spreadsheet_formula(client, officer, period, count_indicator):
    workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=5, commentary='=HYPERLINK("http://evil.example","click")'),
    )
    client.force_login(officer)
    row = next(r for r in template(client, period) if r["breakdown"] == "" and r["indicator_code"] == "T-KSI")
    assert row["commentary"].startswith("'=")


def test_a_good_upload_is_previewed_then_saved_all_at_once(client, officer, period, count_indicator, rate_indicator):
    client.force_login(officer)
    rows = fill(
        template(client, period),
        {("T-KSI", ""): {"value": "14", "commentary": "Fewer collisions"},
           ("T-KSI", "severity:fatal"): {"value": "1"}, ("T-KSI", "severity:serious"): {"value": "13"},
           ("T-RECYC", ""): {"numerator": "4,321", "denominator": "10000"}},
    )
    response = upload(client, period, to_csv(rows))
    job = ReturnImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("performance:import", args=[job.pk])
    assert job.state == "preview" and not IndicatorReturn.objects.exists(), "nothing is saved before confirmation"
    page = client.get(response["Location"]).content.decode()
    assert "4 rows checked with no errors" in page
    response = client.post(reverse("performance:import", args=[job.pk]), {"action": "confirm"})
    assert response.status_code == 302
    ksi = IndicatorReturn.objects.get(indicator=count_indicator, breakdown__isnull=True)
    assert ksi.value == 14 and ksi.state == "draft" and ksi.commentary == "Fewer collisions"
    fatal = BreakdownCategory.objects.get(dimension__code="severity", code="fatal")
    assert IndicatorReturn.objects.get(indicator=count_indicator, breakdown=fatal).value == 1
    assert IndicatorReturn.objects.get(indicator=rate_indicator).value == Decimal("43.21")
    assert set(ReturnEvent.objects.values_list("action", flat=True)) == {"imported"}
    assert ReturnImport.objects.get().state == "applied"


def test_row_errors_are_listed_and_nothing_is_saved(client, officer, period, count_indicator, rate_indicator):
    client.force_login(officer)
    rows = fill(
        template(client, period),
        {("T-KSI", ""): {"value": "fourteen"}, ("T-RECYC", ""): {"numerator": "12", "denominator": "10"}},
    )
    rows.append({**rows[0], "indicator_code": "T-OTHER", "value": "3"})
    response = upload(client, period, to_csv(rows))
    job = ReturnImport.objects.get()
    assert job.state == "rejected"
    page = client.get(response["Location"]).content.decode()
    assert "Nothing has been saved" in page
    assert "value must be a number, not “fourteen”" in page
    assert "numerator cannot be more than the denominator" in page
    assert "does not return indicator “T-OTHER”" in page
    assert not IndicatorReturn.objects.exists()
    assert client.post(reverse("performance:import", args=[job.pk]), {"action": "confirm"}).status_code == 200
    assert not IndicatorReturn.objects.exists()


@pytest.mark.parametrize(
    "content,message",
    [
        ("period,value\n2012/13 Q1,4\n".encode(), "missing the column(s)"),
        ("período".encode("latin-1") + b",x\n", "not UTF-8"),
        (b"\x00\x01\x02binary", "binary data"),
        (b"", "The submitted file is empty."),
    ],
)
def test_unreadable_files_get_a_clear_message(client, officer, period, count_indicator, content, message):
    client.force_login(officer)
    response = upload(client, period, content)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ReturnImport.objects.exists() and not IndicatorReturn.objects.exists()


def test_a_return_changed_between_preview_and_confirmation_saves_nothing(client, officer, period, count_indicator, rate_indicator):
    client.force_login(officer)
    rows = fill(template(client, period), {("T-KSI", ""): {"value": "14"}, ("T-RECYC", ""): {"numerator": "40", "denominator": "100"}})
    response = upload(client, period, to_csv(rows))
    job = ReturnImport.objects.get()
    # Meanwhile, someone saves the recycling return in the browser.
    workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=1, denominator=2),
    )
    client.post(response["Location"], {"action": "confirm"})
    job.refresh_from_db()
    assert job.state == "rejected"
    assert "has changed since the template was downloaded" in str(job.rows)
    assert not IndicatorReturn.objects.filter(indicator=count_indicator).exists()
    assert IndicatorReturn.objects.get(indicator=rate_indicator).numerator == 1


def test_someone_elses_upload_is_403(client, officer, other_officer, period, count_indicator):
    client.force_login(officer)
    rows = fill(template(client, period), {("T-KSI", ""): {"value": "14"}})
    upload(client, period, to_csv(rows))
    job = ReturnImport.objects.get()
    client.force_login(other_officer)
    assert client.get(reverse("performance:import", args=[job.pk])).status_code == 403
    assert client.post(reverse("performance:import", args=[job.pk]), {"action": "confirm"}).status_code == 403
    assert not IndicatorReturn.objects.exists()


def test_an_officer_cannot_upload_another_districts_rows(client, other_officer, period, count_indicator):
    client.force_login(other_officer)
    rows = [{"period": period.label, "indicator_code": "T-KSI", "indicator_name": "", "area_gss_code": "E07000105",
             "area_name": "Ashford", "breakdown": "", "value": "3", "numerator": "", "denominator": "",
             "commentary": "", "version": ""}]
    upload(client, period, to_csv(rows))
    assert ReturnImport.objects.get().state == "rejected"
    assert "does not return indicator" in str(ReturnImport.objects.get().rows)


def test_a_submitted_return_may_come_back_unchanged_but_not_changed(client, officer, period, count_indicator, rate_indicator):
    """The template carries submitted returns' figures: uploaded as downloaded they are left
    alone (and the page says so); changed, they are an error naming the row and nothing is saved."""
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(14), commentary="Fewer collisions"),
    )
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    submitted = IndicatorReturn.objects.get(pk=ret.pk)
    client.force_login(officer)
    rows = fill(template(client, period), {("T-RECYC", ""): {"numerator": "40", "denominator": "100"}})
    assert next(r for r in rows if r["indicator_code"] == "T-KSI" and not r["breakdown"])["value"] == "14"
    response = upload(client, period, to_csv(rows))
    job = ReturnImport.objects.get()
    assert job.state == "preview" and job.unchanged_count == 1
    page = client.get(response["Location"]).content.decode()
    assert "1 return changed, 1 unchanged" in page and "Save 1 changed return (1 unchanged, 0 with errors)" in page
    client.post(response["Location"], {"action": "confirm"})
    assert ReturnImport.objects.get().state == "applied"
    after = IndicatorReturn.objects.get(pk=ret.pk)
    assert (after.version, after.state, after.value) == (submitted.version, "submitted", Decimal(14))
    assert IndicatorReturn.objects.get(indicator=rate_indicator).numerator == 40

    changed = fill(template(client, period), {("T-KSI", ""): {"value": "15"}})
    response = upload(client, period, to_csv(changed))
    job = ReturnImport.objects.latest("pk")
    assert job.state == "rejected"
    assert "already submitted; it cannot be changed by upload" in client.get(response["Location"]).content.decode()
    assert IndicatorReturn.objects.get(pk=ret.pk).value == Decimal(14)
