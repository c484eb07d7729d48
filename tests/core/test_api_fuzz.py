"""Schemathesis generates requests from the platform's own OpenAPI schema — valid ones and
deliberately invalid ones — and checks that no endpoint answers with a server error or breaks its
documented schema. Bad input must come back as a 4xx with a Spanish JSON message, never a 500."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from tests.schema_fuzz import fuzz_every_operation
from ventanilla.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(make_procedure, keep_test_connection):
    make_procedure(publish=True)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def _spanish_detail(where: str, response) -> None:
    if response.status_code >= 400 and response.status_code != 405:
        body = response.json()
        assert isinstance(body.get("detail"), str) and body["detail"], (where, body)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_never_fails_on_any_input(api_schema, mode):
    fuzzed, total = fuzz_every_operation(api_schema, mode, _spanish_detail, max_examples=25)
    assert total >= 7
    assert fuzzed >= (total if mode is GenerationMode.POSITIVE else 4)


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{no es json", "[" * 100_000])
def test_a_body_that_is_not_json_is_a_400_in_spanish(client, body):
    # The second is valid-looking JSON nested deeper than Python's decoder can go.
    response = client.post("/api/v1/identidad/curp/validar", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "El cuerpo de la solicitud no es JSON válido."}
