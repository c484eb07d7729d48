"""OpenID Connect claims for Llave (django-oauth-toolkit does the protocol)."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class LlaveOIDCValidator(OAuth2Validator):
    oidc_claim_scope = {
        "sub": "openid",
        "given_name": "profile",
        "family_name": "profile",
        "name": "profile",
        "email": "email",
        "email_verified": "email",
        "curp": "curp",
        "llave_level": "profile",
    }

    def get_additional_claims(self, request):
        user = request.user
        return {
            "given_name": user.given_names,
            "family_name": " ".join(p for p in (user.first_surname, user.second_surname) if p),
            "name": user.full_name,
            "email": user.email,
            "email_verified": user.email_confirmed_at is not None,
            "curp": user.curp or "",
            "llave_level": user.level,
        }

    def get_userinfo_claims(self, request):
        claims = super().get_userinfo_claims(request)
        claims["sub"] = str(request.user.public_id)
        return claims

    def get_oidc_issuer_endpoint(self, request):
        return super().get_oidc_issuer_endpoint(request)
