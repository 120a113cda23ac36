"""Single sign-on's pages and backend: off unless configured, the sign-in page's button, the start
of the code flow, the backend's checks of the ID token, the pages a held sign-in shows, and the
Forum team's page of first sign-ins."""
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from kentforum.roles import Role
from partnerships.services import person_user_ensure
from sso import services
from sso.backends import PortalOIDCBackend, SignInHeld
from sso.models import ExternalIdentity

from .conftest import CLIENT_ID, ISSUER

pytestmark = pytest.mark.django_db


def test_with_sso_off_there_is_no_button_and_its_addresses_are_404(client):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in page.replace('type="submit" class="govuk-button" data-module="govuk-button">Sign in', "")
    assert 'name="password"' in page
    for name in ("sso:start", "sso:callback"):
        assert client.get(reverse(name)).status_code == 404


def test_with_sso_on_the_sign_in_page_offers_both_ways(client, sso_on):
    page = client.get(reverse("login") + "?next=/approvals/").content.decode()
    assert "Sign in with your organisation&#x27;s account" in page or "Sign in with your organisation's account" in page
    assert 'href="/accounts/sso/start/?next=%2Fapprovals%2F"' in page
    assert 'name="password"' in page


def test_the_start_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(client, sso_on):
    response = client.get(reverse("sso:start") + "?next=/approvals/")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize/"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/accounts/sso/callback/"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] and query["nonce"] and query["state"]
    assert client.session["oidc_login_next"] == "/approvals/"


def test_a_password_sign_in_is_untouched_by_the_sso_backend(client, sso_on, swale):
    person_user_ensure(username="local.officer", name="Local Officer", organisation=swale, roles=[Role.OFFICER],
                       password="a-long-local-password")
    response = client.post(reverse("login"), {"username": "local.officer", "password": "a-long-local-password"})
    assert response.status_code == 302


def _payload(**changes):
    return {"iss": ISSUER, "aud": CLIENT_ID, "sub": "subject-1", "nonce": "n", **changes}


@pytest.mark.parametrize("changes, message", [
    ({"iss": "https://evil.example/o"}, "another provider"),
    ({"aud": "another-client"}, "another client"),
    ({"aud": ["x", "y"]}, "another client"),
    ({"sub": ""}, "no subject"),
])
def test_the_backend_checks_the_id_tokens_issuer_audience_and_subject(sso_on, changes, message):
    with mock.patch.object(OIDCAuthenticationBackend, "verify_token", return_value=_payload(**changes)):
        with pytest.raises(SuspiciousOperation, match=message):
            PortalOIDCBackend().verify_token("token", nonce="n")
    with mock.patch.object(OIDCAuthenticationBackend, "verify_token", return_value=_payload(aud=["x", CLIENT_ID])):
        assert PortalOIDCBackend().verify_token("token", nonce="n")["sub"] == "subject-1"


def _callback_request(rf):
    request = rf.get("/accounts/sso/callback/", {"code": "c", "state": "s"})
    request.session = mock.MagicMock()
    return request


def _authenticate_with(rf, userinfo):
    backend = PortalOIDCBackend()
    with mock.patch.object(PortalOIDCBackend, "get_token", return_value={"id_token": "i", "access_token": "a"}), \
            mock.patch.object(PortalOIDCBackend, "verify_token", return_value=_payload()), \
            mock.patch.object(PortalOIDCBackend, "get_userinfo", return_value=userinfo):
        return backend.authenticate(_callback_request(rf), nonce="n", code_verifier="v")


def test_a_first_sign_in_is_held_not_failed(rf, sso_on, swale_claim):
    with pytest.raises(SignInHeld) as held:
        _authenticate_with(rf, {"sub": "subject-1", "name": "Sam Officer", "organisation": "swale.gov.example"})
    assert held.value.result.outcome == "pending"
    assert ExternalIdentity.objects.get().subject == "subject-1"


def test_userinfo_for_another_subject_signs_nobody_in(rf, sso_on, swale_claim):
    assert _authenticate_with(rf, {"sub": "someone-else", "organisation": "swale.gov.example"}) is None
    assert not ExternalIdentity.objects.exists()


def test_the_backend_does_nothing_while_sso_is_off(rf):
    assert authenticate(_callback_request(rf), nonce="n") is None
    assert PortalOIDCBackend().authenticate(_callback_request(rf), nonce="n") is None


