import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from partnerships.models import Organisation, PartnerAPIKey
from tests.factories import council
from tests.performance.conftest import (  # noqa: F401 - fixtures shared with the returns tests
    approver,
    board_member,
    count_indicator,
    forum_admin,
    officer,
    other_officer,
    period,
    rate_indicator,
)


@pytest.fixture(autouse=True)
def clear_throttles():
    """Each test starts with every throttle's allowance whole."""
    cache.clear()


@pytest.fixture
def submit_client():
    """An API client with a partner's submit key for Ashford Borough Council's returns."""
    key, raw = PartnerAPIKey.objects.create_key(
        name="submit key", partner=Organisation.objects.get(name="Kent Police"), scope="submit",
    )
    key.organisations.set([council()])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client
