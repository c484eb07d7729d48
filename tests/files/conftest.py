"""Real sample files (a PDF made by reportlab, a JPEG and a PNG made by Pillow) and helpers."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


def make_pdf(text: str = "Comprobante de domicilio") -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pageCompression=0)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_image(fmt: str, size=(16, 12), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def pdf_bytes() -> bytes:
    return make_pdf()


@pytest.fixture
def jpeg_bytes() -> bytes:
    return make_image("JPEG")


@pytest.fixture
def png_bytes() -> bytes:
    return make_image("PNG")


def uploaded(data: bytes, name: str = "archivo.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def store_pdf(pdf_bytes):
    """Stores a PDF in `owner`'s file through the real services; returns the ResidentDocument."""
    from ventanilla.files import services
    from ventanilla.files.uploads import check_upload

    def store(owner, title: str = "Comprobante de domicilio", data: bytes | None = None, **kwargs):
        checked = check_upload(uploaded(data or pdf_bytes, "comprobante.pdf"))
        return services.store_upload(owner, checked, title=title, **kwargs)

    return store