@pytest.mark.parametrize("reason, text", [
    (services.UNKNOWN_ORGANISATION, "which is not one of the Kent Forum"),
    (services.ORGANISATION_CHANGED, "no longer says you work for"),
    (services.ACCOUNT_SWITCHED_OFF, "switched off"),
])
def test_the_callback_shows_a_held_sign_in_not_an_error(client, sso_on, swale_claim, reason, text):
    identity = ExternalIdentity.objects.create(organisation=swale_claim.organisation, name="Sam Officer", role="officer",
                                               issuer=ISSUER, subject="sam", claim_value="swale.gov.example")
    result = services.SignInOutcome("refused", reason, identity=identity, claim_value="elsewhere.example")
    with mock.patch("mozilla_django_oidc.views.OIDCAuthenticationCallbackView.get", side_effect=SignInHeld(result)):
        response = client.get(reverse("sso:callback"), {"code": "c", "state": "s"})
    # The callback sends the browser to a page of its own, which a reload shows again
    assert response.status_code == 302 and response["Location"] == reverse("sso:held")
    for _ in range(2):
        shown = client.get(reverse("sso:held"))
        assert shown.status_code == 403 and text in shown.content.decode()
    pending = services.SignInOutcome("pending", identity=identity)
    with mock.patch("mozilla_django_oidc.views.OIDCAuthenticationCallbackView.get", side_effect=SignInHeld(pending)):
        response = client.get(reverse("sso:callback"), {"code": "c", "state": "s"}, follow=True)
    assert response.status_code == 200 and "waiting for the Kent Forum team" in response.content.decode()


def test_a_callback_the_provider_refused_shows_that_it_did_not_work(client, sso_on):
    response = client.get(reverse("sso:callback"), {"error": "access_denied"}, follow=True)
    assert response.status_code == 403 and "did not work" in response.content.decode()


def test_the_held_page_is_404_without_a_held_sign_in_or_with_sso_off(client, sso_on, settings):
    assert client.get(reverse("sso:held")).status_code == 404
    client.get(reverse("sso:callback"), {"error": "access_denied"})
    assert client.post(reverse("sso:held")).status_code == 404
    settings.SSO_ENABLED = False
    assert client.get(reverse("sso:held")).status_code == 404


# --- The Forum team's page -------------------------------------------------------------------------

URL = "/accounts/sso/requests/"


@pytest.fixture
def pending(swale_claim):
    claims = {"name": "Sam Officer", "email": "sam@swale.gov.example", "organisation": "swale.gov.example"}
    return services.sso_sign_in_resolve(issuer=ISSUER, subject="subject-1", claims=claims,
                                        organisation_claim="organisation").identity


def test_the_page_is_the_forum_teams(client, swale, pending):
    assert client.get(URL).status_code == 302  # to sign in
    officer, _ = person_user_ensure(username="o", name="An Officer", organisation=swale, roles=[Role.OFFICER])
    client.force_login(officer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"identity": pending.pk, f"r{pending.pk}-decision": "approve"}).status_code == 403
    assert ExternalIdentity.objects.get().status == "pending"


def test_the_forum_team_sees_each_request_with_labelled_fields(client, forum_admin, pending):
    client.force_login(forum_admin)
    page = client.get(URL).content.decode()
    assert "Sam Officer" in page and "swale.gov.example" in page and "Swale Test Council" in page and "Officer" in page
    assert f'<label class="govuk-label govuk-radios__label" for="id_r{pending.pk}-decision">Approve</label>' in page
    assert f'for="id_r{pending.pk}-reason">Why is it refused?</label>' in page


def test_a_refusal_without_a_reason_is_shown_again_with_the_error(client, forum_admin, pending):
    client.force_login(forum_admin)
    response = client.post(URL, {"identity": pending.pk, f"r{pending.pk}-decision": "refuse"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in page
    assert f'<a href="#id_r{pending.pk}-reason">Enter why the sign-in is refused.</a>' in page
    assert "<title>Error:" in page
    no_decision = client.post(URL, {"identity": pending.pk})
    assert no_decision.status_code == 400
    assert "Select whether to approve or refuse the sign-in." in no_decision.content.decode()
    assert ExternalIdentity.objects.get().status == "pending"


def test_decisions_are_saved_and_shown(client, forum_admin, pending):
    client.force_login(forum_admin)
    response = client.post(URL, {"identity": pending.pk, f"r{pending.pk}-decision": "approve"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Sam Officer's sign-in is approved." in page and "No sign-ins are waiting." in page
    again = client.post(URL, {"identity": pending.pk, f"r{pending.pk}-decision": "refuse", f"r{pending.pk}-reason": "x"})
    assert again.status_code == 400 and "already been approved" in again.content.decode()


def test_a_post_naming_no_request_is_404(client, forum_admin):
    client.force_login(forum_admin)
    assert client.post(URL).status_code == 404
    assert client.post(URL, {"identity": "999999"}).status_code == 404
