"""Acceptance: a real OpenID Connect relying-party library (Authlib + joserfc) signs a resident
in against the platform running on a live server, exactly as a municipal application would."""

from __future__ import annotations

import secrets
from urllib.parse import urljoin

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey

from ventanilla.identity.models import Consent

from .conftest import ALL_SCOPES, REDIRECT_URI, consent_form_data, parse_forms

PASSWORD = "una frase larga y secreta 2026"


def sign_in_through_login_form(browser: requests.Session, response: requests.Response, email: str) -> requests.Response:
    """Fill in Llave's real login page (whatever its field names) and submit it with CSRF."""
    assert "/llave/entrar/" in response.url, response.url
    form = next(
        f for f in parse_forms(response.text)
        if f["method"] == "post" and any(i.get("type") == "password" for i in f["inputs"])
    )
    data = {}
    for field in form["inputs"]:
        name, kind = field.get("name"), field.get("type", "text")
        if not name or field["tag"] == "button":
            continue
        if kind == "password":
            data[name] = PASSWORD
        elif kind == "hidden":
            data[name] = field.get("value", "")
        elif kind in {"text", "email"}:
            data[name] = email
    return browser.post(urljoin(response.url, form["action"] or ""), data=data, allow_redirects=True)


@pytest.fixture
def sessions():
    """HTTP sessions closed at the end of the test, so no keep-alive connection outlives the
    live server's database connection."""
    opened: list[requests.Session] = []

    def track(session):
        opened.append(session)
        return session

    yield track
    for session in opened:
        session.close()


@pytest.mark.django_db(transaction=True)
def test_relying_party_signs_resident_in(live_server, make_resident, oidc_app, sessions):
    application, client_secret = oidc_app
    resident = make_resident(
        given_names="José Ángel", first_surname="Villarreal", second_surname="Núñez", password=PASSWORD
    )

    # 1. The relying party discovers the provider.
    meta = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10).json()
    assert "S256" in meta["code_challenge_methods_supported"]

    rp = sessions(OAuth2Session(
        application.client_id,
        client_secret,
        scope=ALL_SCOPES,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    ))
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    auth_url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    # 2. The resident's browser: authorize -> Llave login -> consent screen.
    browser = sessions(requests.Session())
    login_page = browser.get(auth_url, timeout=10)
    consent_page = sign_in_through_login_form(browser, login_page, resident.email)
    assert consent_page.status_code == 200, consent_page.text[:500]
    assert "/o/authorize/" in consent_page.url
    assert "¿Permites que Decidim Torreón use tu Llave?" in consent_page.text
    form_action = next(
        d for d in consent_page.headers["Content-Security-Policy"].split(";") if "form-action" in d
    )
    assert "http://127.0.0.1:9" in form_action

    # 3. "Permitir": the redirect to the (unreachable) callback is captured, not followed.
    decision = browser.post(
        consent_page.url, data=consent_form_data(consent_page.text, allow=True), allow_redirects=False, timeout=10
    )
    assert decision.status_code == 302
    callback = decision.headers["Location"]
    assert callback.startswith(REDIRECT_URI + "?")

    # 4. The relying party exchanges the code with its PKCE verifier.
    token = rp.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
    )
    assert token["token_type"].lower() == "bearer" and "id_token" in token

    # 5. It validates the ID token against the JWKS published in the discovery document.
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    id_token = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": application.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True, "value": str(resident.public_id)},
    )
    registry.validate(id_token.claims)
    assert id_token.claims["curp"] == resident.curp

    # A token signed by anyone else is rejected.
    other = RSAKey.generate_key(2048, parameters={"kid": jwks["keys"][0].get("kid"), "alg": "RS256"})
    forged = KeySet([other])
    with pytest.raises(BadSignatureError):
        jwt.decode(token["id_token"], forged, algorithms=["RS256"])

    # 6. Userinfo with the access token: the same person, the same sub.
    userinfo = rp.get(meta["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200
    claims = userinfo.json()
    assert claims["sub"] == str(resident.public_id) == id_token.claims["sub"]
    assert claims["given_name"] == "José Ángel"
    assert claims["family_name"] == "Villarreal Núñez"
    assert claims["name"] == "José Ángel Villarreal Núñez"
    assert claims["email"] == resident.email and claims["email_verified"] is True
    assert claims["curp"] == resident.curp

    # 7. The resident sees the consent; disconnecting the application kills its tokens.
    consent = Consent.objects.get(resident=resident, application=application, revoked_at__isnull=True)
    assert consent.grantee_label == "Decidim Torreón"
    connections = browser.get(f"{live_server.url}/o/conexiones/", timeout=10)
    assert "Decidim Torreón" in connections.text
    revoke_page = browser.get(f"{live_server.url}/o/conexiones/{consent.pk}/desconectar/", timeout=10)
    assert revoke_page.status_code == 200
    revoke_form = next(f for f in parse_forms(revoke_page.text) if f["action"] is None)
    csrf = next(i["value"] for i in revoke_form["inputs"] if i.get("name") == "csrfmiddlewaretoken")
    done = browser.post(revoke_page.url, data={"csrfmiddlewaretoken": csrf}, timeout=10)
    assert done.status_code == 200 and "Desconectaste Decidim Torreón" in done.text

    assert rp.get(meta["userinfo_endpoint"], timeout=10).status_code == 401
    refreshed = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(application.client_id, client_secret),
        timeout=10,
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    consent.refresh_from_db()
    assert consent.revoked_at is not None
