"""Single sign-on's settings: off with nothing set, refused half set, HTTPS only in production,
and ``check --deploy`` clean with it configured."""
import pytest

from tests.kentforum.test_settings import PRODUCTION, run_manage

CONFIGURED = {
    "OIDC_RP_CLIENT_ID": "kentforum-portal", "OIDC_RP_CLIENT_SECRET": "a-client-secret",
    "OIDC_OP_ISSUER": "https://login.partner.example/o",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://login.partner.example/o/authorize/",
    "OIDC_OP_TOKEN_ENDPOINT": "https://login.partner.example/o/token/",
    "OIDC_OP_USER_ENDPOINT": "https://login.partner.example/o/userinfo/",
    "OIDC_OP_JWKS_ENDPOINT": "https://login.partner.example/o/.well-known/jwks.json",
}
PRINT = "from django.conf import settings; print(settings.SSO_ENABLED, settings.OIDC_RP_SIGN_ALGO)"


def test_off_with_nothing_set_and_on_with_everything():
    off = run_manage("shell", "-c", PRINT, env_overrides={"DJANGO_SETTINGS_MODULE": "kentforum.settings.base"},
                     drop=tuple(CONFIGURED))
    assert off.stdout.strip().splitlines()[-1].split() == ["False", "RS256"], off.stderr
    on = run_manage("shell", "-c", PRINT, env_overrides={"DJANGO_SETTINGS_MODULE": "kentforum.settings.base", **CONFIGURED})
    assert on.stdout.strip().splitlines()[-1].split() == ["True", "RS256"], on.stderr


@pytest.mark.parametrize("missing", ["OIDC_RP_CLIENT_SECRET", "OIDC_OP_JWKS_ENDPOINT"])
def test_half_configured_refuses_to_start(missing):
    env = {k: v for k, v in CONFIGURED.items() if k != missing}
    result = run_manage("check", env_overrides={"DJANGO_SETTINGS_MODULE": "kentforum.settings.base", **env},
                        drop=(missing,))
    assert result.returncode != 0 and f"Single sign-on needs all of {missing}" in result.stderr


def test_production_is_clean_with_sso_configured_and_refuses_plain_http():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides={**PRODUCTION, **CONFIGURED})
    assert result.returncode == 0 and "no issues" in result.stdout, result.stderr
    plain = {**CONFIGURED, "OIDC_OP_TOKEN_ENDPOINT": "http://login.partner.example/o/token/"}
    result = run_manage("check", env_overrides={**PRODUCTION, **plain})
    assert result.returncode != 0 and "OIDC_OP_TOKEN_ENDPOINT must be https://" in result.stderr
