from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ventanilla.catalog import selectors, services

API = "/api/v1/catalogo"


@pytest.fixture
def published(make_procedure, other_department):
    a = make_procedure(publish=True, clave="TOR-DGDE-001", name="Licencia de funcionamiento",
                       keywords=["abrir negocio"], description="=HYPERLINK(\"x\") para tu negocio")
    b = make_procedure(publish=True, clave="TOR-TES-001", name="Pago del impuesto predial", department=other_department,
                       channel_in_person=False, channel_online=True, life_events=[], cost_kind="free",
                       cost_amount_centavos=None, payment_alternatives=[])
    c = make_procedure(publish=True, clave="TOR-DGDE-002", name="Anuncio publicitario", channel_online=False)
    make_procedure(clave="TOR-DGDE-009", name="Borrador secreto")
    services.save_synonym("tiendita", "licencia de funcionamiento")
    return a, b, c


def test_list_paginates_and_filters(client, published):
    data = client.get(f"{API}/tramites", {"page_size": 2}).json()
    assert data["count"] == 3 and len(data["results"]) == 2 and data["results"][0]["clave"] == "TOR-DGDE-002"
    assert client.get(f"{API}/tramites", {"page": 2, "page_size": 2}).json()["results"][0]["clave"] == "TOR-TES-001"
    assert [r["clave"] for r in client.get(f"{API}/tramites", {"momento": "negocios"}).json()["results"]] == [
        "TOR-DGDE-002", "TOR-DGDE-001"]
    assert client.get(f"{API}/tramites", {"dependencia": "tesoreria"}).json()["count"] == 1
    assert client.get(f"{API}/tramites", {"en_linea": "false"}).json()["count"] == 1


@pytest.mark.parametrize("params", [{"page": 0}, {"page_size": 1000}, {"page": "abc"}, {"momento": "x" * 65}])
def test_list_rejects_bad_parameters_in_spanish(client, params):
    response = client.get(f"{API}/tramites", params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Los datos enviados no son válidos." and body["errors"][0]["mensaje"]


def test_detail_has_every_legal_field(client, published):
    data = client.get(f"{API}/tramites/TOR-DGDE-001").json()
    for key in ("legal_basis", "modality", "requirements", "cost", "ficta", "prevention_days", "correction_days",
                "validity", "offices", "complaint_channels", "steps", "channels"):
        assert key in data
    assert data["cost"] == {"kind": "fixed", "amount_mxn": "1250.00", "description": "", "parameters": [],
                            "formula": "", "payment_alternatives": ["en_linea", "caja"]}
    assert data["requirements"][0]["document_code"] == "INE"
    assert data["offices"][0]["hours"]


def test_detail_hides_drafts_and_unknown(client, published):
    assert client.get(f"{API}/tramites/TOR-DGDE-009").status_code == 404
    assert client.get(f"{API}/tramites/NOPE").json() == {"detail": "No encontrado."}


def test_search_endpoint(client, published):
    data = client.get(f"{API}/buscar", {"q": "quiero abrir una tiendita"}).json()
    assert data["results"][0]["clave"] == "TOR-DGDE-001"
    assert client.get(f"{API}/buscar", {"q": ""}).status_code == 422
    assert client.get(f"{API}/buscar", {"q": "x" * 201}).status_code == 422
    assert client.get(f"{API}/buscar", {"q": "licencia", "limit": 0}).status_code == 422


def test_life_events_and_most_requested(client, published):
    a, b, c = published
    assert client.get(f"{API}/momentos-de-vida").json() == [
        {"slug": "negocios", "name": "Negocios y emprendimiento", "description": "", "order": 1, "count": 2}]
    today = timezone.localdate()
    for _ in range(10):
        services.record_view(b, today)
    services.record_start(a, today)  # 5 points
    services.record_view(a, today - timedelta(days=5))
    services.record_start(c, today)
    services.record_view(c, today)  # ties with a: by name, "Anuncio..." first
    services.record_view(a, today - timedelta(days=200))  # outside the window
    assert [p.clave for p in selectors.most_requested()] == ["TOR-TES-001", "TOR-DGDE-002", "TOR-DGDE-001"]
    data = client.get(f"{API}/mas-solicitados", {"limit": 1}).json()
    assert [p["clave"] for p in data] == ["TOR-TES-001"]
    assert client.get(f"{API}/mas-solicitados", {"limit": 500}).status_code == 422


def test_selectors(published, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        p = selectors.procedure_by_clave("tor-dgde-001")
        assert [r.document_type.code for r in p.requirements.all()] == ["INE"]
        assert [o.name for o in p.offices.all()] and [e.slug for e in p.life_events.all()] == ["negocios"]
    assert selectors.procedure_by_clave("TOR-DGDE-009") is None
    assert [p.clave for p in selectors.procedures_in_life_event("negocios")] == ["TOR-DGDE-002", "TOR-DGDE-001"]
    assert selectors.search("predial")[0].clave == "TOR-TES-001"


def test_openapi_documents_the_catalogue(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/catalogo/tramites/{clave}" in schema["paths"]
    assert "ProcedureDetailOut" in schema["components"]["schemas"]


def test_csv_export(client, published):
    response = client.get(reverse("catalog:export_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["Clave"] for r in rows] == ["TOR-DGDE-001", "TOR-DGDE-002", "TOR-TES-001"]
    assert rows[0]["Fundamento jurídico"].startswith("Reglamento")
    assert rows[0]["Descripción"].startswith("'=")  # no formula injection
    assert rows[2]["Costo"] == "Gratuito"


def test_jsonld_export(client, published):
    response = client.get(reverse("catalog:export_jsonld"))
    assert response["Content-Type"].startswith("application/ld+json")
    doc = json.loads(response.content)
    assert "@context" in doc and doc["@context"]["cpsv"] == "http://purl.org/vocab/cpsv#"
    services_ = doc["@graph"]
    assert len(services_) == 3
    s = services_[0]
    assert s["@type"] == "cpsv:PublicService" and s["dct:identifier"] == "TOR-DGDE-001"
    for key in ("dct:title", "dct:description", "cv:hasCompetentAuthority", "cv:hasChannel", "cv:hasCost",
                "cv:hasInput", "cv:hasCriterionRequirement", "cv:processingTime"):
        assert key in s
    assert s["cv:processingTime"] == "P5D" and s["cv:hasCost"][0]["cv:value"] == "1250.00"
    assert s["cv:hasInput"][0]["dct:identifier"] == "INE"
