"""Acceptance 4 (residents): a resident reaches none of another resident's requests — every
journey URL, every API endpoint, the acuse and the status page, for every id that exists — nor
another's uploaded documents, issued documents or payment receipts. Every attempt is a 404 and
changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ventanilla.documents.models import IssuedDocument
from ventanilla.files.models import ResidentDocument
from ventanilla.procedures import services
from ventanilla.procedures.models import Channel, Request, RequestEvent, Status

from .journey_support import file_request, pdf_upload, store_doc

pytestmark = pytest.mark.django_db

API = "/api/v1/tramites-en-linea/solicitudes"


def journey_gets(public_id) -> list[str]:
    return [
        reverse("procedures:status", args=[public_id]),
        reverse("procedures:page", args=[public_id, "negocio"]),
        reverse("procedures:documents", args=[public_id]),
        reverse("procedures:check", args=[public_id]),
        reverse("procedures:confirmation", args=[public_id]),
        reverse("procedures:acuse", args=[public_id]),
    ]


def journey_posts(public_id, doc_id) -> list[tuple[str, dict]]:
    return [
        (reverse("procedures:page", args=[public_id, "negocio"]),
         {"nombre_comercial": "Intruso", "giro": "abarrotes", "superficie": "10", "accion": "continuar"}),
        (reverse("procedures:documents", args=[public_id]), {"elegir-identificacion": str(doc_id), "accion": "continuar"}),
        (reverse("procedures:detach", args=[public_id, "identificacion"]), {}),
        (reverse("procedures:submit", args=[public_id]), {}),
        (reverse("procedures:message", args=[public_id]), {"mensaje": "Hola"}),
        (reverse("procedures:correction", args=[public_id]), {"respuesta": "Ya está"}),
    ]


@pytest.fixture
def world(licence, make_resident, reviewers, make_official):
    """Requests of two other residents in every state a resident can see, with their files,
    issued documents and payment orders."""
    from ventanilla.organization.models import Department

    victims = [make_resident(), make_resident()]
    for victim in victims:
        services.start_draft(licence, applicant=victim)  # a draft
        file_request(licence, victim)  # in review
        corrected = file_request(licence, victim)
        services.request_correction(corrected, official=reviewers[0], text="Falta algo", expected_revision=corrected.revision)
        paying = file_request(licence, victim)
        for reviewer in reviewers:
            paying = Request.objects.get(pk=paying.pk)
            step = services.reviewable_steps(paying, reviewer)[0]
            services.approve_step(paying, step.key, official=reviewer, expected_revision=paying.revision)
        free = file_request(licence, victim)
        Request.objects.filter(pk=free.pk).update(fee_centavos=0)
        for reviewer in reviewers:
            free = Request.objects.get(pk=free.pk)
            step = services.reviewable_steps(free, reviewer)[0]
            services.approve_step(free, step.key, official=reviewer, expected_revision=free.revision)
    clerk = make_official("counter_clerk", department=Department.objects.get(slug="desarrollo-economico"))
    services.start_draft(licence, applicant=victims[0], channel=Channel.COUNTER, filed_by=clerk)
    # Acuses issued for everyone's filed requests.
    from ventanilla.procedures.journey.views import issue_acuse

    for req in Request.objects.exclude(status=Status.DRAFT):
        issue_acuse(req)
    statuses = set(Request.objects.values_list("status", flat=True))
    assert {Status.DRAFT, Status.IN_REVIEW, Status.CORRECTION, Status.AWAITING_PAYMENT, Status.APPROVED} <= statuses
    return {"victims": victims, "clerk": clerk}


def _snapshot():
    return (
        list(Request.objects.order_by("pk").values_list("pk", "revision", "status", "answers")),
        RequestEvent.objects.count(), ResidentDocument.objects.count(), IssuedDocument.objects.count(),
    )


def test_a_resident_reaches_no_other_residents_request(client, world, make_resident):
    attacker = make_resident()
    own_doc = store_doc(attacker, document_type="INE")
    client.force_login(attacker)
    before = _snapshot()
    others = list(Request.objects.exclude(applicant=attacker).values_list("public_id", flat=True))
    assert len(others) >= 11
    for public_id in others:
        for url in journey_gets(public_id):
            assert client.get(url).status_code == 404, url
        for url, data in journey_posts(public_id, own_doc.public_id):
            assert client.post(url, data).status_code == 404, url
        response = client.post(reverse("procedures:documents", args=[public_id]),
                               {"archivo-identificacion": pdf_upload("intruso.pdf")})
        assert response.status_code == 404
        assert client.get(f"{API}/{public_id}").status_code == 404
        assert client.put(f"{API}/{public_id}/paginas/negocio", {"respuestas": {"nombre_comercial": "X"}},
                          content_type="application/json").status_code == 404
        assert client.post(f"{API}/{public_id}/documentos/identificacion", {"documento": str(own_doc.public_id)},
                           content_type="application/json").status_code == 404
        assert client.post(f"{API}/{public_id}/presentar", content_type="application/json").status_code == 404
    assert _snapshot() == before
    assert client.get(API).json()["total"] == 0
    page = client.get(reverse("procedures:my_requests")).content.decode()
    assert "TRC-" not in page


def test_a_resident_reaches_no_other_residents_files_receipts_or_issued_documents(client, world, make_resident):
    from ventanilla.payments.models import PaymentOrder

    attacker = make_resident()
    client.force_login(attacker)
    docs = list(ResidentDocument.objects.exclude(owner=attacker).values_list("public_id", flat=True))
    issued = list(IssuedDocument.objects.exclude(owner=attacker).values_list("public_id", flat=True))
    orders = list(PaymentOrder.objects.exclude(payer=attacker).values_list("public_id", flat=True))
    assert docs and len(issued) >= 2 and orders
    for public_id in docs:
        assert client.get(reverse("files:document", args=[public_id])).status_code == 404
    for public_id in issued:
        assert client.get(reverse("documents:download", args=[public_id])).status_code == 404
    for public_id in orders:
        assert client.get(reverse("payments:receipt", args=[public_id])).status_code == 404
        assert client.get(reverse("payments:pay", args=[public_id])).status_code == 404


def test_the_owner_and_the_filing_clerk_do_reach_them(client, world, login_official):
    victim = world["victims"][0]
    client.force_login(victim)
    for req in Request.objects.filter(applicant=victim):
        assert client.get(reverse("procedures:status", args=[req.public_id])).status_code == 200
        assert client.get(f"{API}/{req.public_id}").status_code == 200
    clerk_request = Request.objects.get(filed_by=world["clerk"])
    login_official(world["clerk"])
    assert client.get(reverse("procedures:status", args=[clerk_request.public_id])).status_code == 200
    for req in Request.objects.exclude(pk=clerk_request.pk):
        assert client.get(reverse("procedures:status", args=[req.public_id])).status_code == 404


def test_reviewers_do_not_use_the_residents_pages(client, world, reviewers, login_official):
    login_official(reviewers[0])
    for req in Request.objects.all():
        assert client.get(reverse("procedures:status", args=[req.public_id])).status_code == 404
        assert client.get(f"{API}/{req.public_id}").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for public_id in Request.objects.values_list("public_id", flat=True)[:3]:
        for url in journey_gets(public_id):
            response = client.get(url)
            assert response.status_code == 302 and "/llave/entrar/" in response["Location"]
        assert client.get(f"{API}/{public_id}").status_code == 401
