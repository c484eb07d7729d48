"""Kiosk mode: a public terminal activated by a configured token. The marker changes only the
presentation and the session policy (no stored credentials, cookies that die with the browser,
sign-out after inactivity, no cached pages) and records the channel; it grants nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.urls import reverse

from ventanilla.audit.models import AuditEntry
from ventanilla.procedures import kiosk, services
from ventanilla.procedures.models import Channel, Request

from .journey_support import file_request

pytestmark = pytest.mark.django_db

TOKEN = "terminal-palacio-municipal-7f3a9c2e"
STATIC = Path(kiosk.__file__).parent / "static" / "procedures"


@pytest.fixture(autouse=True)
def kiosk_settings(settings):
    settings.VENTANILLA_KIOSK_TOKENS = [TOKEN, "corto"]
    settings.VENTANILLA_KIOSK_IDLE_SECONDS = 120
    settings.VENTANILLA_KIOSK_WARNING_SECONDS = 30
    return settings


@pytest.fixture
def terminal(client):
    response = client.get(reverse("procedures:kiosk_activate", args=[TOKEN]))
    assert response.status_code == 302 and response["Location"] == reverse("procedures:kiosk")
    return client


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_an_ordinary_browser_is_not_a_kiosk(client):
    page = client.get(reverse("procedures:kiosk")).content.decode()
    assert "no está configurado como kiosco" in page
    assert "kiosk.css" not in page and 'class=" kiosk"' not in page and "kiosk-idle" not in page


def test_unknown_or_too_short_tokens_do_nothing(client):
    for token in ("otro-token-que-no-existe-en-settings", "corto", TOKEN + "x"):
        response = client.get(reverse("procedures:kiosk_activate", args=[token]))
        assert response.status_code == 404
        assert kiosk.cookie_name() not in response.cookies


def test_activation_sets_a_signed_cookie_and_turns_on_the_kiosk_presentation(terminal, kiosk_settings):
    cookie = terminal.cookies[kiosk.cookie_name()]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 30 * 24 * 3600
    assert TOKEN not in cookie.value  # the cookie names the terminal, it does not carry its secret
    response = terminal.get(reverse("procedures:kiosk"))
    page = response.content.decode()
    assert '<body class=" kiosk">' in page
    assert "procedures/kiosk.css" in page and "procedures/kiosk.js" in page
    assert 'id="kiosk-idle"' in page and 'data-idle="120"' in page and 'data-warning="30"' in page
    assert "Entrar con mi Llave" in page
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="procedures.kiosk_activated").exists()


def test_a_forged_or_revoked_kiosk_cookie_is_ignored(client, terminal, kiosk_settings):
    client.cookies[kiosk.cookie_name()] = kiosk.terminal_id(TOKEN)  # right value, no signature
    assert "kiosk.css" not in client.get(reverse("portal:home")).content.decode()
    terminal.get(reverse("procedures:kiosk_activate", args=[TOKEN]))
    assert "kiosk.css" in terminal.get(reverse("portal:home")).content.decode()
    kiosk_settings.VENTANILLA_KIOSK_TOKENS = ["un-token-nuevo-para-el-mismo-equipo"]
    assert "kiosk.css" not in terminal.get(reverse("portal:home")).content.decode()


def test_the_kiosk_sign_in_page_stores_no_credentials(terminal):
    response = terminal.get(reverse("identity:login") + "?next=/solicitudes/")
    assert response.status_code == 302 and response["Location"] == reverse("procedures:kiosk_login") + "?next=/solicitudes/"
    page = terminal.get(response["Location"]).content.decode()
    assert '<form method="post" action="/kiosco/entrar/" autocomplete="off"' in page
    assert page.count('autocomplete="off"') >= 3
    assert 'autocomplete="current-password"' not in page and 'autocomplete="username"' not in page
    assert "recordar" not in page.lower()


def test_kiosk_sign_in_session_ends_with_the_browser(terminal, make_resident):
    resident = make_resident(password="una frase larga y secreta 2026")
    response = terminal.post(reverse("procedures:kiosk_login"),
                             {"identifier": resident.email, "password": "una frase larga y secreta 2026", "next": "/solicitudes/"})
    assert response.status_code == 302 and response["Location"] == "/solicitudes/"
    assert _signed_in(terminal)
    from django.conf import settings

    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["expires"] == "" and session_cookie["max-age"] == ""
    assert terminal.session.get_expire_at_browser_close()


def test_a_wrong_password_on_the_kiosk_is_a_clear_error(terminal, make_resident):
    resident = make_resident()
    response = terminal.post(reverse("procedures:kiosk_login"), {"identifier": resident.email, "password": "no es esta"})
    assert response.status_code == 400 and not _signed_in(terminal)
    assert 'class="error-summary"' in response.content.decode()


def test_officials_never_sign_in_on_a_public_kiosk(terminal, make_official):
    official = make_official("reviewer")
    response = terminal.post(reverse("procedures:kiosk_login"),
                             {"identifier": official.email, "password": "clave de servidor muy segura"})
    assert response.status_code == 403 and not _signed_in(terminal)
    assert "solo entran residentes" in response.content.decode()


def test_the_kiosk_sign_in_page_is_only_for_kiosks(client):
    response = client.get(reverse("procedures:kiosk_login"))
    assert response.status_code == 302 and response["Location"] == reverse("identity:login")


def test_idle_sessions_are_signed_out_on_the_server(terminal, make_resident, kiosk_settings):
    terminal.force_login(make_resident())
    terminal.get(reverse("procedures:my_requests"))
    session = terminal.session
    session[kiosk.LAST_SEEN_KEY] = time.time() - 60
    session.save()
    assert terminal.get(reverse("procedures:my_requests")).status_code == 200  # within the limit
    session = terminal.session
    session[kiosk.LAST_SEEN_KEY] = time.time() - 121
    session.save()
    response = terminal.get(reverse("procedures:my_requests"))
    assert response.status_code == 302 and response["Location"] == reverse("procedures:kiosk")
    assert not _signed_in(terminal)
    assert "sin actividad" in terminal.get(reverse("procedures:kiosk")).content.decode()
    assert AuditEntry.objects.filter(action="procedures.kiosk_idle_sign_out").count() == 1


def test_idle_sign_out_on_the_api_is_a_json_401(terminal, make_resident):
    terminal.force_login(make_resident())
    terminal.get(reverse("procedures:kiosk"))
    session = terminal.session
    session[kiosk.LAST_SEEN_KEY] = time.time() - 500
    session.save()
    response = terminal.get("/api/v1/tramites-en-linea/solicitudes")
    assert response.status_code == 401 and "sin actividad" in response.json()["detail"]


def test_the_idle_limit_does_not_apply_off_the_kiosk(client, make_resident):
    client.force_login(make_resident())
    session = client.session
    session[kiosk.LAST_SEEN_KEY] = time.time() - 10_000
    session.save()
    assert client.get(reverse("procedures:my_requests")).status_code == 200


def test_still_here_is_activity(terminal, make_resident):
    terminal.force_login(make_resident())
    session = terminal.session
    session[kiosk.LAST_SEEN_KEY] = time.time() - 100
    session.save()
    response = terminal.get(reverse("procedures:kiosk_still_here"))
    assert response.status_code == 204 and "no-store" in response["Cache-Control"]
    assert time.time() - terminal.session[kiosk.LAST_SEEN_KEY] < 60


def test_requests_started_at_a_kiosk_are_recorded_as_kiosk(terminal, licence, make_resident):
    resident = make_resident()
    terminal.force_login(resident)
    terminal.post(reverse("procedures:start", args=[licence.procedure.clave]))
    assert Request.objects.get(applicant=resident).channel == Channel.KIOSK


def test_the_kiosk_marker_grants_nothing(terminal, licence, make_resident):
    other = file_request(licence, make_resident())
    resident = make_resident()
    terminal.force_login(resident)
    assert terminal.get(reverse("procedures:status", args=[other.public_id])).status_code == 404
    assert terminal.get(reverse("identity:backoffice")).status_code == 403
    terminal.logout()
    response = terminal.get(reverse("procedures:my_requests"))
    assert response.status_code == 302 and "/llave/entrar/" in response["Location"]


def test_deactivation_needs_the_token(terminal):
    assert terminal.post(reverse("procedures:kiosk_deactivate", args=["no-es-el-token-correcto-1234"])).status_code == 404
    assert "Desactivar" in terminal.get(reverse("procedures:kiosk_deactivate", args=[TOKEN])).content.decode()
    response = terminal.post(reverse("procedures:kiosk_deactivate", args=[TOKEN]))
    assert response.status_code == 302
    assert "kiosk.css" not in terminal.get(reverse("portal:home")).content.decode()


def test_printable_receipts_and_large_targets():
    css = (STATIC / "kiosk.css").read_text()
    assert "min-height: 56px" in css and "@media print" in css
    journey_css = (STATIC / "journey.css").read_text()
    assert "@media print" in journey_css and ".site-header" in journey_css


def test_confirmation_page_can_be_printed(terminal, licence, make_resident):
    resident = make_resident()
    req = file_request(licence, resident)
    terminal.force_login(resident)
    page = terminal.get(reverse("procedures:confirmation", args=[req.public_id])).content.decode()
    assert 'class="button button--secondary js-print" hidden' in page and "procedures/journey.css" in page


def test_services_channel_is_unchanged_off_the_kiosk(client, licence, make_resident):
    resident = make_resident()
    client.force_login(resident)
    client.post(reverse("procedures:start", args=[licence.procedure.clave]))
    assert Request.objects.get(applicant=resident).channel == Channel.ONLINE
    assert services.start_draft(licence, applicant=resident, channel=Channel.KIOSK).channel == Channel.KIOSK
