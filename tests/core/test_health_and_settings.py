import pytest
from django.conf import settings


def test_health_reports_database(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response["X-Request-ID"]


def test_production_hasher_is_argon2():
    import ventanilla.settings as base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_strict_csp_on_pages(client, db):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_theme_css_comes_from_configuration(client, db):
    response = client.get("/theme.css")
    assert settings.CITY["primary_color"] in response.content.decode()


def test_manifest_names_the_city_app(client, db):
    data = client.get("/manifest.webmanifest").json()
    assert data["short_name"] == settings.CITY["short_name"]
    assert data["lang"] == "es-MX"


def test_service_worker_is_served_from_root_scope(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"


@pytest.mark.parametrize("url", ["/no-existe/", "/tramites/nada/de/nada/"])
def test_not_found_is_spanish(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "No encontramos esta página" in response.content.decode()


def test_spanish_first_whatever_the_browser_says(client, db):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="es-MX">' in response.content.decode()
    assert response["Content-Language"] == "es-mx"


def test_english_when_the_person_chooses_it(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()


def test_one_use_tokens_never_reach_the_request_log():
    from ventanilla.core.middleware import loggable_path

    assert loggable_path("/llave/confirmar/abc.def-ghi/") == "/llave/confirmar/…"
    assert loggable_path("/llave/contrasena/nueva/MQ/c3x-123/") == "/llave/contrasena/nueva/…"
    assert loggable_path("/tramites/TOR-DGDE-001/") == "/tramites/TOR-DGDE-001/"


def test_djangos_own_request_warnings_carry_the_request_id(client, db, caplog):
    import logging

    from ventanilla.core.logging import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no-existe/", HTTP_X_REQUEST_ID="abcdef123456")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and records[0].request_id == response["X-Request-ID"] == "abcdef123456"


def test_request_id_is_cleared_when_the_request_finishes(client, db):
    from ventanilla.core.logging import request_id_var

    client.get("/health", HTTP_X_REQUEST_ID="abcdef123456")
    assert request_id_var.get() == "-"
