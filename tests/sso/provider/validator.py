"""The test provider's claims: e-mail, name and the organisation claim (the user's one group)."""
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "organisation": "profile"}

    def get_additional_claims(self, request):
        user = request.user
        group = user.groups.order_by("name").first()
        return {
            "email": user.email,
            "name": user.get_full_name() or user.get_username(),
            "organisation": group.name if group else "",
        }
