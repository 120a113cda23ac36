"""Single sign-on's fixtures: an organisation claim mapped to a portal organisation, a Forum team
admin, and the settings that switch single sign-on on against a provider's addresses."""
import pytest

from kentforum.roles import Role
from partnerships.models import Organisation
from partnerships.services import person_user_ensure
from sso.models import OrganisationClaim

ISSUER = "http://127.0.0.1:9/o"
CLIENT_ID = "kentforum-portal"


def sso_settings(settings, issuer: str, client_secret: str = "client-secret-for-tests") -> None:
    """Switch single sign-on on (pytest-django's ``settings``, undone after the test)."""
    settings.SSO_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = client_secret
    settings.OIDC_OP_ISSUER = issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{issuer}/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{issuer}/.well-known/jwks.json"
    settings.OIDC_TIMEOUT = 10


@pytest.fixture
def sso_on(settings):
    sso_settings(settings, ISSUER)
    return settings


@pytest.fixture
def swale(db):
    """A partner organisation of the tests' own, so that no test needs the framework loaded."""
    return Organisation.objects.create(name="Swale Test Council", slug="swale-test-council",
                                       sector=Organisation.Sector.LOCAL_GOVERNMENT, tier=Organisation.Tier.DISTRICT)


@pytest.fixture
def swale_claim(swale):
    return OrganisationClaim.objects.create(value="swale.gov.example", organisation=swale, role=Role.OFFICER)


@pytest.fixture
def forum_admin(swale):
    user, _ = person_user_ensure(username="forum.team.sso", name="Forum Team", organisation=swale,
                                 roles=[Role.FORUM_ADMIN], password="a-long-test-password")
    return user
