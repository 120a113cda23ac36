"""Publishing an Ambition Board's six-monthly report: a preview of exactly what will be frozen,
with its fingerprint, then a confirmation that publishes only if the figures are still those
that were checked; only the Forum team and members of that board may publish."""
import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kentforum.roles import Role
from localities.models import Locality
from partnerships.models import Board, BoardMembership
from performance.dashboards import reports
from performance.models import BoardReport, IndicatorReturn
from performance.returns import workflow
from performance.returns.validation import IndicatorFigures
from performance.rollups import engine, queue
from performance.templatetags.figures import figure
from tests.performance.conftest import make_user
from tests.performance.test_dashboards import seed

pytestmark = pytest.mark.django_db

WARNING = "these figures are fixed as at the moment of publication and the report is sent to Joint Kent Chiefs and the Kent Forum"
CHANGED = "The figures changed since you opened the preview; check them again"


@pytest.fixture
def approver(db):
    return make_user("pub.approver", "Kent County Council", Role.APPROVER)


@pytest.fixture
def seeded(approver):
    """Two indicators of Ambition 2 (A2-KPQ3) with approved figures from all twelve districts."""
    return seed(approver, 2, 12)


def board(number: int) -> Board:
    return Board.objects.get(kind=Board.Kind.AMBITION, ambition__number=number)


def member_of(number: int, username: str, **dates):
    """A board member (the role) with a seat on Ambition Board ``number``."""
    user = make_user(username, "Canterbury City Council", Role.BOARD_MEMBER)
    BoardMembership.objects.create(board=board(number), person=user.person, organisation=user.person.organisation,
                                   category=BoardMembership.Category.CO_OPTED, **dates)
    return user


def preview_url(number: int = 2) -> str:
    return reverse("dashboards:board-report-publish", args=[number])


def draft_url(number: int = 2) -> str:
    return reverse("dashboards:board-report", args=[number])


def hidden_fingerprint(html: str) -> str:
    found = re.findall(r'<input type="hidden" name="fingerprint" value="([0-9a-f]{64})">', html)
    assert len(found) == 1, "one fingerprint field"
    return found[0]


def first_value(content: dict) -> str:
    """Measure D0's county figure in a report's content."""
    return next(i["value"] for kpq in content["kpqs"] for i in kpq["indicators"] if i["code"] == "D000")


def approve_a_corrected_figure(approver, indicator, period, name="Ashford"):
    """A return approved after the preview was opened: the Forum team reopens a district's
    approved return, its corrected figure is submitted and approved, and the slice rolled up."""
    area = Locality.objects.get(name=name)
    forum_team = make_user("pub.reopener", "Kent County Council", Role.FORUM_ADMIN)
    ret = IndicatorReturn.objects.get(indicator=indicator, locality=area, period=period)
    with queue.deferred() as pending:
        workflow.return_reopen(ret=ret, reason="Miscounted.", expected_version=ret.version, user=forum_team)
        ret = workflow.indicator_return_save_draft(indicator=indicator, locality=area, period=period, organisation=ret.organisation,
                                             figures=IndicatorFigures(value=Decimal(99), commentary="corrected"),
                                             expected_version=ret.version)
        workflow.indicator_return_submit(ret=ret, expected_version=ret.version, confirm_warnings=True)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
        pending.clear()
    engine.rollup_slice(indicator.pk, period.pk)


def test_the_preview_shows_the_figures_to_be_frozen_and_their_fingerprint(client, seeded):
    # Given a member of Ambition Board 2
    client.force_login(member_of(2, "pub.member"))
    # When they open the preview
    response = client.get(preview_url())
    # Then it shows, through the report's own template, exactly what would be frozen now
    assert response.status_code == 200
    names = [t.name for t in response.templates]
    assert "dashboards/report_publish.html" in names and "dashboards/report.html" in names
    content = reports.board_report_content(2)
    assert response.context["content"] == content
    html = response.content.decode()
    assert "Measure D0" in html and "Measure D1" in html and "12/12 districts" in html
    assert "Progress report: Ambition 2" in html
    # with the fingerprint of that content in a hidden field
    fingerprint = hidden_fingerprint(html)
    assert fingerprint == reports.board_report_fingerprint(content) == response.context["fingerprint"]
    # and the warning, the button and a way back
    assert WARNING in html and 'class="govuk-warning-text"' in html
    assert re.search(r'<button type="submit" class="govuk-button"[^>]*>Publish this report</button>', html)
    assert f'href="{draft_url()}"' in html
    assert "There is a problem" not in html
    assert not BoardReport.objects.exists(), "looking publishes nothing"


