"""The Forum team keeps the DHIS2 mapping tables in the admin; nobody else sees them."""
import pytest

from exchange.models import OrgUnitMapping
from localities.models import Locality

pytestmark = pytest.mark.django_db


def test_the_forum_team_adds_an_org_unit_mapping(client, forum_admin):
    forum_admin.is_staff = True
    forum_admin.save()
    client.force_login(forum_admin)
    assert client.get("/admin/exchange/orgunitmapping/").status_code == 200
    locality = Locality.objects.get(name="Dover")
    response = client.post("/admin/exchange/orgunitmapping/add/", {"locality": locality.pk, "org_unit": "OuDover0001"})
    assert response.status_code == 302
    assert OrgUnitMapping.objects.get().org_unit == "OuDover0001"
    refused = client.post("/admin/exchange/orgunitmapping/add/", {"locality": Locality.objects.get(name="Ashford").pk,
                                                                   "org_unit": "not a uid"})
    assert refused.status_code == 200 and "11 letters and digits" in refused.content.decode()


def test_an_officer_does_not_see_them(client, officer):
    officer.is_staff = True  # even with a way into the admin
    officer.save()
    client.force_login(officer)
    assert client.get("/admin/exchange/orgunitmapping/").status_code == 403
