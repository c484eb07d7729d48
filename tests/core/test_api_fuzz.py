"""Schemathesis generates requests from the platform's own OpenAPI schema — valid ones and
deliberately invalid ones — and checks that no endpoint answers with a server error or breaks its
documented schema. Bad input must come back as a 4xx with a Spanish JSON message, never a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from ventanilla.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes the database connection when a request finishes; inside a
    test transaction that would close the test's own connection (Django's test client detaches
    the same signals)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(make_procedure, keep_test_connection):
    make_procedure(publish=True)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_never_fails_on_any_input(api_schema, mode):
    operations = _operations(api_schema)
    assert len(operations) >= 7
    fuzzed = 0
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call()
            where = f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.200}"
            assert response.status_code < 500, f"{where} → {response.status_code}"
            if response.status_code >= 400 and response.status_code != 405:
                body = response.json()
                assert isinstance(body.get("detail"), str) and body["detail"], (where, body)
            if mode is GenerationMode.POSITIVE:
                case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid input to generate.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed += 1
    assert fuzzed >= (len(operations) if mode is GenerationMode.POSITIVE else 4)
