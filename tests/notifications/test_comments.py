"""A comment on a return tells the people in its conversation: the organisation's officers, whoever
decided the return and whoever commented before; never its author, nobody else, once each."""
import pytest
from django.core import mail

from kentforum.roles import Role
from notifications import services
from notifications.models import Kind, Notification
from performance.returns import comments, workflow
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db


def comment(ret, user, text):
    ret.refresh_from_db()
    return comments.return_comment_add(ret=ret, user=user, text=text)


def told(kind=Kind.RETURN_COMMENT):
    return sorted(n.user.username for n in Notification.objects.filter(kind=kind))


def test_a_comment_tells_the_conversation_and_not_its_author(
        officer, other_officer, approver, submitted_return, django_capture_on_commit_callbacks):
    other_approver = make_user("approver2", "Kent County Council", Role.APPROVER)
    # Given an approver who comments on a submitted return
    with django_capture_on_commit_callbacks(execute=True):
        comment(submitted_return, approver, "Is the denominator this year's?")
    # Then Ashford's officer is told (with the comment and a link to the thread); the author, Dover and other approvers are not
    assert told() == ["ashford"]
    note = Notification.objects.get(kind=Kind.RETURN_COMMENT)
    assert "Is the denominator this year's?" in note.body and note.title.startswith("Comment on Household waste recycled")
    assert note.link.endswith("/#comments")
    assert [m.to for m in mail.outbox] == [["ashford@example.org"]]
    # When the officer answers, the approver who commented is told; the officer (its author) is not
    with django_capture_on_commit_callbacks(execute=True):
        comment(submitted_return, officer, "Yes, from the 2012 survey.")
    assert told() == ["approver", "ashford"]
    assert Notification.objects.filter(user=approver, kind=Kind.RETURN_COMMENT).count() == 1
    assert not Notification.objects.filter(user__in=[other_officer, other_approver]).exists()


def test_whoever_sent_the_return_back_is_told_of_the_officers_reply(
        officer, approver, submitted_return, django_capture_on_commit_callbacks):
    workflow.return_send_back(ret=submitted_return, reason="Check the total.", expected_version=submitted_return.version,
                              user=approver)
    with django_capture_on_commit_callbacks(execute=True):
        comment(submitted_return, officer, "Checked: the total is right.")
    assert told() == ["approver"]


def test_a_reader_who_turned_comments_off_is_told_in_the_portal_only(
        officer, approver, submitted_return, django_capture_on_commit_callbacks):
    services.preferences_set(user=officer, emailed=set(Kind.values) - {Kind.RETURN_COMMENT})
    with django_capture_on_commit_callbacks(execute=True):
        comment(submitted_return, approver, "A question.")
    assert told() == ["ashford"] and mail.outbox == []
