"""The conversation on a return (``returns.comments``): who may comment and see the comments, the
audit entry, a refused comment keeping its text, the send-back reason that stays on the page until
approval, the published view without comments, and the page's fixed number of queries."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kentforum.actors import KeyActor
from kentforum.roles import Role
from performance.models import Milestone, ReturnComment, ReturnEvent
from performance.returns import comments, validation, workflow
from tests.factories import council, district

REASON = "SENTINEL-SEND-BACK-REASON: check the fatal casualties"


@pytest.fixture
def draft(officer, period, count_indicator):
    return workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(18), commentary="From the police"),
    )


@pytest.fixture
def submitted(draft, officer):
    return workflow.indicator_return_submit(ret=draft, expected_version=draft.version, user=officer, confirm_warnings=True)


@pytest.fixture
def sent_back(submitted, approver):
    return workflow.return_send_back(ret=submitted, reason=REASON, expected_version=submitted.version, user=approver)


@pytest.fixture
def approved(submitted, approver):
    return workflow.return_approve(ret=submitted, expected_version=submitted.version, user=approver)


def page_url(ret):
    return reverse("performance:indicator-return", args=[ret.period_id, ret.indicator.code, ret.locality.gss_code])


def comments_url(ret):
    return page_url(ret) + "comments/"


def post_comment(client, ret, text):
    return client.post(comments_url(ret), {"comment-text": text})


# --- Who may comment, and who sees the comments ----------------------------------------------------

def test_an_officer_comments_on_their_draft_and_comes_back_to_the_thread(client, officer, draft):
    client.force_login(officer)
    response = post_comment(client, draft, "  The police figure is provisional.  ")
    assert response.status_code == 302 and response["Location"] == page_url(draft) + "#comments"
    comment = ReturnComment.objects.get()
    assert (comment.indicator_return_id, comment.author, comment.role, comment.text) == (
        draft.pk, officer, Role.OFFICER, "The police figure is provisional.")
    html = client.get(page_url(draft)).content.decode()
    assert 'id="comments"' in html and "The police figure is provisional." in html
    assert "Ashford Tester</strong>, officer, Ashford Borough Council" in html
    assert "Add a comment" in html


def test_the_comment_is_in_the_audit_trail_and_changes_nothing_else(client, officer, draft):
    before = (draft.version, draft.state)
    client.force_login(officer)
    post_comment(client, draft, "Checked with the police.")
    event = ReturnEvent.objects.filter(indicator_return=draft).order_by("-id").first()
    assert (event.action, event.actor, event.note, event.from_state, event.to_state, event.version, event.changes) == (
        "commented", officer, "Checked with the police.", "draft", "draft", draft.version, {})
    draft.refresh_from_db()
    assert (draft.version, draft.state) == before, "a comment is no change to the return"
    html = client.get(page_url(draft)).content.decode()
    assert "Commented (draft), version" in html, "the history shows it"


def test_approvers_and_the_forum_team_comment_once_it_is_submitted(client, officer, approver, forum_admin, submitted):
    client.force_login(officer)
    post_comment(client, submitted, "Over to you.")
    client.force_login(approver)
    assert post_comment(client, submitted, "Why did it rise?").status_code == 302
    client.force_login(forum_admin)
    assert post_comment(client, submitted, "Noted by the Forum team.").status_code == 302
    assert [(c.author, c.role) for c in ReturnComment.objects.all()] == [
        (officer, Role.OFFICER), (approver, Role.APPROVER), (forum_admin, Role.FORUM_ADMIN)]
    client.force_login(officer)
    html = client.get(page_url(submitted)).content.decode()
    assert html.index("Over to you.") < html.index("Why did it rise?") < html.index("Noted by the Forum team."), "oldest first"
    assert "approver, Kent County Council" in html


def test_approvers_neither_see_nor_comment_on_drafts(client, approver, draft):
    client.force_login(approver)
    assert client.get(page_url(draft)).status_code == 403
    assert post_comment(client, draft, "Let me in").status_code == 403
    with pytest.raises(PermissionDenied):
        comments.return_comment_add(ret=draft, user=approver, text="Let me in")
    assert not ReturnComment.objects.exists()


@pytest.mark.parametrize("who", ["other_officer", "board_member"])
def test_others_may_not_comment(who, request, client, submitted):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page_url(submitted)).status_code == 403, "as the page"
    assert post_comment(client, submitted, "Hello").status_code == 403
    assert not ReturnComment.objects.exists()


def test_a_partners_key_does_not_comment(submitted):
    """A submit key sees its organisations' workings, but a comment is a person's."""
    key = type("Key", (), {"scope": "submit", "name": "Ashford's system", "prefix": "abc"})()
    with pytest.raises(PermissionDenied):
        comments.return_comment_add(ret=submitted, user=KeyActor(key=key), text="From our system")
    assert not comments.can_comment(KeyActor(key=key), submitted)


def test_signed_out_visitors_sign_in_first_and_a_get_is_refused(client, officer, draft):
    response = post_comment(client, draft, "Hello")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(officer)
    assert client.get(comments_url(draft)).status_code == 405


def test_a_return_not_started_has_nothing_to_comment_on(client, officer, period, count_indicator):
    client.force_login(officer)
    url = reverse("performance:indicator-return-comments", args=[period.pk, count_indicator.code, district().gss_code])
    assert client.post(url, {"comment-text": "Hello"}).status_code == 404
    assert "Add a comment" not in client.get(url.removesuffix("comments/")).content.decode()


@pytest.mark.parametrize("who", ["other_officer", "board_member"])
def test_the_published_approved_return_shows_no_comments(who, request, client, officer, approver, submitted):
    client.force_login(officer)
    post_comment(client, submitted, "SENTINEL-COMMENT about the workings")
    ret = workflow.return_approve(ret=submitted, expected_version=submitted.version, user=approver)
    client.force_login(request.getfixturevalue(who))
    response = client.get(page_url(ret))
    html = response.content.decode()
    assert response.status_code == 200, "the approved figures are published"
    assert "SENTINEL-COMMENT" not in html and 'id="comments"' not in html and "Add a comment" not in html
    assert post_comment(client, ret, "Me too").status_code == 403
    client.force_login(officer)
    assert "SENTINEL-COMMENT" in client.get(page_url(ret)).content.decode(), "its officers still see the conversation"


# --- A refused comment -----------------------------------------------------------------------------

def test_an_empty_comment_is_refused_with_an_error_summary(client, officer, draft):
    client.force_login(officer)
    response = post_comment(client, draft, "   ")
    html = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in html and 'href="#id_comment-text"' in html and comments.COMMENT_EMPTY in html
    assert 'name="value"' in html, "the page, with its return form, is shown again"
    assert not ReturnComment.objects.exists()


def test_a_comment_too_long_is_refused_and_kept(client, officer, draft):
    client.force_login(officer)
    text = "Long words. " * 200  # 2,400 characters
    response = post_comment(client, draft, text)
    html = response.content.decode()
    assert response.status_code == 400
    assert "a comment may have at most 2,000" in html and "govuk-textarea--error" in html
    assert text.strip() in html, "the text stays in the textarea"
    assert not ReturnComment.objects.exists() and not ReturnEvent.objects.filter(action="commented").exists()


def test_the_service_refuses_what_the_form_refuses(officer, draft):
    for text in ("", "x" * (comments.COMMENT_MAX_LENGTH + 1)):
        with pytest.raises(ValidationError) as refused:
            comments.return_comment_add(ret=draft, user=officer, text=text)
        assert list(refused.value.message_dict) == ["text"]
    assert comments.return_comment_add(ret=draft, user=officer, text="x" * comments.COMMENT_MAX_LENGTH).pk


# --- The send-back reason stays until approval -----------------------------------------------------

def shows_reason(client, ret) -> bool:
    html = client.get(page_url(ret)).content.decode()
    return 'id="send-back-reason"' in html and "Sent back by Approver Tester on" in html and REASON in html.split('id="history"')[0]


def test_the_reason_stays_through_a_save_and_a_resubmission_and_goes_on_approval(client, officer, approver, sent_back):
    client.force_login(officer)
    assert shows_reason(client, sent_back)
    # the officer saves corrected figures through the form: a draft again
    page = client.get(page_url(sent_back)).content.decode()
    assert "Sent back by Approver Tester" in page
    response = client.post(page_url(sent_back), {"value": "17", "commentary": "Corrected", "quality": "final",
                                                 "version": sent_back.version, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:1000]
    sent_back.refresh_from_db()
    assert sent_back.state == "draft" and shows_reason(client, sent_back)
    # resubmitted: the stored reason (My returns, the API) is cleared, the page keeps it
    ret = workflow.indicator_return_submit(ret=sent_back, expected_version=sent_back.version, user=officer,
                                           confirm_warnings=True)
    ret.refresh_from_db()
    assert ret.return_reason == ""
    assert shows_reason(client, ret)
    client.force_login(approver)
    assert shows_reason(client, ret), "the approver reads it too"
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    client.force_login(officer)
    assert not shows_reason(client, ret)
    assert REASON in client.get(page_url(ret)).content.decode(), "still in the history"


def test_the_reason_of_an_earlier_round_does_not_come_back_after_a_reopening(officer, approver, forum_admin, sent_back):
    ret = workflow.indicator_return_submit(ret=sent_back, expected_version=sent_back.version, user=officer, confirm_warnings=True)
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    workflow.return_reopen(ret=ret, reason="Police revised it", expected_version=ret.version, user=forum_admin)
    notice = comments.send_back_notice(ret, True)
    assert (notice.action, notice.note) == ("reopened", "Police revised it")
    assert comments.send_back_notice(ret, False) is None, "workings only"


def test_a_milestone_return_keeps_its_reason_and_takes_comments(client, officer, approver, period):
    from ambitions.models import DeliveryPlan

    milestone = Milestone.objects.create(
        title="Junction 10a opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
        owner=council(), due_date=datetime.date(2012, 9, 30),
    )
    ret = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=officer,
        progress=validation.MilestoneProgress(status="on_track", percent_complete=30, revised_date=None, commentary=""),
    )
    ret = workflow.milestone_return_submit(ret=ret, expected_version=ret.version, user=officer)
    ret = workflow.return_send_back(ret=ret, reason=REASON, expected_version=ret.version, user=approver)
    ret = workflow.milestone_return_submit(ret=ret, expected_version=ret.version, user=officer)
    url = reverse("performance:milestone-return", args=[period.pk, milestone.pk])
    client.force_login(approver)
    response = client.post(url + "comments/", {"comment-text": "Is the date still right?"})
    assert response.status_code == 302 and response["Location"] == url + "#comments"
    html = client.get(url).content.decode()
    assert "Is the date still right?" in html and 'id="send-back-reason"' in html and REASON in html
    assert client.post(url + "comments/", {"comment-text": ""}).status_code == 400


# --- A fixed number of queries ---------------------------------------------------------------------

def add_comments(ret, users, count):
    start = timezone.now()
    ReturnComment.objects.bulk_create([
        ReturnComment(indicator_return=ret, author=users[n % len(users)], role=Role.OFFICER, text=f"Comment {n}",
                      created_at=start + datetime.timedelta(seconds=n))
        for n in range(count)
    ])


def test_the_return_page_does_not_cost_more_with_more_comments(
    client, officer, approver, forum_admin, sent_back, django_assert_max_num_queries,
):
    client.force_login(officer)
    add_comments(sent_back, [officer], 1)
    client.get(page_url(sent_back))
    with CaptureQueriesContext(connection) as one:
        client.get(page_url(sent_back))
    add_comments(sent_back, [officer, approver, forum_admin], 19)
    with django_assert_max_num_queries(len(one)):
        html = client.get(page_url(sent_back)).content.decode()
    assert "Comment 18" in html and "Forumadmin Tester" in html
