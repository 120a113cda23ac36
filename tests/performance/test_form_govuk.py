"""The return forms follow the GOV.UK Design System (issue 16, item 1): one verdict per figure,
breakdowns grouped by dimension with the summary linked to the group, every error in one round."""
import re

import pytest

from performance.catalogue import rules
from performance.models import BreakdownCategory, BreakdownDimension
from tests.performance.test_milestone_views import milestone  # noqa: F401
from tests.performance.test_milestone_views import url as milestone_url
from tests.performance.test_views import post, url

pytestmark = pytest.mark.django_db


def category(dimension_code, code):
    return BreakdownCategory.objects.get(dimension__code=dimension_code, code=code)


@pytest.fixture
def casualties(count_indicator):
    """People killed or seriously injured, broken down by severity and by age band."""
    count_indicator.breakdown_dimensions.add(BreakdownDimension.objects.get(code="age_band"))
    return count_indicator


# --- One verdict per figure -------------------------------------------------------------------

@pytest.mark.parametrize("value, status", [("21", rules.AMBER), ("30", rules.RED)])
def test_the_pages_verdict_and_the_commentary_message_say_the_same(client, officer, period, count_indicator, value, status):
    # Given a target of 20 with 10% tolerance, lower is better; when submitted without a commentary
    client.force_login(officer)
    response = post(client, period, count_indicator, action="submit", value=value)
    html = response.content.decode()
    # then the verdict and the message come from the same rule and the same figure
    assert response.status_code == 400
    assert f"Against target: <strong>{rules.status_label(status)}</strong>" in html
    assert f"Add a commentary: the value is {rules.status_label(status).lower()}" in html
    other = rules.status_label(rules.RED if status == rules.AMBER else rules.AMBER)
    assert other not in html and other.lower() not in html


def test_on_target_needs_no_commentary(client, officer, period, count_indicator):
    client.force_login(officer)
    assert post(client, period, count_indicator, action="submit", value="18").status_code == 302


def test_the_reason_and_the_verdict_share_one_rule_for_every_status():
    for status in (rules.GREEN, rules.AMBER, rules.RED, rules.NO_TARGET):
        reason = rules.commentary_reason(status)
        assert reason == f"the value is {rules.status_label(status).lower()}"
        assert rules.is_off_target(status) == (status in (rules.AMBER, rules.RED))
    assert rules.commentary_reason(rules.GREEN, warned=True) == "the figures raise a warning"


# --- Breakdowns grouped by dimension ----------------------------------------------------------

def test_each_dimension_is_a_fieldset_with_a_legend(client, officer, period, casualties):
    client.force_login(officer)
    html = client.get(url(period, casualties)).content.decode()
    for anchor, legend, field in (("breakdown-age_band", "By age band", category("age_band", "16-24")),
                                  ("breakdown-severity", "By severity (killed or seriously injured)",
                                   category("severity", "fatal"))):
        fieldset = re.search(rf'<fieldset class="govuk-fieldset" id="{anchor}".*?</fieldset>', html, re.S)
        assert fieldset, anchor
        assert f">{legend}</legend>" in fieldset.group(0)
        assert f'name="breakdown_{field.pk}"' in fieldset.group(0)  # the POST keys are unchanged
    assert "govuk-form-group--error" not in html


def test_a_mismatched_dimension_is_linked_from_the_summary_and_marked(client, officer, period, casualties):
    client.force_login(officer)
    data = {f"breakdown_{category('severity', 'fatal').pk}": 5, f"breakdown_{category('severity', 'serious').pk}": 10,
            f"breakdown_{category('age_band', '16-24').pk}": 4, f"breakdown_{category('age_band', '25-39').pk}": 7,
            "value": 15, "commentary": "A bad winter."}
    response = post(client, period, casualties, action="submit", **data)
    html = response.content.decode()
    assert response.status_code == 400
    summary = html.split('govuk-error-summary__list"')[1].split("</ul>")[0]
    assert '<a href="#breakdown-age_band">The age band breakdown adds up to 11, not the total of 15.' in summary
    age = re.search(r'<div class="govuk-form-group govuk-form-group--error">\s*<fieldset class="govuk-fieldset" '
                    r'id="breakdown-age_band".*?</fieldset>', html, re.S)
    assert age and 'class="govuk-error-message" id="breakdown-age_band-error"' in age.group(0)
    assert 'aria-describedby="breakdown-age_band-hint breakdown-age_band-error"' in age.group(0)
    severity = re.search(r'<div class="govuk-form-group">\s*<fieldset class="govuk-fieldset" id="breakdown-severity"', html)
    assert severity  # adds up: not marked
    assert 'value="7"' in age.group(0)  # what was typed stays


