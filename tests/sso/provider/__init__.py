"""A minimal OpenID Connect provider (django-oauth-toolkit with OIDC_ENABLED) that the single
sign-on test starts on 127.0.0.1 in a subprocess. Its users carry their organisation claim as
their one group. Configured from the environment: PROVIDER_DB (an SQLite file), PROVIDER_ISSUER
(http://127.0.0.1:<port>/o) and PROVIDER_KEY_FILE (an RSA private key, PEM)."""
