"""Where a webhook may be sent (webhooks/addresses.py), and its signature (webhooks/sending.py)."""
import hashlib
import hmac

import pytest
from django.core.exceptions import ValidationError

from webhooks import addresses, sending


@pytest.mark.parametrize("url", [
    "https://partner.example/hooks", "https://hooks.partner.example:8443/kf?x=1", "https://93.184.215.14/",
    "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hooks",
])
def test_public_https_addresses_are_accepted(settings, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    addresses.check_url(url)


@pytest.mark.parametrize("url", [
    "http://partner.example/", "http://127.0.0.1/", "https://127.0.0.1/", "https://127.1.2.3/", "https://localhost/",
    "https://api.localhost/", "https://10.0.0.1/", "https://172.16.5.4/", "https://192.168.1.1/", "https://169.254.169.254/",
    "https://[::1]/", "https://[fe80::1]/", "https://[fd00::1]/", "https://[::ffff:127.0.0.1]/", "https://0.0.0.0/",
    "https://224.0.0.1/", "https://printer/", "https://a.b/#frag", "https://u@partner.example/", "https://partner.example:0/",
    "https://partner.example:99999/", "https://" + "a" * 500 + ".example/", "", "https://partner .example/",
])
def test_other_addresses_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    with pytest.raises(ValidationError):
        addresses.check_url(url)


def test_loopback_http_only_when_the_setting_allows(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    addresses.check_url("http://127.0.0.1:8123/hooks")
    addresses.check_url("http://localhost:8123/hooks")
    with pytest.raises(ValidationError):
        addresses.check_url("http://partner.example/hooks")  # plain HTTP elsewhere: never
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    with pytest.raises(ValidationError):
        addresses.check_url("http://127.0.0.1:8123/hooks")


def test_the_signature_is_the_hmac_of_the_timestamp_and_body():
    body = sending.body_bytes({"b": 1, "a": "é"})
    assert body == '{"a":"é","b":1}'.encode()
    headers = sending.signed_headers(secret="s3cret", event="period.locked", delivery_id="d", body=body, timestamp=1700000000)
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-KentForum-Signature"] == f"sha256={expected}"
    assert headers["X-KentForum-Timestamp"] == "1700000000" and headers["X-KentForum-Event"] == "period.locked"


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour():
    from webhooks.services import backoff

    assert [backoff(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
