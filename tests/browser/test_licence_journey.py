"""Acceptance 1: a resident files the low-impact business licence (TOR-DGDE-001) on a phone,
uploading an ID and picking the proof of address already in Mi expediente; a reviewer (two
factors) asks for a correction in the back office; the resident answers it; both reviewers
approve; the resident pays with the sandbox card 4242 4242 4242 4242; the certificate is issued,
its QR verification page says it is valid, and the same PDF with one byte changed, uploaded to
/verificar/, is reported invalid. axe-core checks every resident page on the way."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from ventanilla.documents import services as documents_services

from .helpers import PASSWORD, heading, pdf_bytes, pdf_file, sign_in, sign_out

pytestmark = pytest.mark.browser

@pytest.fixture
def resident_with_file(transactional_db, licence, make_resident):
    """A resident whose Mi expediente already holds a proof of address."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ventanilla.files import services as files
    from ventanilla.files.uploads import check_upload

    resident = make_resident(password=PASSWORD)
    checked = check_upload(SimpleUploadedFile("recibo-luz.pdf", pdf_bytes("Recibo de luz"), "application/pdf"))
    files.store_upload(resident, checked, title="Recibo de luz de octubre", document_type="COMPROBANTE_DOMICILIO")
    return resident


def test_business_licence_from_filing_to_a_verified_certificate(page, live_server, axe, licence, reviewers,
                                                                 resident_with_file):
    from ventanilla.documents import selectors as documents
    from ventanilla.procedures.models import Request

    resident = resident_with_file
    documentary, civil_protection = reviewers

    # --- The resident files the licence ---------------------------------------------------------------
    page.goto(reverse("portal:procedure", args=["TOR-DGDE-001"]))
    page.get_by_role("button", name="Iniciar en línea").click()
    page.get_by_label("Correo electrónico o CURP").fill(resident.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    assert heading(page) == "Antes de empezar"
    page.get_by_role("button", name="Comenzar").click()

    assert heading(page) == "Tu negocio"
    axe(page)
    page.get_by_role("button", name="Guardar y continuar").click()  # nothing answered: errors
    assert "Responde «Nombre comercial del negocio»." in page.locator(".error-summary").inner_text()
    axe(page)
    page.get_by_label("Nombre comercial del negocio").fill("Abarrotes Doña Lupita")
    page.get_by_label("Tienda de abarrotes (sin venta de alcohol)").check()
    page.get_by_label("Superficie del local (m²)").fill("48")
    page.get_by_role("button", name="Guardar y continuar").click()

    assert heading(page) == "Datos fiscales"
    page.get_by_label("RFC del titular del negocio").fill("GODE561231GR8")
    page.get_by_role("button", name="Guardar y continuar").click()

    assert heading(page) == "El local"
    # The contract question applies only to a rented place: hidden until "Sí" is chosen.
    contract = page.get_by_role("group", name="Contrato de renta o comodato")
    assert not contract.is_visible()
    page.get_by_label("Sí", exact=True).check()
    assert contract.is_visible()
    page.get_by_label("No, es propio").check()
    page.get_by_label("Tipo de vialidad").select_option("AVENIDA")
    page.get_by_label("Nombre de la vialidad").fill("Juárez")
    page.get_by_label("Número exterior").fill("1250")
    page.get_by_label("Tipo de asentamiento").select_option("COLONIA")
    page.get_by_label("Nombre del asentamiento (colonia)").fill("Centro")
    page.get_by_label("Código postal").fill("27000")
    page.get_by_label("Clave catastral del local").fill("001-045-012")
    axe(page)
    page.get_by_role("button", name="Guardar y continuar").click()

    assert heading(page) == "Documentos"
    assert "Lo tiene el municipio: no necesitas subirlo." in page.locator("main").inner_text()
    axe(page)
    page.locator("#documento-identificacion").set_input_files(files=[pdf_file("ine.pdf", "INE")])
    page.get_by_label("Recibo de luz de octubre").check()
    page.get_by_role("button", name="Guardar y continuar").click()

    assert heading(page) == "Revisa tu solicitud antes de enviarla"
    summary = page.locator("main").inner_text()
    assert "Abarrotes Doña Lupita" in summary and "Recibo de luz de octubre" in summary and "$820.00" in summary
    axe(page)
    page.get_by_role("button", name="Enviar solicitud").click()

    assert heading(page) == "Solicitud enviada"
    folio = page.locator(".folio").inner_text()
    assert folio.startswith("TRC-")
    axe(page)
    acuse = page.request.get(page.get_by_role("link", name="Descargar el acuse de recibo (PDF)").get_attribute("href"))
    assert acuse.ok and acuse.body().startswith(b"%PDF")
    page.get_by_role("link", name="Ver el estado de tu solicitud").click()
    status_url = page.url.removeprefix(live_server.url)
    assert "En revisión" in page.locator("main").inner_text()
    axe(page)
    request = Request.objects.get(folio=folio)
    assert request.documents.get(key="comprobante_domicilio").source == "file"
    sign_out(page)

    # --- A reviewer asks for a correction ------------------------------------------------------------
    case_url = reverse("procedures:backoffice_case", args=[request.public_id])
    sign_in(page, documentary, next_url=case_url, official=True)
    assert folio in page.locator("main").inner_text()
    page.get_by_role("link", name="Pedir una corrección (prevención)").click()
    page.get_by_label("Qué falta o qué debe corregirse").fill("La identificación no se lee; súbela otra vez, por favor.")
    page.get_by_role("button", name="Enviar la prevención").click()
    sign_out(page)

    # --- The resident answers it ---------------------------------------------------------------------
    sign_in(page, resident, next_url=status_url)
    main = page.locator("main").inner_text()
    assert "La identificación no se lee" in main and "Responde a más tardar el" in main
    axe(page)
    page.get_by_label("Tu respuesta").fill("Subo mi INE escaneada de nuevo.")
    page.locator("#documento-identificacion").set_input_files(files=[pdf_file("ine-nueva.pdf", "INE legible")])
    page.get_by_role("button", name="Enviar mi respuesta").click()
    assert "La revisión continúa" in page.locator(".notices").inner_text()
    assert "En revisión" in page.locator("main").inner_text()
    sign_out(page)

    # --- Both reviewers approve -------------------------------------------------------------------------
    sign_in(page, documentary, next_url=case_url, official=True)
    page.get_by_role("button", name="Aprobar «Revisión documental»").click()
    sign_out(page)
    sign_in(page, civil_protection, next_url=case_url, official=True)
    page.get_by_role("button", name="Aprobar «Visto bueno de Protección Civil»").click()
    sign_out(page)

    # --- The resident pays with the sandbox card -----------------------------------------------------
    sign_in(page, resident, next_url=status_url)
    assert "Aprobada: pendiente de pago" in page.locator("main").inner_text()
    axe(page)
    page.get_by_role("link", name="Pagar", exact=True).click()
    page.get_by_label("Nombre como aparece en la tarjeta").fill("MARIA GOMEZ ARRIAGA")
    page.get_by_label("Número de la tarjeta").fill("4242 4242 4242 4242")
    page.get_by_label("Mes de vencimiento").fill("12")
    page.get_by_label("Año de vencimiento").fill(str((time.gmtime().tm_year + 2) % 100))
    page.get_by_label("Código de seguridad").fill("123")
    page.get_by_role("button", name="Pagar $820.00").click()
    assert heading(page) == "Pago recibido"

    # --- The certificate is issued, valid by its QR, invalid when altered ---------------------------
    page.goto(status_url)
    assert "Resuelta: aprobada" in page.locator("main").inner_text()
    axe(page)
    download = page.get_by_role("link", name="Descargar el documento (PDF firmado)")
    certificate = page.request.get(download.get_attribute("href"))
    assert certificate.ok
    pdf = certificate.body()
    request.refresh_from_db()
    issued = documents.document_by_public_id(request.resolution_document)
    assert issued.kind == "certificate" and issued.folio == folio and bytes(issued.pdf) == pdf
    assert ("Nombre comercial del negocio", "Abarrotes Doña Lupita") in documents_services.document_fields(issued)

    page.goto(reverse("documents:verify", args=[issued.public_id]))  # where the QR code points
    assert "Documento auténtico y vigente" in page.locator("main").inner_text()

    altered = bytearray(pdf)
    altered[len(altered) // 3] ^= 0x01
    page.goto(reverse("documents:verify_upload"))
    page.get_by_label("Documento en PDF").set_input_files(
        files=[{"name": "licencia.pdf", "mimeType": "application/pdf", "buffer": bytes(altered)}])
    page.get_by_role("button", name="Verificar").click()
    assert "El documento no es válido" in page.locator("main").inner_text()

    page.goto(reverse("documents:verify_upload"))
    page.get_by_label("Documento en PDF").set_input_files(
        files=[{"name": "licencia.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    page.get_by_role("button", name="Verificar").click()
    assert "Documento auténtico y vigente" in page.locator("main").inner_text()


def test_a_kiosk_warns_then_signs_an_idle_resident_out(page, live_server, axe, settings, transactional_db,
                                                       make_resident):
    """Kiosk mode in the browser: large-target presentation, the kiosk's own sign-in page, the
    "¿Sigues ahí?" warning and the automatic sign-out. The page's clock is driven by the test."""
    token = "terminal-palacio-municipal-7f3a9c2e"
    settings.VENTANILLA_KIOSK_TOKENS = [token]
    settings.VENTANILLA_KIOSK_IDLE_SECONDS = 120
    settings.VENTANILLA_KIOSK_WARNING_SECONDS = 30
    resident = make_resident(password=PASSWORD)
    page.clock.install()
    page.goto(reverse("procedures:kiosk_activate", args=[token]))
    assert "kiosk" in page.locator("body").get_attribute("class")
    axe(page)
    page.get_by_role("link", name="Entrar con mi Llave").click()
    assert page.locator("form[autocomplete=off]").count() == 1
    axe(page)
    page.get_by_label("Correo electrónico o CURP").fill(resident.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    assert heading(page) == "Mis solicitudes"
    axe(page)

    warning = page.locator("#kiosk-idle")
    assert not warning.is_visible()
    page.clock.run_for(95_000)
    assert warning.is_visible() and "¿Sigues ahí?" in warning.inner_text()
    axe(page)
    page.get_by_role("button", name="Sigo aquí").click()
    assert not warning.is_visible()
    page.clock.run_for(125_000)
    page.wait_for_url(f"**{reverse('procedures:kiosk')}")
    assert page.get_by_role("link", name="Entrar con mi Llave").is_visible()
    page.goto(reverse("procedures:my_requests"))
    assert "/kiosco/entrar/" in page.url  # signed out: Llave asks again, on the kiosk's own page
