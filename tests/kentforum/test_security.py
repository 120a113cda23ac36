"""Hardening: login lockout (django-axes), idle and absolute session expiry, the structured
security log, cookies and password rules."""
import datetime
import json
import logging
import time

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kentforum.security import SIGNED_IN_AT
from performance.catalogue import services
from tests.performance.conftest import (  # noqa: F401 - shared fixtures
    PASSWORD,
    forum_admin,
    officer,
)

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
FIELDS = {"timestamp", "event", "user", "ip", "path", "details"}


@pytest.fixture
def security_log(caplog):
    """The JSON lines written to kentforum.security (which does not propagate to the root logger)."""
    logger = logging.getLogger("kentforum.security")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="kentforum.security")

    def lines():
        out = []
        for record in caplog.records:
            if record.name == "kentforum.security":
                parsed = json.loads(record.getMessage())  # one JSON object per event
                assert set(parsed) == FIELDS, parsed
                out.append(parsed)
        return out

    lines.text = lambda: "\n".join(r.getMessage() for r in caplog.records if r.name == "kentforum.security")
    yield lines
    logger.removeHandler(caplog.handler)


def events(log, name):
    return [line for line in log() if line["event"] == name]


def attempt(client, username, password, ip="198.51.100.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


# --- lockout -----------------------------------------------------------------------------------

def test_limits_are_five_failures_and_fifteen_minutes_by_default():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_five_wrong_passwords_lock_that_username_from_that_address(officer, security_log):
    client = Client()
    wrong = "not-the-password-x1"
    for _ in range(4):
        response = attempt(client, "ashford", wrong)
        assert response.status_code == 200 and "Enter a correct username and password" in response.content.decode()
    response = attempt(client, "ashford", wrong)
    assert response.status_code == 429
    page = response.content.decode()
    assert "You cannot sign in for now" in page
    assert "try again in 15 minutes" in page
    assert settings.PORTAL_SUPPORT_EMAIL in page and "Kent Forum team" in page
    assert response["Retry-After"] == "900"
    assert "Content-Security-Policy" in response, "the lockout page has the CSP too"

    # Even the right password is refused from that address while locked ...
    response = attempt(client, "ashford", PASSWORD)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # ... but the same username from another address, and another username, are not locked.
    other = Client()
    assert attempt(other, "ashford", PASSWORD, ip="198.51.100.99").status_code == 302

    failed = events(security_log, "login_failed")
    assert len(failed) >= 5 and all(line["user"] == "ashford" for line in failed)
    assert failed[0]["ip"] == "198.51.100.10" and failed[0]["path"] == LOGIN
    lockouts = events(security_log, "lockout")
    assert lockouts and lockouts[0]["user"] == "ashford" and lockouts[0]["ip"] == "198.51.100.10"
    assert lockouts[0]["details"] == {"failure_limit": 5, "lockout_minutes": 15}
    logins = events(security_log, "login")
    assert [(line["user"], line["ip"]) for line in logins] == [("ashford", "198.51.100.99")]
    text = security_log.text()
    assert wrong not in text and PASSWORD not in text, "no password is ever logged"


def test_the_lockout_ends_after_fifteen_minutes(officer):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(5):
        attempt(client, "ashford", "wrong-password-here")
    assert attempt(client, "ashford", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    assert attempt(client, "ashford", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_count(officer):
    client = Client()
    for _ in range(4):
        attempt(client, "ashford", "wrong-password-here")
    assert attempt(client, "ashford", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert attempt(client, "ashford", "wrong-password-here").status_code == 200, "the count started again"
    assert attempt(client, "ashford", PASSWORD).status_code == 302


# --- sessions ----------------------------------------------------------------------------------

def test_session_times_and_cookie_flags():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ABSOLUTE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_the_session_cookie_is_httponly_and_ends_with_the_browser(officer):
    client = Client()
    response = attempt(client, "ashford", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"], "a browser-session cookie"


def test_an_idle_session_is_signed_out_and_activity_keeps_it(client, officer):
    client.force_login(officer)
    assert client.get(reverse("performance:my-returns")).status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert 29 * 60 < remaining <= 30 * 60, "expires 30 minutes after the last request"

    # Activity moves the expiry on.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + datetime.timedelta(minutes=1))
    assert client.get(reverse("performance:my-returns")).status_code == 200
    session.refresh_from_db()
    assert (session.expire_date - timezone.now()).total_seconds() > 29 * 60

    # Thirty minutes idle: the session has expired and the user must sign in again.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(reverse("performance:my-returns"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_session_ends_eight_hours_after_sign_in_however_active(client, officer, security_log):
    client.force_login(officer)
    assert client.get(reverse("performance:my-returns")).status_code == 200
    session = client.session
    assert abs(session[SIGNED_IN_AT] - time.time()) < 60
    session[SIGNED_IN_AT] = int(time.time()) - 8 * 60 * 60 - 60
    session.save()
    response = client.get(reverse("performance:my-returns"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    expired = events(security_log, "session_expired")
    assert len(expired) == 1 and expired[0]["user"] == "ashford" and expired[0]["details"]["reason"] == "absolute"
    assert client.get(reverse("performance:my-returns")).status_code == 302, "still signed out"


# --- the security log --------------------------------------------------------------------------

def test_sign_in_and_sign_out_are_logged(officer, security_log):
    client = Client()
    attempt(client, "ashford", PASSWORD, ip="203.0.113.7")
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.7")
    login, = events(security_log, "login")
    logout, = events(security_log, "logout")
    assert login["user"] == logout["user"] == "ashford"
    assert login["ip"] == logout["ip"] == "203.0.113.7"
    assert login["path"] == LOGIN and logout["path"] == reverse("logout")
    datetime.datetime.fromisoformat(login["timestamp"])
    assert PASSWORD not in security_log.text()


def test_a_refused_page_is_logged(client, officer, security_log):
    client.force_login(officer)
    assert client.get(reverse("performance:periods"), REMOTE_ADDR="203.0.113.8").status_code == 403
    denied, = events(security_log, "permission_denied")
    assert denied["user"] == "ashford" and denied["path"] == reverse("performance:periods")
    assert denied["ip"] == "203.0.113.8" and denied["details"] == {"method": "GET", "status": 403}


def _key(scope="read"):
    from partnerships.models import Organisation, PartnerAPIKey

    return PartnerAPIKey.objects.create_key(
        name=f"{scope} key", partner=Organisation.objects.get(name="Kent Police"), scope=scope
    )


def test_api_key_use_is_logged_by_prefix_never_the_key(security_log):
    from rest_framework.test import APIClient

    cache.clear()
    key, raw = _key()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get("/api/v1/periods/").status_code == 200
    used = events(security_log, "api_key_used")
    assert used, "api_key_used written"
    assert used[0]["details"] == {"key_prefix": key.prefix, "key_name": "read key", "organisation": "Kent Police", "scope": "read"}
    assert used[0]["path"] == "/api/v1/periods/" and used[0]["user"] is None

    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.prefix}.wrong-secret-part")
    assert client.get("/api/v1/periods/").status_code in (401, 403)
    rejected, = events(security_log, "api_key_rejected")
    assert rejected["details"] == {"key_prefix": key.prefix, "reason": "unknown"}
    text = security_log.text()
    secret = raw.partition(".")[2]
    assert raw not in text and secret not in text and "wrong-secret-part" not in text


def test_an_api_refusal_is_logged(security_log):
    from rest_framework.test import APIClient

    cache.clear()
    _, raw = _key("read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.post("/api/v1/indicator-returns/", {}, format="json")
    assert response.status_code == 403
    denied, = events(security_log, "permission_denied")
    assert denied["path"] == "/api/v1/indicator-returns/" and denied["details"]["method"] == "POST"
    assert raw not in security_log.text()


def test_reopening_a_period_is_logged(client, forum_admin, security_log):
    from performance.catalogue import periods as fy


    quarter, _ = services.period_ensure(span=fy.quarter(2013, 1))
    services.period_open(period=quarter)
    services.period_lock(period=quarter, user=forum_admin)
    services.period_reopen(period=quarter, reason="Police data corrected", user=forum_admin)
    reopened, = events(security_log, "period_reopened")
    assert reopened["user"] == "forumadmin"
    assert reopened["details"]["period_id"] == quarter.pk and reopened["details"]["reason"] == "Police data corrected"


def test_the_security_logger_writes_json_lines_to_the_console():
    config = settings.LOGGING
    assert config["loggers"]["kentforum.security"]["level"] == "INFO"
    handler = config["handlers"][config["loggers"]["kentforum.security"]["handlers"][0]]
    assert handler["class"] == "logging.StreamHandler"
    assert config["formatters"][handler["formatter"]]["format"] == "%(message)s"


# --- passwords ---------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["short1", "password1234", "123456789012", "ashford@example.org"])
def test_weak_passwords_are_refused(officer, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=officer)


def test_a_strong_password_is_accepted(officer):
    validate_password("plum-orchard-ferry-lantern", user=officer)


def test_the_admin_will_not_create_a_user_with_a_weak_password():
    from django.contrib.auth.forms import AdminUserCreationForm

    form = AdminUserCreationForm(data={"username": "newofficer", "password1": "password1234",
                                       "password2": "password1234", "usable_password": "true"})
    assert not form.is_valid()
    assert "This password is too common." in str(form.errors)
    strong = AdminUserCreationForm(data={"username": "newofficer", "password1": "plum-orchard-ferry-lantern",
                                         "password2": "plum-orchard-ferry-lantern", "usable_password": "true"})
    assert strong.is_valid(), strong.errors
