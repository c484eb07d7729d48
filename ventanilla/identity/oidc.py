"""OpenID Connect claims for Llave (django-oauth-toolkit does the protocol).

`sub` is the account's stable `public_id` (a UUID), never the database primary key: it is the
same in the ID token and at the userinfo endpoint, and it does not reveal how many accounts
exist. Each claim is released only with the scope that covers it (`oidc_claim_scope`).
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


def _family_name(user: Any) -> str:
    return " ".join(p for p in (user.first_surname, user.second_surname) if p)


class LlaveOIDCValidator(OAuth2Validator):
    # A deactivated account stops working everywhere at once: its codes, access tokens and
    # refresh tokens are refused even if something failed to revoke them.
    @staticmethod
    def _active(request) -> bool:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_active)

    def validate_bearer_token(self, token, scopes, request):
        return super().validate_bearer_token(token, scopes, request) and self._active(request)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        return super().validate_refresh_token(refresh_token, client, request, *args, **kwargs) and self._active(request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        return super().validate_code(client_id, code, client, request, *args, **kwargs) and self._active(request)

    # Claim -> the scope that releases it.
    oidc_claim_scope = {
        "sub": "openid",
        "given_name": "profile",
        "family_name": "profile",
        "name": "profile",
        "llave_level": "profile",
        "email": "email",
        "email_verified": "email",
        "curp": "curp",
    }

    def get_additional_claims(self) -> dict[str, Any]:
        """Request-agnostic form (no `request` argument): DOT then evaluates each callable per
        request *and* lists every key in the discovery document's `claims_supported`. The
        `sub` entry replaces DOT's default (the primary key) in ID tokens and userinfo alike."""
        return {
            "sub": lambda r: str(r.user.public_id),
            "given_name": lambda r: r.user.given_names,
            "family_name": lambda r: _family_name(r.user),
            "name": lambda r: r.user.full_name,
            "llave_level": lambda r: r.user.level,
            "email": lambda r: r.user.email,
            "email_verified": lambda r: r.user.email_confirmed_at is not None,
            "curp": lambda r: r.user.curp,
        }

    def get_oidc_claims(self, token, token_handler, request) -> dict[str, Any]:
        # OIDC Core §5.3.2: a claim without a value is omitted, not sent as null or "".
        claims = super().get_oidc_claims(token, token_handler, request)
        return {key: value for key, value in claims.items() if value not in (None, "")}
