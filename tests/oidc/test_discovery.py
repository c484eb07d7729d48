"""Discovery document and JWKS: what a relying party reads before anything else."""

from __future__ import annotations

import pytest
from oauth2_provider.settings import oauth2_settings

pytestmark = pytest.mark.django_db


def expected_issuer() -> str:
    return oauth2_settings.OIDC_ISS_ENDPOINT or "http://testserver/o"


def test_discovery_document_fields(client):
    response = client.get("/o/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.json()
    issuer = expected_issuer()
    assert doc["issuer"] == issuer
    assert doc["authorization_endpoint"] == "http://testserver/o/authorize/"
    assert doc["token_endpoint"] == "http://testserver/o/token/"
    assert doc["userinfo_endpoint"] == "http://testserver/o/userinfo/"
    assert doc["jwks_uri"] == "http://testserver/o/.well-known/jwks.json"
    assert "S256" in doc["code_challenge_methods_supported"]
    assert "plain" not in doc["code_challenge_methods_supported"]
    assert doc["response_types_supported"] == ["code"]
    assert set(doc["scopes_supported"]) == {"openid", "profile", "email", "curp"}
    assert set(doc["claims_supported"]) >= {
        "sub", "given_name", "family_name", "name", "email", "email_verified", "curp", "llave_level",
    }
    assert doc["id_token_signing_alg_values_supported"][0] == "RS256"
    assert doc["subject_types_supported"] == ["public"]


def test_issuer_follows_request_host_when_site_url_not_configured(client, settings):
    from django.test import override_settings

    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": ""}
    with override_settings(OAUTH2_PROVIDER=provider):
        doc = client.get("/o/.well-known/openid-configuration", HTTP_HOST="localhost").json()
    assert doc["issuer"] == "http://localhost/o"


def test_issuer_pinned_when_configured(client, settings):
    from django.test import override_settings

    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://llave.torreon.gob.mx/o"}
    with override_settings(OAUTH2_PROVIDER=provider):
        doc = client.get("/o/.well-known/openid-configuration", HTTP_HOST="localhost").json()
    assert doc["issuer"] == "https://llave.torreon.gob.mx/o"


def test_unknown_host_cannot_set_issuer(client):
    response = client.get("/o/.well-known/openid-configuration", HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_jwks_has_the_rsa_signing_key(client, settings):
    from cryptography.hazmat.primitives import serialization
    from joserfc.jwk import KeySet

    response = client.get("/o/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert "d" not in key and "p" not in key  # never the private parts
    # It is the public half of the key oidc_keys installed.
    private = serialization.load_pem_private_key(
        settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode(), password=None
    )
    published = KeySet.import_key_set({"keys": keys}).keys[0]
    assert published.as_dict()["n"] == key["n"]
    numbers = private.public_key().public_numbers()
    import base64

    n = int.from_bytes(base64.urlsafe_b64decode(key["n"] + "=" * (-len(key["n"]) % 4)), "big")
    assert n == numbers.n