# --- Every error in one round -----------------------------------------------------------------

def test_milestone_errors_come_in_one_round(client, officer, period, milestone):  # noqa: F811
    # Given a complete milestone 50% complete and a revised date without a year: both are wrong
    client.force_login(officer)
    response = client.post(milestone_url(period, milestone), {
        "action": "submit", "status": "complete", "percent_complete": "50", "revised_day": "31", "revised_month": "12",
        "revised_year": "", "commentary": "", "version": "",
    })
    html = response.content.decode()
    assert response.status_code == 400
    summary = html.split('govuk-error-summary__list"')[1].split("</ul>")[0]
    assert "A complete milestone is 100% complete." in summary
    assert "The revised date must include a day, month and year." in summary
    assert 'value="50"' in html


def test_milestone_submission_rules_join_the_field_errors(client, officer, period, milestone):  # noqa: F811
    # At risk without a commentary, and a percent that cannot be read: both said at once.
    client.force_login(officer)
    response = client.post(milestone_url(period, milestone), {
        "action": "submit", "status": "at_risk", "percent_complete": "forty", "commentary": "", "version": "",
    })
    summary = response.content.decode().split('govuk-error-summary__list"')[1].split("</ul>")[0]
    assert "Percent complete must be a whole number" in summary
    assert "Add a commentary: say why the milestone is at risk or off track" in summary


def test_unconfirmed_warnings_and_a_missing_commentary_come_in_one_round(client, officer, period, casualties):
    client.force_login(officer)
    data = {f"breakdown_{category('age_band', '16-24').pk}": 4, "value": 15}
    response = post(client, period, casualties, action="submit", **data)
    summary = response.content.decode().split('govuk-error-summary__list"')[1].split("</ul>")[0]
    assert '<a href="#breakdown-age_band">The age band breakdown adds up to 4' in summary
    assert '<a href="#id_commentary">Add a commentary: the figures raise a warning.' in summary


def summary_of(response) -> str:
    return response.content.decode().split('govuk-error-summary__list"')[1].split("</ul>")[0]


def test_a_field_error_and_the_submissions_rules_come_in_one_round(client, officer, period, casualties):
    # Given a release date that is not a date, figures off target that don't add up, and no commentary
    client.force_login(officer)
    data = {f"breakdown_{category('age_band', '16-24').pk}": 4, "value": 30, "quality": "provisional",
            "quality_note": "", "released_day": "45", "released_month": "1", "released_year": "2012"}
    response = post(client, period, casualties, action="submit", **data)
    # then the date, the missing note, the warning and the commentary are all said at once
    assert response.status_code == 400
    summary = summary_of(response)
    assert "<a href=\"#id_released_day\">The release date must be a real date." in summary
    assert '<a href="#id_quality_note">Say what is provisional about this figure' in summary
    assert '<a href="#breakdown-age_band">The age band breakdown adds up to 4' in summary
    assert '<a href="#id_commentary">Add a commentary: ' in summary
    assert "Against target: <strong>" in response.content.decode(), "the page's verdict is shown with them"


def test_a_figure_that_cannot_be_read_comes_with_the_others_errors_but_no_verdict(client, officer, period, rate_indicator):
    # Given a numerator that cannot be read and a denominator of 0
    client.force_login(officer)
    response = post(client, period, rate_indicator, action="submit", numerator="lots", denominator="0")
    assert response.status_code == 400
    summary = summary_of(response)
    assert '<a href="#id_numerator">' in summary and "The denominator must be more than 0." in summary
    assert summary.count('href="#id_numerator"') == 1, "a field in error keeps its own message only"
    html = response.content.decode()
    assert "Against target: <strong>" not in html and "Add a commentary" not in summary, "no verdict from part of the figures"
    assert 'value="lots"' in html, "what was typed stays"


def test_saving_a_draft_with_a_field_error_asks_nothing_of_a_submission(client, officer, period, count_indicator):
    client.force_login(officer)
    response = post(client, period, count_indicator, action="save", value="30", released_day="45",
                    released_month="1", released_year="2012", quality="final")
    assert response.status_code == 400
    assert "Add a commentary" not in summary_of(response)
