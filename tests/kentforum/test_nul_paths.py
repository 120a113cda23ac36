"""A NUL character anywhere in an address (path or query) is a 400 with a message, on every
database: PostgreSQL refuses NUL in a string literal, which must never surface as a 500."""
import pytest

from kentforum.roles import Role
from tests.performance.conftest import make_user

pytestmark = pytest.mark.django_db

ADDRESSES = [
    "/dashboards/localities/%00/", "/dashboards/kpqs/A1-KPQ1%00/", "/boards/%00/",
    "/returns/1/indicators/T%00/E07000105/", "/returns/1/milestones/1/?history=%00",
    "/indicators/?search=%00", "/api/v1/indicators/?search=%00", "/api/v1/rollups/?indicator=%00",
    "/api/v1/indicator-returns/?locality=E07%0000105",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_nul_in_an_address_is_a_clear_400(client, address):
    client.force_login(make_user("nul.officer", "Ashford Borough Council", Role.OFFICER))
    response = client.get(address)
    assert response.status_code == 400, (address, response.status_code)
    assert b"NUL" in response.content or b"null character" in response.content.lower()
