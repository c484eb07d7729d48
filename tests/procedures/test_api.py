"""The residents' API (/api/v1/tramites-en-linea/): a whole request from draft to submission,
and every refusal as a JSON 4xx with a Spanish message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.procedures_fixtures import LICENCE_PAGES
from ventanilla.core.models import Job
from ventanilla.procedures import api as procedures_api
from ventanilla.procedures import services
from ventanilla.procedures.models import Channel, Request, Status

from .journey_support import file_request, store_doc

pytestmark = pytest.mark.django_db

BASE = "/api/v1/tramites-en-linea"
ADDRESS = {k.split(".", 1)[1]: v for k, v in LICENCE_PAGES["local"].items() if k.startswith("domicilio.")}


@pytest.fixture
def resident(make_resident):
    return make_resident()


@pytest.fixture
def api(client, resident):
    client.force_login(resident)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def put(client, url, data):
    return client.put(url, data, content_type="application/json")


def start(api, clave="TOR-DGDE-001"):
    response = post(api, f"{BASE}/solicitudes", {"tramite": clave})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_whole_request_through_the_api(api, licence, resident):
    draft = start(api)
    assert draft["estado"] == "draft" and draft["folio"] is None and draft["canal"] == "online"
    assert draft["paginas"] == ["negocio", "fiscal", "local"]
    assert draft["borrador_vence"] is not None
    assert {s["clave"]: s["lo_tiene_el_municipio"] for s in draft["documentos"]} == {
        "identificacion": False, "comprobante_domicilio": False, "uso_suelo": True}
    url = f"{BASE}/solicitudes/{draft['id']}"

    response = put(api, f"{url}/paginas/negocio", {"respuestas": {"nombre_comercial": "Abarrotes Lupita", "giro": "abarrotes", "superficie": 48}})
    assert response.status_code == 200 and response.json()["respuestas"]["superficie"] == "48"
    assert put(api, f"{url}/paginas/fiscal", {"respuestas": LICENCE_PAGES["fiscal"]}).status_code == 200
    local = {"domicilio": ADDRESS, "clave_catastral": "001-045-012", "local_rentado": "no"}
    response = put(api, f"{url}/paginas/local", {"respuestas": local})
    assert response.status_code == 200, response.content
    assert response.json()["respuestas"]["domicilio"]["road_name"] == "JUÁREZ"

    for slot, kind in (("identificacion", "INE"), ("comprobante_domicilio", "COMPROBANTE_DOMICILIO")):
        doc = store_doc(resident, document_type=kind)
        response = post(api, f"{url}/documentos/{slot}", {"documento": str(doc.public_id)})
        assert response.status_code == 200, response.content
    body = api.get(url).json()
    assert body["faltantes"] == []
    assert {s["clave"]: s["origen"] for s in body["documentos"]}["identificacion"] == "file"

    with CaptureQueriesContext(connection) as queries:
        response = post(api, f"{url}/presentar")
    assert response.status_code == 200, response.content
    # The busiest write of the platform stays cheap: a fixed number of statements (session and
    # user, the request, one claim, what is written, the answer), no session write, no e-mail.
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= 20, "\n".join(statements)
    assert not any(sql.startswith("UPDATE") and "django_session" in sql for sql in statements)
    assert Job.objects.filter(name="notifications.email").count() == 1
    filed = response.json()
    assert filed["estado"] == "in_review" and filed["folio"].startswith("TRC-")
    assert filed["fecha_limite_respuesta"] and filed["derechos_centavos"] == 82000
    assert [e["evento"] for e in filed["historial"]] == ["created", "submitted"]

    listing = api.get(f"{BASE}/solicitudes").json()
    assert listing["total"] == 1 and listing["solicitudes"][0]["folio"] == filed["folio"]


def test_anonymous_callers_get_401(client, licence):
    response = client.get(f"{BASE}/solicitudes")
    assert response.status_code == 401 and response.json()["detail"] == "Se requiere autenticación."
    assert post(client, f"{BASE}/solicitudes", {"tramite": "TOR-DGDE-001"}).status_code == 401


def test_session_api_needs_the_csrf_token(resident, licence):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = post(client, f"{BASE}/solicitudes", {"tramite": "TOR-DGDE-001"})
    assert response.status_code == 403 and not Request.objects.exists()
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(f"{BASE}/solicitudes", {"tramite": "TOR-DGDE-001"}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_invalid_answers_are_422_with_field_errors_and_save_nothing(api, licence):
    draft = start(api)
    response = put(api, f"{BASE}/solicitudes/{draft['id']}/paginas/negocio",
                   {"respuestas": {"nombre_comercial": "", "giro": "cantina", "superficie": "9000"}})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Revisa las respuestas."
    assert {e["campo"]: e["mensaje"] for e in body["errors"]} == {
        "nombre_comercial": "Responde «Nombre comercial del negocio».",
        "giro": "Elige una de las opciones.",
        "superficie": "Debe ser como máximo 500.",
    }
    assert Request.objects.get().answers == {}
    response = put(api, f"{BASE}/solicitudes/{draft['id']}/paginas/negocio", {"respuestas": {"giro": True}})
    assert response.status_code == 422 and response.json()["errors"][0]["campo"] == "giro"
    response = put(api, f"{BASE}/solicitudes/{draft['id']}/paginas/negocio", {"respuestas": {"giro": ["a"]}})
    assert response.status_code == 422
    response = put(api, f"{BASE}/solicitudes/{draft['id']}/paginas/negocio", {"otra_cosa": 1})
    assert response.status_code == 422 and response.json()["detail"] == "Los datos enviados no son válidos."


def test_not_found_cases(api, licence, make_procedure):
    assert post(api, f"{BASE}/solicitudes", {"tramite": "NO-EXISTE-9"}).status_code == 404
    offline = make_procedure(publish=True)
    response = post(api, f"{BASE}/solicitudes", {"tramite": offline.clave})
    assert response.status_code == 404 and response.json()["detail"] == "No hay un trámite en línea con esa clave."
    draft = start(api)
    assert put(api, f"{BASE}/solicitudes/{draft['id']}/paginas/no_existe", {"respuestas": {}}).status_code == 404
    assert api.get(f"{BASE}/solicitudes/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get(f"{BASE}/solicitudes/no-es-uuid").status_code == 422
    doc = store_doc(Request.objects.get().applicant)
    assert post(api, f"{BASE}/solicitudes/{draft['id']}/documentos/no_existe", {"documento": str(doc.public_id)}).status_code == 404


def test_attaching_refusals(api, licence, resident, make_resident):
    draft = start(api)
    url = f"{BASE}/solicitudes/{draft['id']}/documentos"
    theirs = store_doc(make_resident(), document_type="INE")
    response = post(api, f"{url}/identificacion", {"documento": str(theirs.public_id)})
    assert response.status_code == 403 and response.json()["detail"] == "Ese documento no está en tu expediente."
    wrong = store_doc(resident, document_type="ACTA")
    response = post(api, f"{url}/identificacion", {"documento": str(wrong.public_id)})
    assert response.status_code == 422 and "no es del tipo" in response.json()["detail"]
    land_use = store_doc(resident, document_type="USO_SUELO")
    response = post(api, f"{url}/uso_suelo", {"documento": str(land_use.public_id)})
    assert response.status_code == 422 and response.json()["detail"] == "Lo tiene el municipio: no necesitas subirlo."
    assert not Request.objects.get().documents.exists()


def test_submitting_an_incomplete_or_filed_request(api, licence, resident):
    draft = start(api)
    response = post(api, f"{BASE}/solicitudes/{draft['id']}/presentar")
    body = response.json()
    assert response.status_code == 422 and body["detail"] == "La solicitud no está completa."
    assert "Falta responder «Nombre comercial del negocio»." in [e["mensaje"] for e in body["errors"]]
    filed = file_request(licence, resident)
    response = post(api, f"{BASE}/solicitudes/{filed.public_id}/presentar")
    assert response.status_code == 422 and "ya fue presentada" in response.json()["detail"]
    response = put(api, f"{BASE}/solicitudes/{filed.public_id}/paginas/negocio", {"respuestas": LICENCE_PAGES["negocio"]})
    assert response.status_code == 422


def test_officials_cannot_file_for_themselves(client, licence, make_official, login_official):
    official = make_official("reviewer")
    client.force_login(official)
    response = post(client, f"{BASE}/solicitudes", {"tramite": "TOR-DGDE-001"})
    assert response.status_code == 403 and "segundo factor" in response.json()["detail"]
    login_official(official)
    response = post(client, f"{BASE}/solicitudes", {"tramite": "TOR-DGDE-001"})
    assert response.status_code == 403 and "modo ventanilla" in response.json()["detail"]


def test_status_shows_the_pending_correction(api, licence, resident, reviewers):
    filed = file_request(licence, resident)
    services.request_correction(filed, official=reviewers[0], text="Falta la firma.", expected_revision=filed.revision)
    body = api.get(f"{BASE}/solicitudes/{filed.public_id}").json()
    assert body["estado"] == Status.CORRECTION and body["prevencion"]["texto"] == "Falta la firma."
    assert body["historial"][-1]["evento"] == "correction_requested"


def test_error_mapping():
    reply = procedures_api._from_exception(services.Conflict("Otra persona la cambió."))
    assert reply.status_code == 409 and reply.value == {"detail": "Otra persona la cambió.", "errors": []}
    reply = procedures_api._from_exception(services.NotAllowed("No.", {"documento": "No es tuyo."}))
    assert reply.status_code == 403 and reply.value["errors"] == [{"campo": "documento", "mensaje": "No es tuyo."}]
    reply = procedures_api._from_exception(services.ProcedureError("Incompleta.", {"__all__": "Falta A.\nFalta B."}))
    assert reply.status_code == 422 and [e["mensaje"] for e in reply.value["errors"]] == ["Falta A.", "Falta B."]


def test_kiosk_requests_through_the_api_are_recorded_as_kiosk(client, licence, resident, settings):
    settings.VENTANILLA_KIOSK_TOKENS = ["terminal-api-kiosk-0123456789abcdef"]
    client.get("/kiosco/activar/terminal-api-kiosk-0123456789abcdef/")
    client.force_login(resident)
    assert start(client)["canal"] == Channel.KIOSK


def test_the_list_is_paginated_and_only_mine(api, licence, resident, make_resident):
    for _ in range(3):
        services.start_draft(licence, applicant=resident)
    services.start_draft(licence, applicant=make_resident())
    body = api.get(f"{BASE}/solicitudes?limit=2&offset=1").json()
    assert body["total"] == 3 and len(body["solicitudes"]) == 2
    assert api.get(f"{BASE}/solicitudes?limit=0").status_code == 422
