"""The services of single sign-on: what a sign-in comes to, and the Forum team's decisions."""
import logging

import pytest
from django.core.exceptions import ValidationError

from kentforum.roles import GROUP_NAMES, Role
from partnerships.models import Person
from sso import services
from sso.models import ExternalIdentity, OrganisationClaim

pytestmark = pytest.mark.django_db

ISSUER = "https://login.example/o"
CLAIM = "organisation"


def sign_in(subject="subject-1", organisation="swale.gov.example", email="sam@swale.gov.example", name="Sam Officer"):
    claims = {"sub": subject, "email": email, "name": name, CLAIM: organisation}
    return services.sso_sign_in_resolve(issuer=ISSUER, subject=subject, claims=claims, organisation_claim=CLAIM)


@pytest.fixture
def security_log():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.security_event)

    handler = Keep()
    logger = logging.getLogger("kentforum.security")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_an_unknown_organisation_is_refused_and_nothing_is_kept(swale_claim):
    for organisation in ("elsewhere.example", "", None, ["swale.gov.example"]):
        result = sign_in(organisation=organisation)
        assert (result.outcome, result.reason, result.user) == ("refused", services.UNKNOWN_ORGANISATION, None)
    assert not ExternalIdentity.objects.exists()


def test_a_switched_off_mapping_is_unknown(swale_claim):
    OrganisationClaim.objects.filter(pk=swale_claim.pk).update(active=False)
    assert sign_in().reason == services.UNKNOWN_ORGANISATION


def test_a_first_sign_in_is_a_pending_request_with_no_user_and_no_role(swale, swale_claim):
    result = sign_in()
    assert (result.outcome, result.created, result.user) == ("pending", True, None)
    identity = result.identity
    assert (identity.issuer, identity.subject, identity.organisation, identity.role, identity.status, identity.user) == (
        ISSUER, "subject-1", swale, Role.OFFICER, "pending", None)
    again = sign_in()
    assert (again.outcome, again.created, again.identity.pk) == ("pending", False, identity.pk)


def test_people_are_told_apart_by_issuer_and_subject_not_by_e_mail(swale_claim, forum_admin):
    first = sign_in(subject="subject-1")
    services.sso_request_approve(identity_id=first.identity.pk, user=forum_admin)
    impostor = sign_in(subject="subject-2")  # the same e-mail address, another subject
    assert (impostor.outcome, impostor.created) == ("pending", True)
    other_issuer = services.sso_sign_in_resolve(issuer="https://other.example", subject="subject-1",
                                                claims={CLAIM: "swale.gov.example"}, organisation_claim=CLAIM)
    assert (other_issuer.outcome, other_issuer.created) == ("pending", True)


def test_approval_makes_the_account_and_the_next_sign_in_succeeds(swale, swale_claim, forum_admin, security_log):
    identity = sign_in().identity
    services.sso_request_approve(identity_id=identity.pk, user=forum_admin)
    identity.refresh_from_db()
    user = identity.user
    assert (identity.status, identity.decided_by) == ("approved", forum_admin)
    assert user.username == "sam@swale.gov.example" and user.is_active and not user.has_usable_password()
    assert (user.person.name, user.person.organisation) == ("Sam Officer", swale)
    assert list(user.groups.values_list("name", flat=True)) == [GROUP_NAMES[Role.OFFICER]]
    result = sign_in()
    assert (result.outcome, result.user) == ("signed_in", user)
    assert security_log[-1]["event"] == "sso_request_approved"
    assert security_log[-1]["details"]["organisation"] == swale.name


def test_approval_links_a_person_the_framework_already_names(swale, swale_claim, forum_admin):
    person = Person.objects.create(name="Sam Officer", organisation=swale, job_title="Policy officer")
    identity = sign_in().identity
    services.sso_request_approve(identity_id=identity.pk, user=forum_admin)
    person.refresh_from_db()
    assert person.user == ExternalIdentity.objects.get().user and person.job_title == "Policy officer"
    assert Person.objects.filter(name="Sam Officer").count() == 1


def test_approval_refuses_a_name_already_with_an_account(swale, swale_claim, forum_admin):
    identity = sign_in(name="Forum Team").identity
    with pytest.raises(ValidationError, match="already has a person called Forum Team"):
        services.sso_request_approve(identity_id=identity.pk, user=forum_admin)
    assert ExternalIdentity.objects.get().status == "pending"


def test_a_username_taken_by_someone_else_is_not_reused(swale, swale_claim, forum_admin, django_user_model):
    django_user_model.objects.create_user("sam@swale.gov.example")
    identity = sign_in().identity
    services.sso_request_approve(identity_id=identity.pk, user=forum_admin)
    assert ExternalIdentity.objects.get().user.username.startswith("sso-")


def test_a_request_is_decided_once(swale_claim, forum_admin):
    identity = sign_in().identity
    services.sso_request_refuse(identity_id=identity.pk, user=forum_admin, reason="Not a Swale officer.")
    with pytest.raises(ValidationError, match="already been refused"):
        services.sso_request_approve(identity_id=identity.pk, user=forum_admin)


def test_a_refusal_says_why_and_later_sign_ins_are_refused(swale_claim, forum_admin):
    identity = sign_in().identity
    with pytest.raises(ValidationError):
        services.sso_request_refuse(identity_id=identity.pk, user=forum_admin, reason="  ")
    services.sso_request_refuse(identity_id=identity.pk, user=forum_admin, reason="Not a Swale officer.")
    result = sign_in()
    assert (result.outcome, result.reason, result.identity.refusal_reason) == (
        "refused", services.REFUSED_BY_FORUM_TEAM, "Not a Swale officer.")


def test_a_changed_organisation_or_a_switched_off_account_is_refused(swale, swale_claim, forum_admin):
    identity = sign_in().identity
    services.sso_request_approve(identity_id=identity.pk, user=forum_admin)
    assert sign_in(organisation="elsewhere.example").reason == services.ORGANISATION_CHANGED
    other = type(swale).objects.create(name="Other Council", slug="other-council", sector="local_government")
    OrganisationClaim.objects.filter(pk=swale_claim.pk).update(organisation=other)
    assert sign_in().reason == services.ORGANISATION_CHANGED
    OrganisationClaim.objects.filter(pk=swale_claim.pk).update(organisation=swale)
    user = ExternalIdentity.objects.get().user
    user.is_active = False
    user.save()
    assert sign_in().reason == services.ACCOUNT_SWITCHED_OFF


def test_every_outcome_is_in_the_security_log(swale_claim, forum_admin, security_log, rf):
    request = rf.get("/accounts/sso/callback/")
    services.sso_sign_in_log(sign_in(organisation="elsewhere.example"), request=request, issuer=ISSUER)
    pending = sign_in()
    services.sso_sign_in_log(pending, request=request, issuer=ISSUER)
    services.sso_request_approve(identity_id=pending.identity.pk, user=forum_admin)
    services.sso_sign_in_log(sign_in(), request=request, issuer=ISSUER)
    events = [(r["event"], r["user"], r["details"].get("reason")) for r in security_log]
    assert events == [
        ("sso_refused", None, services.UNKNOWN_ORGANISATION), ("sso_pending", None, None),
        ("sso_request_approved", "forum.team.sso", None), ("sso_login", "sam@swale.gov.example", None),
    ]
    assert security_log[0]["details"]["organisation_claim"] == "elsewhere.example"
