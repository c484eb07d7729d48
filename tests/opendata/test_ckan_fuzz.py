"""Schemathesis over the CKAN Action API's OpenAPI document (/api/3/openapi.json), valid and
invalid inputs: no action ever answers with a server error, and every error comes back in CKAN's
envelope with a message."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from tests.schema_fuzz import fuzz_every_operation
from ventanilla.identity.models import Role
from ventanilla.opendata import services
from ventanilla.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def ckan_schema(department, make_official, keep_test_connection):
    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    services.upsert_theme(name="servicios", title="Servicios públicos")
    dataset = services.create_dataset(by=publisher, data={
        "owner_org": department, "name": "luminarias", "title": "Alumbrado", "tags": ["alumbrado"],
        "groups": ["servicios"],
    })
    services.create_resource(dataset, by=publisher, data={"name": "Enlace", "url": "https://datos.example.mx/x.csv"})
    return schemathesis.openapi.from_wsgi("/api/3/openapi.json", application)


def _ckan_envelope(where: str, response) -> None:
    body = response.json()
    assert isinstance(body.get("help"), str), (where, body)
    if response.status_code >= 400:
        assert body["success"] is False, (where, body)
        assert isinstance(body["error"].get("message"), str) and body["error"]["message"], (where, body)
        assert body["error"]["__type"] in ("Validation Error", "Not Found Error", "Authorization Error",
                                           "Bad Request"), (where, body)
    else:
        assert body["success"] is True, (where, body)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_ckan_api_never_fails_on_any_input(ckan_schema, mode):
    fuzzed, total = fuzz_every_operation(ckan_schema, mode, _ckan_envelope, max_examples=15)
    assert total >= 27  # 12 read actions × GET and POST, 3 write actions
    assert fuzzed >= (total if mode is GenerationMode.POSITIVE else 10)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_datastore_search_on_a_real_table_never_fails(department, make_official, keep_test_connection, mode):
    """The generic fuzz rarely names an existing resource; here every generated call queries a
    real typed table, so filters, q, fields, sort, limit and offset all reach the datastore."""
    import io

    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    dataset = services.create_dataset(by=publisher, data={"owner_org": department, "title": "Parques"})
    csv = "nombre,superficie_m2,apertura,activo\nPlaza de Armas,12500,1950-05-05,sí\nBosque,410000,1910-01-01,no\n"
    resource = services.create_resource(dataset, by=publisher, data={"name": "Parques"},
                                        upload=io.BytesIO(csv.encode()), filename="parques.csv")
    schema = schemathesis.openapi.from_wsgi("/api/3/openapi.json", application)
    operation = schema["/api/3/action/datastore_search"]["GET"]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case):
        if isinstance(case.query, dict):
            case.query["resource_id"] = str(resource.pk)
        response = case.call()
        statuses.append(response.status_code)
        assert response.status_code < 500, f"{case.query!r:.300} → {response.status_code}: {response.text[:300]}"
        body = response.json()
        assert body["success"] is (response.status_code == 200), body
        if response.status_code >= 400:
            assert body["error"]["message"], body

    check()
    assert 200 in statuses and any(400 <= s < 500 for s in statuses), sorted(set(statuses))
