"""Schemathesis over one of the platform's OpenAPI documents, shared by the /api/v1 and the CKAN
API suites: every operation, valid or deliberately invalid input, never a server error."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode


def fuzz_every_operation(schema, mode: GenerationMode, check_response: Callable[[str, object], None],
                         *, max_examples: int) -> tuple[int, int]:
    """Runs `max_examples` generated calls per operation; `check_response(where, response)` adds
    the API's own rules. Returns (operations fuzzed, operations in the schema): an operation with
    no parameters has no invalid input to generate."""
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = 0
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call()
            where = f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.200}"
            assert response.status_code < 500, f"{where} → {response.status_code}: {response.text[:300]}"
            check_response(where, response)
            if mode is GenerationMode.POSITIVE:
                case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed += 1
    return fuzzed, len(operations)
