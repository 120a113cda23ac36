"""Single sign-on end to end, against a real OpenID Connect provider: django-oauth-toolkit with
OIDC_ENABLED (tests/sso/provider/), started on 127.0.0.1 on a free port in a subprocess with an RSA
key made for the run and its own SQLite database in a temp dir. The portal (pytest-django's
live_server) is pointed at it through settings; a ``requests.Session`` follows the redirects as a
browser would: the portal → the provider's sign-in page → its authorisation → the portal's callback.

First sign-in → waiting for the Forum team; the Forum team approves on its page; the next sign-in
→ signed in, in the mapped organisation with the mapped role. An unknown organisation claim is
refused, and so is someone the Forum team refused."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from kentforum.roles import GROUP_NAMES, Role
from sso.models import ExternalIdentity

from .conftest import CLIENT_ID, sso_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIENT_SECRET = "a-confidential-client-secret-for-the-test-provider"
PASSWORD = "provider-password-123"
PEOPLE = [
    {"username": "sam", "name": "Sam Officer", "email": "sam@swale.gov.example", "organisation": "swale.gov.example"},
    {"username": "una", "name": "Una Known", "email": "una@elsewhere.example", "organisation": "elsewhere.example"},
    {"username": "rex", "name": "Rex Refused", "email": "rex@swale.gov.example", "organisation": "swale.gov.example"},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def provider(tmp_path, live_server, settings):
    """The OIDC provider, running; yields its issuer. The portal's settings point at it."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/o"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "provider-key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    spec = tmp_path / "provider.json"
    spec.write_text(json.dumps({
        "users": [{**person, "password": PASSWORD} for person in PEOPLE],
        "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                   "redirect_uri": f"{live_server.url}/accounts/sso/callback/"},
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "OIDC_"))}
    env.update(DJANGO_SETTINGS_MODULE="tests.sso.provider.settings", PROVIDER_DB=str(tmp_path / "provider.sqlite3"),
               PROVIDER_ISSUER=issuer, PROVIDER_KEY_FILE=str(key_file), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "tests.sso.provider.setup", str(spec)], cwd=ROOT, env=env, check=True,
                   timeout=120)
    log = (tmp_path / "provider.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the OIDC provider did not start:\n" + (tmp_path / "provider.log").read_text())
            time.sleep(0.2)
        discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
        assert discovery["issuer"] == issuer
        sso_settings(settings, issuer, CLIENT_SECRET)
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = discovery["authorization_endpoint"]
        settings.OIDC_OP_TOKEN_ENDPOINT = discovery["token_endpoint"]
        settings.OIDC_OP_USER_ENDPOINT = discovery["userinfo_endpoint"]
        settings.OIDC_OP_JWKS_ENDPOINT = discovery["jwks_uri"]
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def sign_in(portal: str, username: str) -> requests.Response:
    """Press "Sign in with …" on the portal's sign-in page, sign in at the provider, and follow
    the redirects back to the portal; the last response."""
    browser = requests.Session()
    page = browser.get(f"{portal}/accounts/login/", timeout=10)
    start = re.search(r'href="(/accounts/sso/start/[^"]*)"', page.text)
    assert start, "the sign-in page offers no single sign-on"
    at_provider = browser.get(portal + start.group(1).replace("&amp;", "&"), timeout=10)
    assert at_provider.url.startswith("http://127.0.0.1:") and "/accounts/login/" in at_provider.url, at_provider.url
    assert 'name="password"' in page.text, "the portal's own password sign-in stays"
    next_url = re.search(r'name="next" value="([^"]*)"', at_provider.text).group(1).replace("&amp;", "&")
    last = browser.post(at_provider.url, data={
        "csrfmiddlewaretoken": browser.cookies.get("provider_csrftoken"), "username": username,
        "password": PASSWORD, "next": next_url,
    }, timeout=30)
    last.browser = browser  # to reload the page it came to
    return last


def test_first_sign_in_waits_for_the_forum_team_then_signs_in_with_the_mapped_organisation_and_role(
        provider, live_server, swale, swale_claim, forum_admin):
    # First sign-in: a request for the Forum team, nobody signed in, no account.
    first = sign_in(live_server.url, "sam")
    assert first.status_code == 200, first.text[:2000]
    assert first.url == f"{live_server.url}/accounts/sso/held/", "the callback sends the browser on to a page of its own"
    assert "Your sign-in is waiting for the Kent Forum team" in first.text
    reloaded = first.browser.get(first.url, timeout=10)
    assert reloaded.status_code == 200 and "waiting for the Kent Forum team" in reloaded.text, "a reload shows it again"
    identity = ExternalIdentity.objects.get(issuer=provider)
    assert (identity.status, identity.user, identity.email, identity.organisation) == (
        "pending", None, "sam@swale.gov.example", swale)
    assert not ExternalIdentity.objects.exclude(pk=identity.pk).exists()

    # Signing in again before the decision: still waiting, still one request.
    again = sign_in(live_server.url, "sam")
    assert "waiting for the Kent Forum team" in again.text
    assert ExternalIdentity.objects.count() == 1

    # The Forum team approves it on its page.
    team = Client()
    team.force_login(forum_admin)
    listed = team.get("/accounts/sso/requests/")
    assert listed.status_code == 200 and "Sam Officer" in listed.content.decode()
    decided = team.post("/accounts/sso/requests/", {"identity": identity.pk, f"r{identity.pk}-decision": "approve"})
    assert decided.status_code == 302

    # The next sign-in succeeds: an officer of Swale, landing on My returns.
    second = sign_in(live_server.url, "sam")
    assert second.status_code == 200, second.text[:2000]
    assert second.url == f"{live_server.url}/returns/"
    assert "Sign out" in second.text
    identity.refresh_from_db()
    user = identity.user
    assert identity.status == "approved" and identity.last_sign_in_at is not None
    assert user.person.organisation == swale
    assert set(user.groups.values_list("name", flat=True)) == {GROUP_NAMES[Role.OFFICER]}
    assert not user.has_usable_password()


def test_an_unknown_organisation_and_a_refused_person_cannot_sign_in(provider, live_server, swale_claim, forum_admin):
    unknown = sign_in(live_server.url, "una")
    assert unknown.status_code == 403
    assert "“elsewhere.example”, which is not one of the Kent Forum's partner organisations" in unknown.text
    assert not ExternalIdentity.objects.exists()  # nothing kept for an unknown organisation

    assert "waiting for the Kent Forum team" in sign_in(live_server.url, "rex").text
    identity = ExternalIdentity.objects.get()
    team = Client()
    team.force_login(forum_admin)
    team.post("/accounts/sso/requests/", {"identity": identity.pk, f"r{identity.pk}-decision": "refuse",
                                          f"r{identity.pk}-reason": "Rex has left Swale."})
    refused = sign_in(live_server.url, "rex")
    assert refused.status_code == 403
    assert "The Kent Forum team refused your sign-in" in refused.text and "Rex has left Swale." in refused.text
