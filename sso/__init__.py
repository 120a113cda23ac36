"""Single sign-on for partner staff by OpenID Connect: the Forum team's map of the identity
provider's organisation claim to portal organisations and roles, the people the provider vouches
for (issuer and subject) with the Forum team's decision on their first sign-in, and the
mozilla-django-oidc backend and views that sign them in."""
