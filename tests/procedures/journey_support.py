"""Helpers shared by the journey, kiosk, API and authorization tests: real sample files and a
licence request filed through the services."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.procedures_fixtures import LICENCE_PAGES


def make_pdf(text: str = "Documento de prueba") -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pageCompression=0)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_upload(name: str = "documento.pdf", text: str = "Documento de prueba") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_pdf(text), content_type="application/pdf")


def store_doc(owner, *, document_type: str = "INE", title: str = "Identificación"):
    """A PDF in `owner`'s file (Mi expediente), through the files services."""
    from ventanilla.files import services as files
    from ventanilla.files.uploads import check_upload

    return files.store_upload(owner, check_upload(pdf_upload(f"{document_type.lower() or 'doc'}.pdf")),
                              title=title, document_type=document_type)


def fill(request):
    """Answers every page of the licence and attaches the two documents the resident must give."""
    from ventanilla.procedures import services

    for page, data in LICENCE_PAGES.items():
        result = services.save_page(request, page, data)
        assert result.ok, result.errors
    for slot, doc_type in (("identificacion", "INE"), ("comprobante_domicilio", "COMPROBANTE_DOMICILIO")):
        doc = store_doc(request.applicant, document_type=doc_type, title=slot)
        services.attach_document(request, slot, doc.public_id, source="uploaded")
    request.refresh_from_db()
    return request


def file_request(definition, applicant, **kwargs):
    """A licence request filed (submitted) by `applicant`."""
    from ventanilla.procedures import services

    request = services.start_draft(definition, applicant=applicant, **kwargs)
    fill(request)
    return services.submit(request, actor=kwargs.get("filed_by") or applicant)
