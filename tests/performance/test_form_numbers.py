"""Numbers as people write them, in the forms (issue 15, item 5): one rule reads a figure typed
as text (``validation.parse_figure``, used by the return form and the CSV import); the inputs show
a stored figure with separators and the indicator's own decimal places, which reads back as the
same figure; the unit is shown beside the input (GOV.UK prefix and suffix) and said in the label."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from performance.catalogue import services
from performance.models import Indicator, IndicatorReturn, ReturnImport
from performance.returns import validation, workflow
from performance.templatetags.figures import figure_for_input
from tests.factories import IndicatorFactory, council, district
from tests.performance.test_imports import fill, template, to_csv, upload

COUNT, PERCENTAGE, POUNDS = Indicator.Unit.COUNT, Indicator.Unit.PERCENTAGE, Indicator.Unit.CURRENCY_GBP


# --- The one rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,unit,number", [
    ("5177", COUNT, Decimal("5177")), ("5,177", COUNT, Decimal("5177")), ("5 177", COUNT, Decimal("5177")),
    (" 5177 ", COUNT, Decimal("5177")), ("5\u00a0177", COUNT, Decimal("5177")), ("1,234,567.5", COUNT, Decimal("1234567.5")),
    ("£5,177", POUNDS, Decimal("5177")), ("-£5", POUNDS, Decimal("-5")), ("£-5", POUNDS, Decimal("-5")),
    ("12.5%", PERCENTAGE, Decimal("12.5")), ("12.5 %", PERCENTAGE, Decimal("12.5")), ("3%", "percentage_points", Decimal(3)),
    ("5177.5", COUNT, Decimal("5177.5")), (".5", COUNT, Decimal("0.5")), ("-3", COUNT, Decimal(-3)), ("+3", COUNT, Decimal(3)),
    ("\u22123", "percentage_points", Decimal(-3)), ("'42", COUNT, Decimal(42)), ("-0", COUNT, Decimal(0)),
    ("0.0001", COUNT, Decimal("0.0001")), ("12.500000", COUNT, Decimal("12.5")), ("9999999999999999.9999", COUNT, Decimal("9999999999999999.9999")),
    ("12.34", "rate_per_1000", Decimal("12.34")),  # more places than the indicator shows: kept, as the API keeps them
    ("", COUNT, None), ("   ", COUNT, None),
])
def test_a_figure_as_people_write_it_is_read(text, unit, number):
    assert validation.parse_figure(text, unit=unit) == number


@pytest.mark.parametrize("text,unit,code,words", [
    ("5,17", COUNT, "ambiguous", "commas only between groups of three digits"),
    ("1.234,5", COUNT, "ambiguous", "could be read more than one way"),
    ("12,5", COUNT, "ambiguous", "“12,5”"), ("1,2345", COUNT, "ambiguous", "full stop for decimals"),
    ("5 17", COUNT, "ambiguous", "groups of three"), ("12..5", COUNT, "ambiguous", "groups of three"),
    ("12.5%", COUNT, "unit", "without the % sign: only percentages have one"),
    ("£5", COUNT, "unit", "without the £ sign: only figures in pounds have one"),
    ("£5", PERCENTAGE, "unit", "£ sign"), ("5%", POUNDS, "unit", "% sign"), ("5%", None, "unit", "% sign"),
    ("1.23456", COUNT, "places", "at most 4 decimal places"),
    ("10000000000000000", COUNT, "too_big", "smaller than 10,000,000,000,000,000"),
    ("twelve", COUNT, "invalid", "as a number"), ("1e6", COUNT, "invalid", ""), ("NaN", COUNT, "invalid", ""),
    ("Infinity", COUNT, "invalid", ""), ("1_000", COUNT, "invalid", ""), ("١٢", COUNT, "invalid", ""),
    ("０", COUNT, "invalid", ""), ("--5", COUNT, "invalid", ""), ("5-", COUNT, "invalid", ""), ("%", PERCENTAGE, "invalid", ""),
])
def test_what_cannot_be_read_one_way_is_refused_with_words(text, unit, code, words):
    with pytest.raises(ValidationError) as refused:
        validation.parse_figure(text, unit=unit)
    assert refused.value.code == code and words in refused.value.messages[0]


@pytest.mark.parametrize("stored,places,shown", [
    (Decimal("5177.0000"), 0, "5,177"), (Decimal("5177.0000"), 1, "5,177.0"), (Decimal("5177.5000"), 0, "5,177.5"),
    (Decimal("5177.2500"), 1, "5,177.25"), (Decimal("-0.5000"), 2, "-0.50"), (Decimal("1234567.0000"), 0, "1,234,567"),
    (None, 1, ""), ("5,17", 1, "5,17"),  # typed text is shown again as typed
])
def test_a_stored_figure_is_shown_in_its_input_with_its_places_and_reads_back_the_same(stored, places, shown):
    assert figure_for_input(stored, places) == shown
    if isinstance(stored, Decimal):
        assert validation.parse_figure(shown, unit=COUNT) == stored


# --- The return form ---------------------------------------------------------------------------

def url(period, indicator):
    return reverse("performance:indicator-return", args=[period.pk, indicator.code, district().gss_code])


def post(client, period, indicator, **data):
    return client.post(url(period, indicator), {"action": "save", "commentary": "", "version": "", **data})


def input_value(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    start = html.index('value="', start) + len('value="')
    return html[start:html.index('"', start)]


@pytest.mark.django_db
def test_a_stored_figure_shows_as_people_write_it_and_saves_back_unchanged(client, officer, period, count_indicator):
    Indicator.objects.filter(pk=count_indicator.pk).update(decimal_places=0)
    count_indicator.refresh_from_db()
    ret = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal("5177.0000")),
    )
    client.force_login(officer)
    html = client.get(url(period, count_indicator)).content.decode()
    assert input_value(html, "value") == "5,177" and "5177.0000" not in html
    response = post(client, period, count_indicator, value="5,177", version=str(ret.version))
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.value == Decimal(5177) and ret.version == 1, "the figure shown, posted back, changes nothing"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["5,177", "5 177", " 5177 ", "5177"])
def test_a_figure_typed_with_separators_is_saved_as_the_number(client, officer, period, count_indicator, typed):
    client.force_login(officer)
    assert post(client, period, count_indicator, value=typed).status_code == 302
    assert IndicatorReturn.objects.get(breakdown__isnull=True).value == Decimal(5177)


@pytest.mark.django_db
@pytest.mark.parametrize("typed,words", [
    ("5,17", "could be read more than one way"), ("1.234,5", "could be read more than one way"),
    ("12%", "without the % sign"), ("£5,177", "without the £ sign"), ("5.12345", "at most 4 decimal places"),
])
def test_a_figure_that_cannot_be_read_one_way_is_an_error_and_stays_as_typed(client, officer, period, count_indicator,
                                                                              typed, words):
    client.force_login(officer)
    response = post(client, period, count_indicator, value=typed, commentary="kept")
    html = response.content.decode()
    assert response.status_code == 400 and "There is a problem" in html and 'href="#id_value"' in html
    assert words in html and input_value(html, "value") == typed, "the field keeps what was typed"
    assert not IndicatorReturn.objects.exists()


@pytest.mark.django_db
def test_a_rate_takes_its_numerator_and_denominator_as_counts(client, officer, period, rate_indicator):
    client.force_login(officer)
    assert post(client, period, rate_indicator, numerator="1,200", denominator="3 000").status_code == 302
    ret = IndicatorReturn.objects.get()
    assert (ret.numerator, ret.denominator, ret.value) == (Decimal(1200), Decimal(3000), Decimal(40))
    html = client.get(url(period, rate_indicator)).content.decode()
    assert input_value(html, "numerator") == "1,200" and input_value(html, "denominator") == "3,000"
    response = post(client, period, rate_indicator, numerator="45%", denominator="100")
    assert response.status_code == 400 and "Enter the numerator without the % sign" in response.content.decode()


def assigned(**fields):
    indicator = IndicatorFactory(**fields)
    services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
    return indicator


@pytest.mark.django_db
def test_the_input_shows_the_unit_beside_it_and_says_it_in_the_label(client, officer, period):
    pounds = assigned(code="T-SPEND", unit=POUNDS, decimal_places=0)
    share = assigned(code="T-SHARE", unit=PERCENTAGE, aggregation=Indicator.Aggregation.NONE, max_value=Decimal(100))
    per_1000 = assigned(code="T-PER1K", unit="rate_per_1000", aggregation=Indicator.Aggregation.NONE)
    client.force_login(officer)
    html = client.get(url(period, pounds)).content.decode()
    assert '<div class="govuk-input__prefix" aria-hidden="true">£</div>' in html and "Value (pounds)" in html
    html = client.get(url(period, share)).content.decode()
    assert '<div class="govuk-input__suffix" aria-hidden="true">%</div>' in html and "Value (percentage)" in html
    html = client.get(url(period, per_1000)).content.decode()
    assert '<div class="govuk-input__suffix" aria-hidden="true">per 1,000</div>' in html and "Value (rate per 1,000)" in html
    assert post(client, period, pounds, value="£5,177").status_code == 302
    assert post(client, period, share, value="12.5%").status_code == 302
    assert {r.indicator.code: r.value for r in IndicatorReturn.objects.all()} == {"T-SPEND": 5177, "T-SHARE": Decimal("12.5")}
    html = client.get(url(period, share)).content.decode()
    assert input_value(html, "value") == "12.5", "stored 12.5000, shown with the indicator's one decimal place"


@pytest.mark.django_db
def test_percent_complete_may_be_typed_with_its_sign(client, officer, period):
    from ambitions.models import DeliveryPlan
    from performance.models import Milestone, MilestoneReturn

    milestone = Milestone.objects.create(title="A milestone", delivery_plan=DeliveryPlan.objects.order_by("pk").first(),
                                         owner=council(), due_date=period.end)
    client.force_login(officer)
    target = reverse("performance:milestone-return", args=[period.pk, milestone.pk])
    response = client.post(target, {"status": "on_track", "percent_complete": "40%", "commentary": "", "action": "save"})
    assert response.status_code == 302 and MilestoneReturn.objects.get().percent_complete == 40
    response = client.post(target, {"status": "on_track", "percent_complete": "40.5", "commentary": "", "action": "save",
                                    "version": "1"})
    assert response.status_code == 400 and "Percent complete must be a whole number, like 40." in response.content.decode()


# --- The CSV import: the same rule -------------------------------------------------------------

@pytest.mark.django_db
def test_the_csv_import_reads_figures_by_the_same_rule(client, officer, period, count_indicator, rate_indicator):
    client.force_login(officer)
    rows = fill(template(client, period), {
        ("T-KSI", ""): {"value": "5,17"}, ("T-RECYC", ""): {"numerator": "45%", "denominator": "1,000"},
    })
    page = client.get(upload(client, period, to_csv(rows))["Location"]).content.decode()
    assert ReturnImport.objects.get().state == "rejected" and not IndicatorReturn.objects.exists()
    assert "could be read more than one way" in page and "Enter the numerator without the % sign" in page
    rows = fill(template(client, period), {
        ("T-KSI", ""): {"value": "5,177", "commentary": "Counted"}, ("T-RECYC", ""): {"numerator": "450", "denominator": "1,000"},
    })
    page = client.get(upload(client, period, to_csv(rows))["Location"]).content.decode()
    job = ReturnImport.objects.order_by("-pk").first()
    assert job.state == "preview", job.rows
    assert "5,177.0" in page and "5177.0000" not in page, "the preview writes figures as the pages do"
