"""A partner key's own rate: only rates we can enforce are accepted where they are typed (the
model field and so the admin form), and a key stored with any other rate is refused with a 403
that says so, never a server error on every call (a rate of 100/week used to raise KeyError: 'w')."""
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from kentforum.rates import parse_rate, validate_rate
from partnerships.models import Organisation, PartnerAPIKey

pytestmark = pytest.mark.django_db

GOOD = {
    "1/s": (1, 1), "10/sec": (10, 1), "5/second": (5, 1), "120/m": (120, 60), "120/min": (120, 60), "3/minute": (3, 60),
    "1000/h": (1000, 3600), "1000/hour": (1000, 3600), "5000/d": (5000, 86400), "5000/day": (5000, 86400),
}
BAD = ["100/week", "100/w", "100/month", "100/mins", "100/MIN", "0/min", "-1/min", "1.5/min", "1e3/min", "100",
       "/min", "100/", "100 /min", "100/ min", "١٠/min", "100/min/min", "9999999999/min"]


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()


def make_key(rate="", scope="read"):
    key, raw = PartnerAPIKey.objects.create_key(
        name="rated key", partner=Organisation.objects.get(name="Kent Police"), scope=scope, rate=rate,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return key, client


@pytest.mark.parametrize("rate", GOOD)
def test_the_rates_drf_can_enforce_are_accepted(rate):
    validate_rate(rate)
    assert parse_rate(rate) == GOOD[rate]
    key, _ = make_key(rate)
    key.full_clean()


@pytest.mark.parametrize("rate", BAD)
def test_any_other_rate_is_refused_by_the_model_field(rate):
    with pytest.raises(ValueError):
        parse_rate(rate)
    key, _ = make_key()
    key.rate = rate
    with pytest.raises(ValidationError) as refused:
        key.full_clean()
    assert "rate" in refused.value.message_dict
    assert "is not a rate we accept" in refused.value.message_dict["rate"][0]


def test_the_admin_form_refuses_a_weekly_rate_and_accepts_a_daily_one(client):
    admin = get_user_model().objects.create_superuser("keeper", "keeper@example.org", "x-very-long-password-1")
    client.force_login(admin)
    form = {"name": "Police data feed", "partner": Organisation.objects.get(name="Kent Police").pk, "scope": "read",
            "rate": "100/week", "expiry_date_0": "", "expiry_date_1": ""}
    refused = client.post("/admin/partnerships/partnerapikey/add/", form)
    assert refused.status_code == 200 and "is not a rate we accept" in refused.content.decode()
    assert not PartnerAPIKey.objects.filter(name="Police data feed").exists()
    accepted = client.post("/admin/partnerships/partnerapikey/add/", {**form, "rate": "100/day"})
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    assert PartnerAPIKey.objects.get(name="Police data feed").rate == "100/day"


@pytest.mark.parametrize("rate", ["100/week", "100/month", "0/min", "lots"])
def test_a_key_stored_with_a_bad_rate_is_refused_with_a_403_that_says_why(rate):
    key, client = make_key(scope="submit")
    PartnerAPIKey.objects.filter(pk=key.pk).update(rate=rate)  # saved before the admin checked rates
    for response in (client.get("/api/v1/ambitions/"), client.get("/api/v1/indicator-returns/"),
                     client.post("/api/v1/indicator-returns/", {"indicator": "X"}, format="json")):
        assert response.status_code == 403, response.content
        assert "rate limit" in response.json()["detail"] and "misconfigured" in response.json()["detail"]
        assert "ask the Kent Forum team" in response.json()["detail"]


def test_a_key_with_a_daily_rate_is_limited_per_day():
    _, client = make_key("2/day")
    assert [client.get("/api/v1/ambitions/").status_code for _ in range(3)] == [200, 200, 429]
    assert int(client.get("/api/v1/ambitions/")["Retry-After"]) > 3600


def test_a_key_without_a_rate_has_the_default():
    _, client = make_key("")
    assert client.get("/api/v1/ambitions/").status_code == 200
