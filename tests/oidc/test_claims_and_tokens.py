"""Token endpoint and claims: `sub` is the public_id everywhere, each claim only with its scope,
the code only redeems with the right PKCE verifier."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import REDIRECT_URI, consent_form_data, query_of

pytestmark = pytest.mark.django_db


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def obtain_code(client, authorize_url):
    def run(user, scope):
        client.force_login(user)
        url, verifier = authorize_url(scope=scope)
        page = client.get(url)
        response = client.post(url, consent_form_data(page.content.decode(), allow=True))
        return query_of(response["Location"])["code"], verifier

    return run


def _exchange(client, oidc_app, code, verifier):
    application, secret = oidc_app
    return client.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        HTTP_AUTHORIZATION=_basic(application.client_id, secret),
    )


def test_openid_only_releases_nothing_but_sub(client, make_resident, oidc_app, obtain_code):
    resident = make_resident()
    code, verifier = obtain_code(resident, "openid")
    token = _exchange(client, oidc_app, code, verifier).json()
    id_claims = _jwt_claims(token["id_token"])
    assert id_claims["sub"] == str(resident.public_id)
    assert str(resident.pk) != id_claims["sub"]
    for private in ("email", "curp", "name", "given_name", "family_name"):
        assert private not in id_claims
    client.logout()
    userinfo = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").json()
    assert userinfo == {"sub": str(resident.public_id)}


def test_profile_and_email_without_curp(client, make_resident, oidc_app, obtain_code):
    resident = make_resident(second_surname="")
    code, verifier = obtain_code(resident, "openid profile email")
    token = _exchange(client, oidc_app, code, verifier).json()
    userinfo = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").json()
    assert userinfo["family_name"] == "Gómez"
    assert userinfo["email"] == resident.email
    assert userinfo["llave_level"] == "basica"
    assert "curp" not in userinfo


def test_resident_without_curp_gets_no_empty_claim(client, make_resident, oidc_app, obtain_code):
    resident = make_resident(curp=None, email_confirmed_at=None)
    code, verifier = obtain_code(resident, "openid email curp")
    token = _exchange(client, oidc_app, code, verifier).json()
    userinfo = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").json()
    assert "curp" not in userinfo
    assert userinfo["email_verified"] is False


def test_wrong_verifier_cannot_redeem_the_code(client, make_resident, oidc_app, obtain_code):
    code, _ = obtain_code(make_resident(), "openid")
    response = _exchange(client, oidc_app, code, "x" * 50)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(client, make_resident, oidc_app, obtain_code):
    application, _ = oidc_app
    code, verifier = obtain_code(make_resident(), "openid")
    response = client.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        HTTP_AUTHORIZATION=_basic(application.client_id, "no-es-el-secreto"),
    )
    assert response.status_code == 401


def test_code_is_single_use(client, make_resident, oidc_app, obtain_code):
    code, verifier = obtain_code(make_resident(), "openid")
    assert _exchange(client, oidc_app, code, verifier).status_code == 200
    assert _exchange(client, oidc_app, code, verifier).status_code == 400


def test_access_token_in_query_string_is_refused(client, make_resident, oidc_app, obtain_code):
    code, verifier = obtain_code(make_resident(), "openid")
    token = _exchange(client, oidc_app, code, verifier).json()
    client.logout()
    assert client.get(f"/o/userinfo/?access_token={token['access_token']}").status_code == 401


def test_userinfo_without_token_is_401(client):
    assert client.get("/o/userinfo/").status_code == 401
