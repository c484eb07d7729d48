"""Acceptance 5: a catalogue editor defines a NEW online procedure entirely in the back office, in
the browser — two pages, a choice with a conditional question, one document, one review step, a
free fee — and publishes it; a resident then files it through the journey up to the confirmation
with a folio; a reviewer approves it and the resident sees the resolution. No code changes between
defining and filing: the procedure exists only as data the editor typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ventanilla.documents import services as documents_services
from ventanilla.identity.models import Role

from .helpers import PASSWORD, pdf_bytes, sign_in, sign_out

pytestmark = pytest.mark.browser

CLAVE = "TOR-DGDE-077"
NAME = "Permiso para evento en vía pública"


@pytest.fixture
def event_procedure(transactional_db, make_procedure):
    """Only the catalogue entry exists (published, online, free): no online definition yet."""
    return make_procedure(publish=True, clave=CLAVE, name=NAME, cost_kind="free", cost_amount_centavos=None,
                          payment_alternatives=[], response_days=5, ficta="afirmativa")


def add_question(page, *, label: str, type_label: str | None = None, choices: str = "", minimum: str = "",
                 maximum: str = "", condition: str = "", operator: str = "", value: str = "") -> None:
    page.get_by_role("link", name="Agregar una pregunta").click()
    if type_label:
        page.get_by_label("Tipo de respuesta").select_option(label=type_label)
    page.get_by_label("Pregunta o etiqueta").fill(label)
    if choices:
        page.get_by_label("Opciones", exact=True).fill(choices)
    if minimum:
        page.get_by_label("Valor mínimo (opcional)").fill(minimum)
    if maximum:
        page.get_by_label("Valor máximo (opcional)").fill(maximum)
    if condition:
        page.get_by_label("Mostrar esta pregunta").select_option(label=condition)
        page.get_by_label("Condición", exact=True).select_option(label=operator)
        page.get_by_label("Valor de la condición").fill(value)
    page.get_by_role("button", name="Agregar la pregunta").click()
    assert "Se agregó la pregunta." in page.locator(".notices").inner_text()


def test_editor_defines_and_publishes_resident_files_reviewer_approves(
    page, live_server, axe, event_procedure, department, make_official, make_resident,
):
    editor = make_official(Role.CATALOG_EDITOR, department=department)
    reviewer = make_official(Role.REVIEWER, department=department)
    resident = make_resident(password=PASSWORD)

    # --- The editor, in the back office ------------------------------------------------------------
    sign_in(page, editor, next_url=reverse("procedures:editor_list"), official=True)
    assert page.get_by_role("heading", level=1).inner_text() == "Trámites en línea"
    row = page.get_by_role("row", name=NAME)
    assert "Sin trámite en línea" in row.inner_text()
    axe(page)
    page.get_by_role("link", name=NAME).click()
    page.get_by_role("button", name="Definir el trámite en línea").click()
    assert "El formulario necesita al menos una página." in page.locator(".error-summary").inner_text()
    axe(page)

    # Page 1: the event, with a choice and a question shown only for one answer.
    page.get_by_role("link", name="Páginas y preguntas").click()
    page.get_by_label("Título de la página").fill("Tu evento")
    page.get_by_role("button", name="Agregar la página").click()
    add_question(page, label="Nombre del evento")
    page.get_by_role("link", name="Agregar una pregunta").click()
    # editor.js shows only the rules of the chosen type (everything is there without JS).
    assert page.get_by_label("Longitud máxima (opcional)").is_visible()
    assert not page.get_by_label("Opciones", exact=True).is_visible()
    page.get_by_label("Tipo de respuesta").select_option(label="Opción de una lista")
    assert page.get_by_label("Opciones", exact=True).is_visible()
    assert not page.get_by_label("Longitud máxima (opcional)").is_visible()
    axe(page)
    page.go_back()
    add_question(page, label="¿Habrá venta de alimentos?", type_label="Opción de una lista", choices="si|Sí\nNo")
    add_question(page, label="Número de puestos de comida", type_label="Número", minimum="1", maximum="50",
                 condition="Solo si «¿Habrá venta de alimentos? (Opción de una lista)»…", operator="es igual a",
                 value="Sí")
    assert page.get_by_role("heading", name="Así la ve la persona").is_visible()
    assert "Se muestra si «¿Habrá venta de alimentos?» es «si»." in page.locator(".preview").inner_text()
    axe(page)

    # Page 2: where and when.
    page.get_by_role("link", name="Páginas y preguntas").click()
    page.get_by_label("Título de la página").fill("Lugar y fecha")
    page.get_by_role("button", name="Agregar la página").click()
    add_question(page, label="Fecha del evento", type_label="Fecha")
    add_question(page, label="Calle o plaza")

    # The document (from the catalogue requirement) and the review step (in the department) are
    # already in the starter draft; the editor checks them.
    page.get_by_role("link", name=CLAVE).click()
    page.get_by_role("link", name="Documentos que se piden").click()
    assert page.get_by_role("link", name="Identificación oficial vigente").is_visible()
    axe(page)
    page.get_by_role("link", name=CLAVE).click()
    page.get_by_role("link", name="Revisión", exact=True).click()
    assert page.get_by_role("link", name="Revisión de la solicitud").is_visible()
    axe(page)

    # The permit the resident receives.
    page.get_by_role("link", name=CLAVE).click()
    page.get_by_role("link", name="Documento que se entrega").click()
    assert "{nombre_del_evento}" in page.locator("table").inner_text()
    page.get_by_label("Nombre del evento", exact=True).check()
    page.get_by_label("Fecha del evento", exact=True).check()
    page.get_by_label("Texto del documento").fill(
        "Se otorga a {solicitante} el permiso para el evento «{nombre_del_evento}» el {fecha_del_evento}.\n\n"
        "El permiso no autoriza la venta de bebidas alcohólicas."
    )
    axe(page)
    page.get_by_role("button", name="Guardar el documento").click()

    # Preview, then publish.
    page.get_by_role("link", name="Vista previa del formulario").click()
    assert page.get_by_role("heading", name="Lugar y fecha").is_visible()
    axe(page)
    page.get_by_role("link", name="Volver al trámite").click()
    assert "El borrador está completo y se puede publicar." in page.locator("main").inner_text()
    page.get_by_label("Nota de la versión (opcional)").fill("Primera versión")
    axe(page)
    page.get_by_role("button", name="Publicar").click()
    assert "Se publicó la versión 1." in page.locator(".notices").inner_text()
    assert "Publicado: versión 1" in page.locator("main").inner_text()
    page.get_by_role("link", name="Todas las versiones").click()
    page.get_by_role("link", name="Versión 1").click()
    assert "Fecha del evento" in page.locator("main").inner_text()
    axe(page)
    page.get_by_role("link", name=CLAVE).click()
    page.get_by_role("link", name="Importar o exportar JSON").click()
    axe(page)
    sign_out(page)

    # --- The resident files it ---------------------------------------------------------------------
    page.goto(reverse("portal:procedure", args=[CLAVE]))
    page.get_by_role("button", name="Iniciar en línea").click()
    page.get_by_label("Correo electrónico o CURP").fill(resident.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("button", name="Comenzar").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Tu evento"
    page.get_by_label("Nombre del evento").fill("Posada de la colonia Centro")
    page.get_by_label("Sí", exact=True).check()
    page.get_by_label("Número de puestos de comida").fill("4")
    axe(page)
    page.get_by_role("button", name="Guardar y continuar").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Lugar y fecha"
    page.get_by_label("Fecha del evento").fill("2026-12-24")
    page.get_by_label("Calle o plaza").fill("Plaza Mayor")
    page.get_by_role("button", name="Guardar y continuar").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Documentos"
    page.locator("#documento-identificacion_oficial_vigente").set_input_files(
        files=[{"name": "ine.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("INE de prueba")}])
    page.get_by_role("button", name="Guardar y continuar").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Revisa tu solicitud antes de enviarla"
    summary = page.locator("main").inner_text()
    assert "Posada de la colonia Centro" in summary and "4" in summary and "24/12/2026" in summary
    page.get_by_role("button", name="Enviar solicitud").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Solicitud enviada"
    folio = page.locator(".folio").inner_text()
    assert folio.startswith("TRC-")
    axe(page)
    status_url = page.get_by_role("link", name="Ver el estado de tu solicitud").get_attribute("href")

    from ventanilla.procedures.models import Request

    filed = Request.objects.get(folio=folio)
    assert filed.version.number == 1 and filed.answers["numero_de_puestos_de_comida"] == "4"
    sign_out(page)

    # --- A reviewer of the department approves it ---------------------------------------------------
    case_url = reverse("procedures:backoffice_case", args=[filed.public_id])
    sign_in(page, reviewer, next_url=case_url, official=True)
    assert folio in page.locator("main").inner_text()
    page.get_by_role("button", name="Aprobar «Revisión de la solicitud»").click()
    sign_out(page)

    # --- The resident sees the resolution --------------------------------------------------------------
    sign_in(page, resident, next_url=status_url, official=False)
    text = page.locator("main").inner_text()
    assert "Resuelta: aprobada" in text
    assert page.get_by_role("link", name="Descargar el documento (PDF firmado)").is_visible()
    axe(page)
    filed.refresh_from_db()
    from ventanilla.documents import selectors as documents

    issued = documents.document_by_public_id(filed.resolution_document)
    assert issued.title == NAME
    assert ("Nombre del evento", "Posada de la colonia Centro") in documents_services.document_fields(issued)
