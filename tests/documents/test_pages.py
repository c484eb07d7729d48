"""The documents pages: public verification (QR address and upload), the owner's download, the
platform administrators' search and revocation, the JSON API and the "Mi expediente" section."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ventanilla.audit.models import AuditEntry
from ventanilla.documents.models import IssuedDocument
from ventanilla.documents.rendering import date_es
from ventanilla.identity.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def juan(make_resident):
    return make_resident(given_names="Juan", first_surname="Pérez", second_surname="López")


@pytest.fixture
def document(issue_document, juan):
    return issue_document(owner=juan, folio="DU-2026-0042",
                          fields=[("Clave catastral", "001-002-003"), ("Uso de suelo", "Habitacional")])


# --- /verificar/<uuid>/ --------------------------------------------------------------------------


def test_verify_page_of_a_valid_document(client, document):
    response = client.get(reverse("documents:verify", args=[document.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Documento auténtico y vigente" in html
    assert "DU-2026-0042" in html and "Constancia de no adeudo del impuesto predial" in html
    assert "Juan P*** L***" in html
    assert "Pérez" not in html and "López" not in html  # the holder's surnames stay private
    assert "Clave catastral" in html and "Habitacional" in html
    assert date_es(document.issued_at) in html  # "23 de noviembre de 2026"
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_the_public_page_masks_personal_data_the_owner_and_the_pdf_holder_see_it(client, issue_document, make_resident):
    """Whoever has the QR address sees enough to compare, never the holder's identifiers: a field
    the issuer flags as personal is masked whole, and CURPs, RFCs, e-mails and the holder's names
    are masked in any other field too. The owner, signed in, and whoever uploads the authentic PDF
    (who holds every datum already) see the fields as issued."""
    from ventanilla.documents import services

    ana = make_resident(given_names="Ana", first_surname="Zubiría", second_surname="Treviño",
                        curp="ZUTA900101MCLBRN04")
    document = issue_document(owner=ana, folio="AC-2026-0007", fields=[
        ("Solicitante", "Ana Zubiría Treviño", True),
        ("CURP", "ZUTA900101MCLBRN04", True),
        ("Domicilio", "Calle Hidalgo 15, Centro", True),
        ("RFC del negocio", "ZUTA900101AB1"),
        ("Nota", "Presentó Ana Zubiría, correo ana.z@example.com"),
        ("Giro", "Tienda de abarrotes"),
    ])
    public = client.get(reverse("documents:verify", args=[document.public_id])).content.decode()
    for secret in ("ZUTA900101MCLBRN04", "ZUTA900101AB1", "Zubiría", "Treviño", "Hidalgo", "ana.z@example.com"):
        assert secret not in public, secret
    assert "ZUTA**************" in public and "ZUTA*********" in public and "Tienda de abarrotes" in public
    api = client.get(f"/api/v1/documentos/verificacion/{document.public_id}").json()
    assert "ZUTA900101MCLBRN04" not in str(api) and "Zubiría" not in str(api)

    client.force_login(ana)
    own = client.get(reverse("documents:verify", args=[document.public_id])).content.decode()
    assert "ZUTA900101MCLBRN04" in own and "Calle Hidalgo 15, Centro" in own
    client.logout()
    upload = SimpleUploadedFile("acuse.pdf", bytes(document.pdf), "application/pdf")
    held = client.post(reverse("documents:verify_upload"), {"document": upload}).content.decode()
    assert "Documento auténtico y vigente" in held and "ZUTA900101MCLBRN04" in held
    assert services.public_value("GODE561231HCLRNS09", personal=True, owner=ana) == "GODE**************"


def test_an_acuse_s_public_page_shows_neither_curp_nor_full_name(client, submitted_request):
    from ventanilla.procedures.journey.views import issue_acuse

    request = submitted_request()
    acuse = issue_acuse(request)
    html = client.get(reverse("documents:verify", args=[acuse.public_id])).content.decode()
    applicant = request.applicant
    assert applicant.curp not in html and applicant.full_name not in html
    assert applicant.first_surname not in html


def test_verify_page_of_a_revoked_document(client, document, make_official):
    from ventanilla.documents import services

    services.revoke(document, reason="Datos del predio equivocados", by=make_official(Role.PLATFORM_ADMIN))
    html = client.get(reverse("documents:verify", args=[document.public_id])).content.decode()
    assert "Documento revocado" in html and "Datos del predio equivocados" in html
    assert "auténtico y vigente" not in html


def test_verify_page_of_an_unknown_code(client):
    response = client.get(reverse("documents:verify", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert "No encontramos este documento" in response.content.decode()


def test_verify_page_in_english(client, document):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("documents:verify", args=[document.public_id]))
    assert response.status_code == 200
    assert date_es(document.issued_at) not in response.content.decode()


# --- /verificar/ (upload) ------------------------------------------------------------------------


def upload(client, data: bytes, name="documento.pdf", content_type="application/pdf"):
    return client.post(
        reverse("documents:verify_upload"),
        {"document": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def test_upload_page_shows_the_form(client):
    response = client.get(reverse("documents:verify_upload"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html


def test_upload_a_valid_document(client, document):
    response = upload(client, bytes(document.pdf))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Documento auténtico y vigente" in html and "DU-2026-0042" in html and "Juan P*** L***" in html


def test_upload_a_revoked_document(client, document, make_official):
    from ventanilla.documents import services

    services.revoke(document, reason="Sustituido por el folio DU-2026-0043", by=make_official(Role.PLATFORM_ADMIN))
    html = upload(client, bytes(document.pdf)).content.decode()
    assert "Documento revocado" in html and "Sustituido por el folio DU-2026-0043" in html


def test_upload_an_altered_document(client, document):
    pdf = bytearray(bytes(document.pdf))
    pdf[2000] ^= 0x01
    response = upload(client, bytes(pdf))
    assert response.status_code == 200
    html = response.content.decode()
    assert "El documento no es válido" in html
    assert "DU-2026-0042" not in html  # nothing of the genuine document is shown


def test_upload_a_document_missing_from_the_register(client, document):
    pdf = bytes(document.pdf)
    IssuedDocument.objects.filter(pk=document.pk).delete()
    html = upload(client, pdf).content.decode()
    assert "No encontramos este documento" in html
    assert "no está en el registro" in html


def test_upload_garbage_that_claims_to_be_a_pdf(client):
    response = upload(client, b"%PDF-1.7\n" + bytes(range(256)) * 10)
    assert response.status_code == 200
    assert "El documento no es válido" in response.content.decode()


def test_upload_rejects_another_file_type(client):
    response = upload(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, name="foto.pdf")
    assert response.status_code == 400
    assert "El archivo no es un PDF" in response.content.decode()


def test_upload_rejects_an_empty_or_missing_file(client):
    response = client.post(reverse("documents:verify_upload"), {})
    assert response.status_code == 400
    assert "Elige el archivo PDF" in response.content.decode()
    response = upload(client, b"")
    assert response.status_code == 400
    assert "vacío" in response.content.decode()


def test_upload_rejects_files_over_10_mb(client):
    response = upload(client, b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024))
    assert response.status_code == 400
    assert "pesa más de 10 MB" in response.content.decode()


def test_upload_limit_follows_the_setting(client, settings, document):
    settings.VENTANILLA_UPLOAD_MAX_BYTES = len(bytes(document.pdf)) - 1
    assert upload(client, bytes(document.pdf)).status_code == 400
    settings.VENTANILLA_UPLOAD_MAX_BYTES = len(bytes(document.pdf))
    assert upload(client, bytes(document.pdf)).status_code == 200


def test_upload_needs_the_csrf_token(document):
    client = Client(enforce_csrf_checks=True)
    response = upload(client, bytes(document.pdf))
    assert response.status_code == 403


def test_upload_of_hostile_file_names_is_harmless(client, document):
    response = upload(client, bytes(document.pdf), name="<script>alert(1)</script>.pdf")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


# --- /documentos/<uuid>.pdf ------------------------------------------------------------------------


def test_the_owner_downloads_the_signed_pdf(client, document, juan):
    client.force_login(juan)
    response = client.get(reverse("documents:download", args=[document.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == bytes(document.pdf)
    assert 'filename="constancia-du-2026-0042.pdf"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Security-Policy"] == "sandbox"


def test_another_resident_gets_a_404(client, document, make_resident):
    client.force_login(make_resident())
    assert client.get(reverse("documents:download", args=[document.public_id])).status_code == 404


def test_an_official_gets_a_404_here(client, document, make_official, login_official):
    login_official(make_official(Role.PLATFORM_ADMIN))
    assert client.get(reverse("documents:download", args=[document.public_id])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, document):
    response = client.get(reverse("documents:download", args=[document.public_id]))
    assert response.status_code == 302 and "/llave/entrar/" in response["Location"]
    # The same answer for a code that does not exist: nothing is revealed.
    other = client.get(reverse("documents:download", args=[uuid.uuid4()]))
    assert other.status_code == 302


def test_unknown_document_is_a_404_for_a_resident(client, juan):
    client.force_login(juan)
    assert client.get(reverse("documents:download", args=[uuid.uuid4()])).status_code == 404


# --- Back office: search and revoke ---------------------------------------------------------------


def test_revoke_form_for_platform_administrators(client, document, make_official, login_official):
    admin = make_official(Role.PLATFORM_ADMIN)
    login_official(admin)
    url = reverse("documents:revoke", args=[document.public_id])
    page = client.get(url)
    assert page.status_code == 200 and "Revocar el documento" in page.content.decode()
    response = client.post(url, {"reason": "El predio tenía un adeudo no registrado."})
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:verify", args=[document.public_id])
    document.refresh_from_db()
    assert document.revoked_by == admin and document.revoked_reason == "El predio tenía un adeudo no registrado."
    assert AuditEntry.objects.filter(action="documents.revoke", actor_id=admin.pk).exists()
    again = client.post(url, {"reason": "Otra vez"})
    assert again.status_code == 400 and "ya" in again.content.decode()


def test_revoke_needs_a_reason(client, document, make_official, login_official):
    login_official(make_official(Role.PLATFORM_ADMIN))
    url = reverse("documents:revoke", args=[document.public_id])
    for data in ({}, {"reason": "   "}, {"reason": "x" * 501}):
        response = client.post(url, data)
        assert response.status_code == 400
    document.refresh_from_db()
    assert document.revoked_at is None
    assert not AuditEntry.objects.filter(action="documents.revoke").exists()


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PLATFORM_ADMIN])
def test_other_roles_cannot_revoke(client, document, make_official, login_official, role):
    login_official(make_official(role))
    url = reverse("documents:revoke", args=[document.public_id])
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "no"}).status_code == 403
    document.refresh_from_db()
    assert document.revoked_at is None


def test_residents_and_anonymous_cannot_revoke(client, document, juan):
    url = reverse("documents:revoke", args=[document.public_id])
    assert client.post(url, {"reason": "no"}).status_code == 302
    client.force_login(juan)
    assert client.post(url, {"reason": "no"}).status_code == 403
    document.refresh_from_db()
    assert document.revoked_at is None


def test_revoke_of_an_unknown_code_is_a_404(client, make_official, login_official):
    login_official(make_official(Role.PLATFORM_ADMIN))
    assert client.get(reverse("documents:revoke", args=[uuid.uuid4()])).status_code == 404


def test_search_by_folio_or_code(client, document, make_official, login_official):
    login_official(make_official(Role.PLATFORM_ADMIN))
    url = reverse("documents:backoffice_search")
    assert client.get(url).status_code == 200
    html = client.get(url, {"q": "DU-2026"}).content.decode()
    assert "DU-2026-0042" in html and reverse("documents:revoke", args=[document.public_id]) in html
    assert "Juan P*** L***" in html
    html = client.get(url, {"q": str(document.public_id)}).content.decode()
    assert "DU-2026-0042" in html
    assert "Ningún documento" in client.get(url, {"q": "NO-EXISTE"}).content.decode()
    assert client.get(url, {"q": "x" * 65}).status_code == 400


def test_the_back_office_lists_the_tool_for_administrators_only(client, make_official, login_official):
    login_official(make_official(Role.PLATFORM_ADMIN))
    assert reverse("documents:backoffice_search") in client.get(reverse("identity:backoffice")).content.decode()
    client.logout()
    login_official(make_official(Role.REVIEWER))
    assert reverse("documents:backoffice_search") not in client.get(reverse("identity:backoffice")).content.decode()


# --- JSON API --------------------------------------------------------------------------------------


def test_api_verification(client, document, make_official):
    from ventanilla.documents import services

    url = f"/api/v1/documentos/verificacion/{document.public_id}"
    body = client.get(url).json()
    assert body["status"] == "valid" and body["folio"] == "DU-2026-0042"
    assert body["holder"] == "Juan P*** L***"
    assert body["fields"][0] == {"label": "Clave catastral", "value": "001-002-003"}
    assert body["verification_url"].endswith(f"/verificar/{document.public_id}/")
    services.revoke(document, reason="Error", by=make_official(Role.PLATFORM_ADMIN))
    body = client.get(url).json()
    assert body["status"] == "revoked" and body["revoked_reason"] == "Error" and body["revoked_at"]


def test_api_unknown_and_malformed_codes(client):
    response = client.get(f"/api/v1/documentos/verificacion/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["status"] == "unknown" and response.json()["detail"]
    response = client.get("/api/v1/documentos/verificacion/no-es-un-codigo")
    assert response.status_code == 422 and response.json()["detail"]


# --- Mi expediente -----------------------------------------------------------------------------------


def test_expediente_section_lists_and_exports_only_the_owners_documents(document, juan, issue_document, make_resident):
    import json

    from ventanilla.documents import expediente
    from ventanilla.files import sections

    issue_document(owner=make_resident(), folio="AJENO-1")
    assert expediente.SECTION_KEY in [s.key for s in sections.registered()]
    assert [d.folio for d in expediente.section_context(juan)["issued_documents"]] == ["DU-2026-0042"]
    files = expediente.section_export(juan)
    pdfs = [name for name in files if name.endswith(".pdf")]
    assert len(pdfs) == 1 and files[pdfs[0]] == bytes(document.pdf)
    index = json.loads(files["documentos.json"])
    assert index[0]["folio"] == "DU-2026-0042" and index[0]["sha256"] == document.sha256
