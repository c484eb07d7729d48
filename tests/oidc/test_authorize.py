"""The authorization endpoint: PKCE, the Spanish consent screen, denial, remembered consent,
CSP form-action and who may reach it."""

from __future__ import annotations

import pytest

from ventanilla.audit.models import AuditEntry
from ventanilla.identity.models import Consent

from .conftest import REDIRECT_URI, consent_form_data, query_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(make_resident):
    return make_resident(given_names="Ana Lucía", first_surname="Treviño", second_surname="Soto")


def test_anonymous_visitor_is_sent_to_llave_login(client, authorize_url):
    url, _ = authorize_url()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/llave/entrar/?next=")
    assert response["Location"].startswith("/llave/entrar/?next=/o/authorize/%3F")


def test_authorization_without_pkce_is_refused(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url(code_challenge=None, code_challenge_method=None)
    response = client.get(url)
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT_URI)
    assert params["error"] == "invalid_request"
    assert "code" not in params


def test_plain_pkce_is_refused(client, resident, authorize_url):
    client.force_login(resident)
    url, verifier = authorize_url(code_challenge="a" * 50, code_challenge_method="plain")
    response = client.get(url)
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_unregistered_redirect_uri_never_redirects(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url(redirect_uri="https://atacante.example/robar")
    response = client.get(url)
    assert response.status_code == 400
    assert "atacante" not in response.get("Location", "")
    assert "No podemos continuar" in response.content.decode()


def test_unknown_client_shows_spanish_error(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url(client_id="no-existe")
    response = client.get(url)
    assert response.status_code in (400, 401)
    assert "No podemos continuar con el inicio de sesión" in response.content.decode()


def test_consent_page_is_spanish_and_lists_each_scope(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url()
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "¿Permites que Decidim Torreón use tu Llave?" in html
    assert "Tu nombre" in html and "Tu correo electrónico" in html and "Tu CURP" in html
    assert resident.curp in html and resident.email in html and "Ana Lucía Treviño Soto" in html
    assert ">Permitir</button>" in html and ">No permitir</button>" in html
    assert "<h1>" in html and html.count("<h1>") == 1
    assert "style=" not in html and "<script>" not in html


def test_consent_page_only_lists_requested_scopes(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url(scope="openid email")
    html = client.get(url).content.decode()
    assert "Tu correo electrónico" in html
    assert "Tu CURP" not in html and resident.curp not in html


def test_consent_page_allows_posting_to_the_client_origin(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url()
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert "'self'" in form_action and "http://127.0.0.1:9" in form_action
    # Other pages keep the strict policy.
    other = client.get("/llave/mis-datos/")["Content-Security-Policy"]
    assert "127.0.0.1:9" not in other


def test_denial_returns_access_denied_and_records_nothing(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url()
    page = client.get(url)
    response = client.post(url, consent_form_data(page.content.decode(), allow=False))
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "access_denied"
    assert params["state"] == "estado-123"
    assert not Consent.objects.filter(resident=resident).exists()


def test_allow_issues_code_and_records_consent_and_audit(client, resident, authorize_url, oidc_app):
    application, _ = oidc_app
    client.force_login(resident)
    url, _ = authorize_url()
    page = client.get(url)
    response = client.post(url, consent_form_data(page.content.decode(), allow=True))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    params = query_of(response["Location"])
    assert params["code"] and params["state"] == "estado-123"
    consent = Consent.objects.get(resident=resident)
    assert consent.grantee_kind == "application"
    assert consent.application == application
    assert consent.grantee_label == "Decidim Torreón"
    assert consent.scope == "Identificarte con tu Llave, Tu nombre, Tu correo electrónico, Tu CURP"
    assert consent.purpose == "Iniciar sesión en Decidim Torreón"
    assert consent.is_active
    entry = AuditEntry.objects.get(action="identity.oidc_consent")
    assert entry.actor_id == resident.pk and entry.data["scopes"] == ["openid", "profile", "email", "curp"]


def test_remembered_consent_skips_the_screen_until_revoked(client, resident, authorize_url):
    from ventanilla.identity.oidc_services import revoke_application_access

    client.force_login(resident)
    url, _ = authorize_url(scope="openid profile")
    page = client.get(url)
    client.post(url, consent_form_data(page.content.decode(), allow=True))

    # Same or fewer scopes: straight back to the application with a code.
    again, _ = authorize_url(scope="openid")
    response = client.get(again)
    assert response.status_code == 302 and "code" in query_of(response["Location"])

    # prompt=consent always asks.
    forced, _ = authorize_url(scope="openid", prompt="consent")
    assert client.get(forced).status_code == 200

    # More scopes: asks again, and the consent widens (still one active row).
    wider, _ = authorize_url(scope="openid profile curp")
    page = client.get(wider)
    assert page.status_code == 200
    client.post(wider, consent_form_data(page.content.decode(), allow=True))
    active = Consent.objects.filter(resident=resident, revoked_at__isnull=True)
    assert active.count() == 1
    assert active.get().scope == "Identificarte con tu Llave, Tu nombre, Tu CURP"

    revoke_application_access(active.get())
    response = client.get(again)
    assert response.status_code == 200  # the consent screen again
    assert "¿Permites que" in response.content.decode()


def test_tampered_scope_in_post_is_limited_to_known_scopes(client, resident, authorize_url):
    client.force_login(resident)
    url, _ = authorize_url(scope="openid")
    data = consent_form_data(client.get(url).content.decode(), allow=True)
    data["scope"] = "openid admin"
    response = client.post(url, data)
    assert response.status_code == 302
    assert "code" not in query_of(response["Location"])
    assert not Consent.objects.filter(resident=resident).exists()


def test_official_needs_the_second_factor_before_an_application_gets_them(client, make_official, authorize_url):
    official = make_official("reviewer")
    client.force_login(official)  # password only
    url, _ = authorize_url(scope="openid profile")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/llave/segundo-factor/")
    assert "code=" not in response["Location"]


def test_official_can_also_sign_in_to_an_application(client, make_official, authorize_url, login_official):
    official = make_official("reviewer")
    login_official(official)
    url, _ = authorize_url(scope="openid profile")
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, consent_form_data(page.content.decode(), allow=True))
    assert "code" in query_of(response["Location"])


def test_sign_in_page_allows_the_registered_application_origin_only(client, authorize_url):
    """With a remembered consent, the redirect chain after the sign-in POST ends at the
    application: the sign-in page's CSP must allow that origin and nothing else."""
    url, _ = authorize_url(scope="openid")
    response = client.get("/llave/entrar/", {"next": url})
    form_action = [d for d in response["Content-Security-Policy"].split(";") if "form-action" in d][0]
    assert "http://127.0.0.1:9" in form_action
    plain = client.get("/llave/entrar/")
    assert "127.0.0.1:9" not in plain["Content-Security-Policy"]


def test_signed_out_official_reaches_the_application_after_the_second_factor(client, make_official, authorize_url):
    """The authorization request survives the sign-in and the second factor whole (every
    parameter of its query string), so the application gets its code."""
    from django_otp.oath import totp

    official = make_official("reviewer")
    device = official.totpdevice_set.get()
    url, _ = authorize_url(scope="openid profile")
    login_page = client.get(url)
    assert login_page.status_code == 302
    response = client.post(login_page["Location"], {"identifier": official.email, "password": "clave de servidor muy segura"})
    assert response.status_code == 302
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    assert response["Location"] == url
    page = client.get(url)
    response = client.post(url, consent_form_data(page.content.decode(), allow=True))
    assert "code" in query_of(response["Location"])