def test_the_fingerprint_is_that_of_the_canonical_json():
    content = {"b": [1, ("x", 2)], "a": "é"}
    same = {"a": "é", "b": [1, ["x", 2]]}
    assert reports.board_report_fingerprint(content) == reports.board_report_fingerprint(same)
    assert reports.board_report_fingerprint(content) != reports.board_report_fingerprint({**same, "a": "e"})
    assert len(reports.board_report_fingerprint(content)) == 64


def test_publishing_with_the_matching_fingerprint_freezes_exactly_the_preview(client, seeded):
    member = member_of(2, "pub.member")
    client.force_login(member)
    preview = client.get(preview_url())
    fingerprint = hidden_fingerprint(preview.content.decode())
    # When they confirm
    response = client.post(preview_url(), {"fingerprint": fingerprint})
    # Then exactly one report is published, holding the preview's content
    report = BoardReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("dashboards:report", args=[report.pk])
    assert report.content == json.loads(json.dumps(preview.context["content"]))
    assert reports.board_report_fingerprint(report.content) == fingerprint
    assert report.board == board(2) and report.published_by == member
    # and the published page shows the same figures as the preview did
    published = client.get(response["Location"]).content.decode()
    assert "Measure D0" in published and "12/12 districts" in published
    assert "The report is published" in published
    # a second press of the button (or a retry) publishes nothing new
    again = client.post(preview_url(), {"fingerprint": fingerprint})
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert BoardReport.objects.count() == 1


def test_a_stale_fingerprint_shows_the_new_figures_and_publishes_nothing(client, seeded, approver):
    indicators, period = seeded
    client.force_login(member_of(2, "pub.member"))
    preview = client.get(preview_url())
    old = hidden_fingerprint(preview.content.decode())
    # Given a return approved after the preview was opened
    approve_a_corrected_figure(approver, indicators[0], period)
    # When the member confirms what they saw
    response = client.post(preview_url(), {"fingerprint": old})
    # Then nothing is published and the new figures are shown to check again
    assert response.status_code == 409
    assert not BoardReport.objects.exists()
    html = response.content.decode()
    assert CHANGED in html and "There is a problem" in html and "<title>Error: " in html
    assert response.context["content"] == reports.board_report_content(2)
    before, after = (first_value(c) for c in (preview.context["content"], response.context["content"]))
    # the page writes the figures with the indicator's places (the content keeps them whole)
    places = indicators[0].decimal_places
    assert before != after and f">{figure(after, places)}<" in html and f">{figure(before, places)}<" not in html
    new = hidden_fingerprint(html)
    assert new != old and new == reports.board_report_fingerprint(reports.board_report_content(2))
    # and confirming the new figures publishes them
    assert client.post(preview_url(), {"fingerprint": new}).status_code == 302
    assert reports.board_report_fingerprint(BoardReport.objects.get().content) == new


def test_a_post_with_no_fingerprint_publishes_nothing(client, seeded):
    client.force_login(member_of(2, "pub.member"))
    response = client.post(preview_url())
    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert not BoardReport.objects.exists()


def test_a_member_of_another_board_reads_the_draft_but_may_not_publish(client, seeded):
    # Given a member of Ambition Board 1 only, and a board member who sits on no board
    for other in (member_of(1, "pub.other"), make_user("pub.noseat", "Canterbury City Council", Role.BOARD_MEMBER)):
        client.force_login(other)
        fingerprint = reports.board_report_fingerprint(reports.board_report_content(2))
        # The draft of Board 2 stays readable, without the way to publish it
        draft = client.get(draft_url())
        assert draft.status_code == 200 and preview_url() not in draft.content.decode()
        # but the preview and the confirmation are refused
        assert client.get(preview_url()).status_code == 403
        assert client.post(preview_url(), {"fingerprint": fingerprint}).status_code == 403
        # and so is the service, whatever door calls it
        with pytest.raises(PermissionDenied):
            reports.board_report_publish(user=other, number=2, fingerprint=fingerprint)
    assert not BoardReport.objects.exists()


