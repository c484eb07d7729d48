"""The resident's "Aplicaciones conectadas" pages: who may see and disconnect what."""

from __future__ import annotations

import pytest

from ventanilla.identity import oidc_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def consent(make_resident, oidc_app):
    resident = make_resident()
    return oidc_services.record_application_consent(resident, oidc_app[0], ["openid", "email"])


def test_anonymous_is_sent_to_login(client, consent):
    for url in ("/o/conexiones/", f"/o/conexiones/{consent.pk}/desconectar/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/llave/entrar/")
    response = client.post(f"/o/conexiones/{consent.pk}/desconectar/")
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.is_active


def test_resident_sees_own_connections(client, consent):
    client.force_login(consent.resident)
    html = client.get("/o/conexiones/").content.decode()
    assert "Decidim Torreón" in html and "Tu correo electrónico" in html
    assert "Iniciar sesión en Decidim Torreón" in html


def test_other_resident_cannot_see_or_revoke(client, consent, make_resident):
    intruder = make_resident()
    client.force_login(intruder)
    assert "Decidim Torreón" not in client.get("/o/conexiones/").content.decode()
    assert client.get(f"/o/conexiones/{consent.pk}/desconectar/").status_code == 404
    assert client.post(f"/o/conexiones/{consent.pk}/desconectar/").status_code == 404
    consent.refresh_from_db()
    assert consent.is_active


def test_official_cannot_revoke_a_residents_consent(client, consent, make_official, login_official):
    official = make_official("platform_admin")
    login_official(official)
    assert client.post(f"/o/conexiones/{consent.pk}/desconectar/").status_code == 404


def test_owner_confirms_and_disconnects(client, consent):
    client.force_login(consent.resident)
    page = client.get(f"/o/conexiones/{consent.pk}/desconectar/")
    assert "¿Desconectar Decidim Torreón de tu Llave?" in page.content.decode()
    response = client.post(f"/o/conexiones/{consent.pk}/desconectar/", follow=True)
    assert "Desconectaste Decidim Torreón" in response.content.decode()
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    # Already revoked: nothing to confirm any more.
    assert client.get(f"/o/conexiones/{consent.pk}/desconectar/").status_code == 404


def test_csrf_is_enforced_on_disconnect(consent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(consent.resident)
    assert strict.post(f"/o/conexiones/{consent.pk}/desconectar/").status_code == 403
    consent.refresh_from_db()
    assert consent.is_active
