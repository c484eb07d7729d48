"""What the browser journeys share: signing in (with the second factor for officials), signing
out, reading the page's heading and making small real PDFs to upload."""

from __future__ import annotations

import io

from django.urls import reverse

PASSWORD = "una frase larga y secreta 2026"
OFFICIAL_PASSWORD = "clave de servidor muy segura"


def pdf_bytes(text: str) -> bytes:
    """A real one-page PDF (the upload checks read its structure, not its name)."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


def pdf_file(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": pdf_bytes(text)}


def totp_code(user) -> str:
    """The code the official's authenticator would show, read fresh from the database: a second
    sign-in within 30 seconds gets the next step's code, as django-otp refuses one twice."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ventanilla.identity.totp import acceptable_code

    return acceptable_code(TOTPDevice.objects.get(user=user, confirmed=True))


def sign_in(page, user, *, next_url: str, official: bool = False) -> None:
    page.goto(f"{reverse('identity:login')}?next={next_url}")
    page.get_by_label("Correo electrónico o CURP").fill(user.email)
    page.get_by_label("Contraseña").fill(OFFICIAL_PASSWORD if official else PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    if official:
        page.get_by_label("Código de 6 dígitos").fill(totp_code(user))
        page.get_by_role("button", name="Continuar").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Salir").click()


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()