def test_an_ended_or_future_seat_does_not_count(client, seeded):
    today = datetime.date.today()
    ended = member_of(2, "pub.ended", start_date=today - datetime.timedelta(days=400), end_date=today - datetime.timedelta(days=1))
    future = member_of(2, "pub.future", start_date=today + datetime.timedelta(days=30))
    for user in (ended, future):
        client.force_login(user)
        assert client.get(preview_url()).status_code == 403


def test_a_seat_without_the_board_member_role_does_not_count(client, seeded):
    officer = make_user("pub.officer.seat", "Canterbury City Council", Role.OFFICER)
    BoardMembership.objects.create(board=board(2), person=officer.person, organisation=officer.person.organisation)
    client.force_login(officer)
    assert client.get(preview_url()).status_code == 403


def test_officers_are_refused_and_visitors_sent_to_sign_in(client, seeded):
    fingerprint = reports.board_report_fingerprint(reports.board_report_content(2))
    for method in (client.get, client.post):
        response = method(preview_url(), {"fingerprint": fingerprint})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    officer = make_user("pub.officer", "Thanet District Council", Role.OFFICER)
    client.force_login(officer)
    assert client.get(preview_url()).status_code == 403
    assert client.post(preview_url(), {"fingerprint": fingerprint}).status_code == 403
    with pytest.raises(PermissionDenied):
        reports.board_report_publish(user=officer, number=2, fingerprint=fingerprint)
    assert not BoardReport.objects.exists()


def test_the_forum_team_may_publish_any_boards_report(client, seeded):
    admin = make_user("pub.admin", "Kent County Council", Role.FORUM_ADMIN)
    client.force_login(admin)
    fingerprint = hidden_fingerprint(client.get(preview_url()).content.decode())
    assert client.post(preview_url(), {"fingerprint": fingerprint}).status_code == 302
    report = BoardReport.objects.get()
    assert report.board == board(2) and report.published_by == admin


def test_the_draft_links_to_the_preview_and_a_post_to_it_publishes_nothing(client, seeded):
    member = member_of(2, "pub.member")
    client.force_login(member)
    draft = client.get(draft_url()).content.decode()
    assert f'href="{preview_url()}"' in draft and "<form method=\"post\"" not in draft.split("<main")[1]
    response = client.post(draft_url())
    assert response.status_code == 405 and response["Allow"] == "GET"
    client.force_login(make_user("pub.admin", "Kent County Council", Role.FORUM_ADMIN))
    assert client.post(draft_url()).status_code == 405
    assert not BoardReport.objects.exists()


def test_the_service_checks_the_fingerprint_itself(seeded, approver):
    indicators, period = seeded
    member = member_of(2, "pub.member")
    old = reports.board_report_fingerprint(reports.board_report_content(2))
    approve_a_corrected_figure(approver, indicators[0], period)
    with pytest.raises(ValidationError) as raised:
        reports.board_report_publish(user=member, number=2, fingerprint=old)
    assert raised.value.code == "changed" and not BoardReport.objects.exists()


def test_the_preview_figures_download_as_csv(client, seeded):
    client.force_login(member_of(2, "pub.member"))
    response = client.get(preview_url(), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "Measure D0" in response.content.decode("utf-8-sig")


def test_the_same_figures_published_again_later_make_a_new_report(client, seeded):
    """Only a double press (the same person within minutes) returns the report just published;
    six months on, unchanged figures are still a new report with its own date."""
    import datetime as dt

    member = member_of(2, "pub.later")
    client.force_login(member)
    fingerprint = hidden_fingerprint(client.get(preview_url()).content.decode())
    client.post(preview_url(), {"fingerprint": fingerprint})
    first = BoardReport.objects.get()
    BoardReport.objects.filter(pk=first.pk).update(as_at=first.as_at - dt.timedelta(days=180))
    client.post(preview_url(), {"fingerprint": fingerprint})
    assert BoardReport.objects.count() == 2
