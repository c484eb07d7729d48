"""Any input to the resident's pages and API is saved or refused with a Spanish message, never a
server error (control characters included, which PostgreSQL refuses in text and JSON)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.procedures_fixtures import LICENCE_PAGES
from ventanilla.procedures import services
from ventanilla.procedures.models import Status

pytestmark = pytest.mark.django_db

FIELD_NAMES = sorted({k for data in LICENCE_PAGES.values() for k in data} | {"contrato", "accion"})
PAGES = sorted(LICENCE_PAGES)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
HYPOTHESIS = settings(max_examples=40, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def draft(client, licence, make_resident):
    resident = make_resident()
    client.force_login(resident)
    return services.start_draft(licence, applicant=resident)


@HYPOTHESIS
@given(page=st.sampled_from(PAGES),
       data=st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=20), st.text(max_size=60), max_size=10))
def test_any_form_post_is_saved_or_refused(client, draft, page, data):
    response = client.post(reverse("procedures:page", args=[draft.public_id, page]), data)
    assert response.status_code in (302, 400), response.status_code
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@HYPOTHESIS
@given(page=st.sampled_from(PAGES),
       answers=st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=20), JSON, max_size=8))
def test_any_json_answers_are_saved_or_refused(client, draft, page, answers):
    response = client.put(f"/api/v1/tramites-en-linea/solicitudes/{draft.public_id}/paginas/{page}",
                          {"respuestas": answers}, content_type="application/json")
    assert response.status_code in (200, 422), (response.status_code, response.content[:300])
    if response.status_code == 422:
        assert response.json()["detail"]


@HYPOTHESIS
@given(text=st.text(max_size=80))
def test_any_message_or_correction_text(client, licence, make_resident, reviewers, text):
    from .journey_support import file_request

    resident = make_resident()
    client.force_login(resident)
    req = file_request(licence, resident)
    response = client.post(reverse("procedures:message", args=[req.public_id]), {"mensaje": text})
    assert response.status_code in (302, 400)
    req.refresh_from_db()
    services.request_correction(req, official=reviewers[0], text="Falta algo", expected_revision=req.revision)
    response = client.post(reverse("procedures:correction", args=[req.public_id]), {"respuesta": text})
    assert response.status_code in (302, 400)
