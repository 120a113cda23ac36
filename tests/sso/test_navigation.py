"""The Forum team finds the sign-in requests from the navigation while single sign-on is on; no
one sees the link while it is off."""
from django.urls import reverse

from kentforum.roles import Role
from partnerships.services import person_user_ensure

LINK = 'href="/accounts/sso/requests/">Sign-in requests</a>'


def test_the_forum_team_sees_the_requests_link_only_while_sso_is_on(client, forum_admin, settings):
    client.force_login(forum_admin)
    settings.SSO_ENABLED = False
    assert LINK not in client.get(reverse("home")).content.decode()
    settings.SSO_ENABLED = True
    html = client.get(reverse("home")).content.decode()
    assert LINK in html
    assert client.get(reverse("sso:requests")).status_code == 200


def test_an_officer_never_sees_it(client, sso_on, swale, db):
    officer, _ = person_user_ensure(username="swale.officer", name="Swale Officer", organisation=swale,
                                    roles=[Role.OFFICER], password="a-long-test-password")
    client.force_login(officer)
    assert LINK not in client.get(reverse("home")).content.decode()
