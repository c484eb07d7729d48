"""The resident's journey on the web: start, form pages, documents, check your answers, submit,
confirmation, acuse, status page (messages, correction, payment, resolution) and "Mis solicitudes"."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.procedures.journey_support import file_request, fill, make_pdf, pdf_upload, store_doc
from tests.procedures_fixtures import LICENCE_PAGES
from ventanilla.files.models import ResidentDocument
from ventanilla.procedures import services
from ventanilla.procedures.models import Channel, EventKind, FormPageEvent, Request, RequestDocument, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(make_resident):
    return make_resident()


@pytest.fixture
def signed_in(client, resident):
    client.force_login(resident)
    return client


@pytest.fixture
def draft(licence, resident):
    return services.start_draft(licence, applicant=resident)


def page_url(req, key):
    return reverse("procedures:page", args=[req.public_id, key])


def html(response) -> str:
    return response.content.decode()


# --- Start ---------------------------------------------------------------------------------------


def test_start_page_offers_comenzar_when_the_procedure_is_online(signed_in, licence):
    response = signed_in.get(reverse("portal:procedure_start", args=[licence.procedure.clave]))
    page = html(response)
    assert response.status_code == 200
    assert f'action="{reverse("procedures:start", args=[licence.procedure.clave])}"' in page
    assert "Comenzar" in page
    assert "todavía no está habilitada" not in page


def test_start_page_keeps_office_guidance_without_a_published_definition(signed_in, make_procedure):
    procedure = make_procedure(publish=True)
    page = html(signed_in.get(reverse("portal:procedure_start", args=[procedure.clave])))
    assert "todavía no está habilitada" in page
    assert reverse("procedures:start", args=[procedure.clave]) not in page


def test_start_creates_a_draft_and_opens_its_first_page(signed_in, licence, resident):
    response = signed_in.post(reverse("procedures:start", args=[licence.procedure.clave]))
    req = Request.objects.get(applicant=resident)
    assert response.status_code == 302 and response["Location"] == page_url(req, "negocio")
    assert req.status == Status.DRAFT and req.channel == Channel.ONLINE and req.draft_expires_at is not None
    # The start page now offers to continue it.
    page = html(signed_in.get(reverse("portal:procedure_start", args=[licence.procedure.clave])))
    assert reverse("procedures:status", args=[req.public_id]) in page


def test_start_needs_llave_and_a_known_online_procedure(client, licence, resident, make_procedure):
    response = client.post(reverse("procedures:start", args=[licence.procedure.clave]))
    assert response.status_code == 302 and "/llave/entrar/" in response["Location"]
    client.force_login(resident)
    assert client.post(reverse("procedures:start", args=["NO-EXISTE-1"])).status_code == 404
    offline = make_procedure(publish=True)
    assert client.post(reverse("procedures:start", args=[offline.clave])).status_code == 404
    # A GET goes back to the start page (e.g. after signing in).
    response = client.get(reverse("procedures:start", args=[licence.procedure.clave]))
    assert response["Location"] == reverse("portal:procedure_start", args=[licence.procedure.clave])
    assert not Request.objects.exists()


def test_an_official_cannot_start_a_request_for_themselves(client, licence, make_official, login_official):
    login_official(make_official("reviewer"))
    response = client.post(reverse("procedures:start", args=[licence.procedure.clave]))
    assert response.status_code == 403
    assert "modo ventanilla" in html(response)
    assert not Request.objects.exists()


# --- Form pages ----------------------------------------------------------------------------------


def test_page_shows_its_questions_and_records_the_view(signed_in, draft):
    response = signed_in.get(page_url(draft, "negocio"))
    page = html(response)
    assert response.status_code == 200
    assert "<h1>Tu negocio</h1>" in page and "Paso 1 de 3" in page
    assert 'for="campo-nombre_comercial"' in page and 'id="campo-nombre_comercial"' in page
    # Six choices: radios in a fieldset with a legend.
    assert "<legend>Giro del negocio" in page and page.count('type="radio" id="campo-giro-') == 6
    assert 'aria-describedby="campo-superficie-hint"' in page
    assert "Guardar y continuar" in page and "Guardar y salir" in page
    assert response["Cache-Control"] == "private, no-store"
    assert FormPageEvent.objects.filter(request=draft, page="negocio", kind="viewed").count() == 1


def test_valid_page_is_saved_and_leads_to_the_next(signed_in, draft):
    response = signed_in.post(page_url(draft, "negocio"), {**LICENCE_PAGES["negocio"], "accion": "continuar"})
    assert response.status_code == 302 and response["Location"] == page_url(draft, "fiscal")
    draft.refresh_from_db()
    assert draft.answers == {"nombre_comercial": "Abarrotes Doña Lupita", "giro": "abarrotes", "superficie": "48"}
    assert draft.current_page == "fiscal"


def test_invalid_page_shows_an_error_summary_and_saves_nothing(signed_in, draft):
    data = {"nombre_comercial": "", "giro": "cantina", "superficie": "9000", "accion": "continuar"}
    response = signed_in.post(page_url(draft, "negocio"), data)
    page = html(response)
    assert response.status_code == 400
    assert 'class="error-summary"' in page and "Hay un problema" in page
    assert '<a href="#campo-nombre_comercial">Responde «Nombre comercial del negocio».</a>' in page
    assert '<a href="#campo-giro-0">Elige una de las opciones.</a>' in page
    assert "Debe ser como máximo 500" in page
    assert 'aria-describedby="campo-superficie-hint campo-superficie-error"' in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Error:" in page
    draft.refresh_from_db()
    assert draft.answers == {}


def test_save_and_exit_keeps_the_draft(signed_in, draft):
    response = signed_in.post(page_url(draft, "negocio"), {**LICENCE_PAGES["negocio"], "accion": "salir"})
    assert response.status_code == 302 and response["Location"] == reverse("procedures:my_requests")
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.answers["giro"] == "abarrotes"
    page = html(signed_in.get(reverse("procedures:my_requests")))
    assert "Guardamos tu borrador" in page
    assert page_url(draft, "fiscal") in page  # resume where it stopped


def test_change_link_comes_back_to_check_your_answers(signed_in, draft):
    fill(draft)
    response = signed_in.post(page_url(draft, "negocio") + "?volver=revisar",
                              {**LICENCE_PAGES["negocio"], "nombre_comercial": "Papelería La Pluma", "accion": "continuar"})
    assert response["Location"] == reverse("procedures:check", args=[draft.public_id])
    draft.refresh_from_db()
    assert draft.answers["nombre_comercial"] == "Papelería La Pluma"


def test_address_page_with_conditional_file_question(signed_in, draft, resident):
    page = html(signed_in.get(page_url(draft, "local")))
    assert 'enctype="multipart/form-data"' in page
    assert 'data-show-if="local_rentado" data-show-values="si"' in page
    assert "Responde solo si en «¿El local es rentado o prestado?» elegiste «Sí»." in page
    assert '<option value="AVENIDA">Avenida</option>' in page
    assert 'value="Torreón"' in page  # municipality prefilled from the city's configuration

    data = {**LICENCE_PAGES["local"], "local_rentado": "si", "contrato__archivo": pdf_upload("contrato.pdf"), "accion": "continuar"}
    response = signed_in.post(page_url(draft, "local"), data)
    assert response.status_code == 302 and response["Location"] == reverse("procedures:documents", args=[draft.public_id])
    draft.refresh_from_db()
    contract = ResidentDocument.objects.get(public_id=draft.answers["contrato"])
    assert contract.owner == resident and contract.title == "Contrato de renta o comodato"
    assert draft.answers["domicilio"]["road_type"] == "AVENIDA"


def test_rejected_upload_on_a_page_leaves_nothing_half_written(signed_in, draft, resident):
    data = {**LICENCE_PAGES["local"], "local_rentado": "si", "accion": "continuar",
            "contrato__archivo": SimpleUploadedFile("contrato.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}
    response = signed_in.post(page_url(draft, "local"), data)
    assert response.status_code == 400
    assert "no es un PDF, JPG ni PNG" in html(response)
    draft.refresh_from_db()
    assert draft.answers == {} and not ResidentDocument.objects.filter(owner=resident).exists()


def test_a_valid_upload_is_not_kept_when_another_answer_is_wrong(signed_in, draft, resident):
    data = {**LICENCE_PAGES["local"], "local_rentado": "si", "clave_catastral": "12", "accion": "continuar",
            "contrato__archivo": pdf_upload("contrato.pdf")}
    response = signed_in.post(page_url(draft, "local"), data)
    assert response.status_code == 400 and "clave catastral" in html(response)
    assert not ResidentDocument.objects.filter(owner=resident).exists()


def test_unknown_page_is_404_and_a_filed_request_goes_to_its_status(signed_in, draft, licence, resident):
    assert signed_in.get(page_url(draft, "no-existe")).status_code == 404
    filed = file_request(licence, resident)
    response = signed_in.get(page_url(filed, "negocio"))
    assert response["Location"] == reverse("procedures:status", args=[filed.public_id])


# --- Documents -----------------------------------------------------------------------------------


def test_documents_page_never_asks_for_what_the_city_holds(signed_in, draft, resident):
    store_doc(resident, document_type="INE", title="Mi INE escaneada")
    store_doc(resident, document_type="ACTA", title="Acta de nacimiento")
    page = html(signed_in.get(reverse("procedures:documents", args=[draft.public_id])))
    assert "Lo tiene el municipio: no necesitas subirlo." in page
    assert 'name="archivo-uso_suelo"' not in page and 'name="elegir-uso_suelo"' not in page
    assert 'name="archivo-identificacion"' in page and 'name="archivo-comprobante_domicilio"' in page
    # Only documents of the matching type are offered.
    assert "Mi INE escaneada" in page and "Acta de nacimiento" not in page


def test_upload_and_pick_documents(signed_in, draft, resident):
    proof = store_doc(resident, document_type="COMPROBANTE_DOMICILIO", title="Recibo de luz")
    response = signed_in.post(reverse("procedures:documents", args=[draft.public_id]), {
        "archivo-identificacion": pdf_upload("ine.pdf"), "elegir-comprobante_domicilio": str(proof.public_id),
        "accion": "continuar",
    })
    assert response.status_code == 302 and response["Location"] == reverse("procedures:check", args=[draft.public_id])
    attached = {d.key: d for d in RequestDocument.objects.filter(request=draft)}
    assert attached["comprobante_domicilio"].source == "file" and attached["comprobante_domicilio"].file_document == proof.public_id
    uploaded = ResidentDocument.objects.get(public_id=attached["identificacion"].file_document)
    assert attached["identificacion"].source == "uploaded"
    assert uploaded.owner == resident and uploaded.document_type == "INE" and uploaded.title == "Identificación oficial vigente"
    assert services.missing_documents(draft) == []


def test_picking_a_document_of_another_type_or_of_someone_else_is_refused(signed_in, draft, resident, make_resident):
    wrong_type = store_doc(resident, document_type="ACTA")
    theirs = store_doc(make_resident(), document_type="INE")
    for chosen in (wrong_type, theirs):
        response = signed_in.post(reverse("procedures:documents", args=[draft.public_id]),
                                  {"elegir-identificacion": str(chosen.public_id), "accion": "continuar"})
        assert response.status_code == 400
        assert "Elige un documento de tu expediente de la lista." in html(response)
    assert not RequestDocument.objects.exists()


def test_one_bad_file_means_nothing_is_stored_or_attached(signed_in, draft, resident):
    response = signed_in.post(reverse("procedures:documents", args=[draft.public_id]), {
        "archivo-identificacion": pdf_upload("ine.pdf"),
        "archivo-comprobante_domicilio": SimpleUploadedFile("recibo.pdf", b"GIF89a fake", "application/pdf"),
        "accion": "continuar",
    })
    page = html(response)
    assert response.status_code == 400
    assert '<a href="#documento-comprobante_domicilio">El archivo «recibo.pdf» no es un PDF, JPG ni PNG.</a>' in page
    assert not ResidentDocument.objects.filter(owner=resident).exists()
    assert not RequestDocument.objects.exists()


def test_too_big_and_too_many_files_get_clear_messages(signed_in, draft, resident, settings):
    settings.VENTANILLA_UPLOAD_MAX_BYTES = 1000
    response = signed_in.post(reverse("procedures:documents", args=[draft.public_id]),
                              {"archivo-identificacion": pdf_upload("ine.pdf", "x" * 2000)})
    assert response.status_code == 400 and "el máximo es 1000 bytes" in html(response)

    settings.VENTANILLA_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    settings.VENTANILLA_UPLOADS_PER_REQUEST = 1
    response = signed_in.post(reverse("procedures:documents", args=[draft.public_id]), {
        "archivo-identificacion": pdf_upload("ine.pdf"), "archivo-comprobante_domicilio": pdf_upload("recibo.pdf"),
    })
    assert response.status_code == 400 and "Puedes subir solo un archivo; elegiste 2." in html(response)
    assert not ResidentDocument.objects.filter(owner=resident).exists() and not RequestDocument.objects.exists()


def test_a_body_larger_than_every_allowed_file_is_refused_before_reading(signed_in, draft, settings):
    settings.VENTANILLA_UPLOAD_MAX_BYTES = 1000
    settings.VENTANILLA_UPLOADS_PER_REQUEST = 1
    response = signed_in.generic("POST", reverse("procedures:documents", args=[draft.public_id]), b"x" * 10,
                                 content_type="multipart/form-data; boundary=zzz", CONTENT_LENGTH="5000000")
    assert response.status_code == 413
    assert "El envío es demasiado grande" in html(response)


def test_detach_keeps_the_file_in_the_expediente(signed_in, draft, resident):
    doc = store_doc(resident, document_type="INE")
    services.attach_document(draft, "identificacion", doc.public_id, source="file")
    page = html(signed_in.get(reverse("procedures:documents", args=[draft.public_id])))
    assert "Adjuntaste:" in page and reverse("procedures:detach", args=[draft.public_id, "identificacion"]) in page
    response = signed_in.post(reverse("procedures:detach", args=[draft.public_id, "identificacion"]))
    assert response.status_code == 302
    assert not RequestDocument.objects.exists() and ResidentDocument.objects.filter(pk=doc.pk).exists()


# --- Check your answers, submit, confirmation, acuse -------------------------------------------


def test_check_your_answers_lists_everything_with_change_links_and_the_fee(signed_in, draft):
    fill(draft)
    response = signed_in.get(reverse("procedures:check", args=[draft.public_id]))
    page = html(response)
    assert response.status_code == 200
    assert "Abarrotes Doña Lupita" in page and "Tienda de abarrotes (sin venta de alcohol)" in page
    assert "AVENIDA JUÁREZ 1250, COLONIA CENTRO, C.P. 27000" in page
    assert f'href="{page_url(draft, "negocio")}?volver=revisar#pregunta-nombre_comercial"' in page
    assert "Cambiar<span class=\"visually-hidden\"> Nombre comercial del negocio</span>" in page
    assert "Lo tiene el municipio: no necesitas subirlo." in page
    assert "$820.00" in page
    assert reverse("procedures:submit", args=[draft.public_id]) in page


def test_check_page_lists_what_is_missing_and_offers_no_submit(signed_in, draft):
    page = html(signed_in.get(reverse("procedures:check", args=[draft.public_id])))
    assert "Falta completar" in page and "Falta responder «Nombre comercial del negocio»." in page
    assert "Falta el documento «Identificación oficial vigente»." in page
    assert reverse("procedures:submit", args=[draft.public_id]) not in page
    response = signed_in.post(reverse("procedures:submit", args=[draft.public_id]))
    assert response.status_code == 400 and "La solicitud no está completa." in html(response)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_submit_then_confirmation_then_acuse_once(signed_in, draft):
    from ventanilla.documents.models import IssuedDocument
    from ventanilla.documents.services import verify_pdf

    fill(draft)
    response = signed_in.post(reverse("procedures:submit", args=[draft.public_id]))
    assert response["Location"] == reverse("procedures:confirmation", args=[draft.public_id])
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW and draft.folio
    assert not IssuedDocument.objects.exists()  # submitting renders no PDF

    page = html(signed_in.get(reverse("procedures:confirmation", args=[draft.public_id])))
    assert "Solicitud enviada" in page and draft.folio in page and "Qué sigue" in page
    assert "Revisión documental" in page and reverse("procedures:acuse", args=[draft.public_id]) in page

    first = signed_in.get(reverse("procedures:acuse", args=[draft.public_id]))
    second = signed_in.get(reverse("procedures:acuse", args=[draft.public_id]))
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert first.content == second.content and first.content.startswith(b"%PDF")
    acuse = IssuedDocument.objects.get()
    assert acuse.kind == "acuse" and acuse.source_ref == f"procedures.acuse:{draft.public_id}"
    assert acuse.folio == draft.folio and acuse.owner == draft.applicant
    assert verify_pdf(first.content).status == "valid"


def test_acuse_and_confirmation_of_a_draft(signed_in, draft):
    assert signed_in.get(reverse("procedures:acuse", args=[draft.public_id])).status_code == 404
    response = signed_in.get(reverse("procedures:confirmation", args=[draft.public_id]))
    assert response["Location"] == reverse("procedures:check", args=[draft.public_id])


# --- Status page -------------------------------------------------------------------------------


def test_status_page_in_plain_words_with_due_date_and_public_history(signed_in, licence, resident, reviewers):
    req = file_request(licence, resident)
    services.add_note(req, official=reviewers[0], text="Nota interna: revisar el RFC con calma")
    page = html(signed_in.get(reverse("procedures:status", args=[req.public_id])))
    assert f"Solicitud {req.folio}" in page
    assert "La están revisando. La respuesta llegará a más tardar el" in page
    assert "Fecha límite legal de respuesta" in page
    assert "Solicitud presentada" in page and "Borrador iniciado" in page
    assert "Nota interna" not in page


def test_messages_between_resident_and_officials(signed_in, licence, resident, reviewers):
    req = file_request(licence, resident)
    response = signed_in.post(reverse("procedures:message", args=[req.public_id]), {"mensaje": "¿Necesitan algo más?"})
    assert response.status_code == 302
    services.send_message(req, sender=reviewers[0], text="Todo en orden, gracias.")
    page = html(signed_in.get(reverse("procedures:status", args=[req.public_id])))
    assert "¿Necesitan algo más?" in page and "Todo en orden, gracias." in page and "El municipio" in page
    assert signed_in.post(reverse("procedures:message", args=[req.public_id]), {"mensaje": "  "}).status_code == 400


def test_answering_a_correction_with_text_and_a_new_upload(signed_in, licence, resident, reviewers):
    req = file_request(licence, resident)
    services.request_correction(req, official=reviewers[0], text="La identificación está vencida.",
                                expected_revision=req.revision)
    page = html(signed_in.get(reverse("procedures:status", args=[req.public_id])))
    assert "La identificación está vencida." in page and "Responde a más tardar el" in page
    assert reverse("procedures:correction", args=[req.public_id]) in page
    assert "Prevención: falta información" in page

    # Empty answer: clear message, nothing changes.
    response = signed_in.post(reverse("procedures:correction", args=[req.public_id]), {"respuesta": ""})
    assert response.status_code == 400 and "Escribe tu respuesta" in html(response)

    response = signed_in.post(reverse("procedures:correction", args=[req.public_id]), {
        "respuesta": "Subo mi INE vigente.", "archivo-identificacion": pdf_upload("ine-nueva.pdf"),
    })
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == Status.IN_REVIEW and req.due_date is not None
    new_doc = ResidentDocument.objects.get(public_id=req.documents.get(key="identificacion").file_document)
    assert new_doc.owner == resident and new_doc.filename == "ine-nueva.pdf"
    assert req.events.filter(kind=EventKind.CORRECTION_ANSWERED, text="Subo mi INE vigente.").exists()


def test_rejected_upload_in_a_correction_answer_changes_nothing(signed_in, licence, resident, reviewers):
    req = file_request(licence, resident)
    services.request_correction(req, official=reviewers[0], text="Falta la INE.", expected_revision=req.revision)
    before = ResidentDocument.objects.filter(owner=resident).count()
    response = signed_in.post(reverse("procedures:correction", args=[req.public_id]), {
        "respuesta": "Ahí va.", "archivo-identificacion": SimpleUploadedFile("ine.png", b"\x89PNG broken", "image/png"),
    })
    assert response.status_code == 400
    req.refresh_from_db()
    assert req.status == Status.CORRECTION and ResidentDocument.objects.filter(owner=resident).count() == before


def test_resolution_download_link_once_issued(signed_in, licence, resident, reviewers):
    # Without a fee the request resolves as soon as both steps approve: no payment.
    req = file_request(licence, resident)
    Request.objects.filter(pk=req.pk).update(fee_centavos=0)
    req.refresh_from_db()
    for reviewer in reviewers:
        req = Request.objects.get(pk=req.pk)
        step = services.reviewable_steps(req, reviewer)[0]
        services.approve_step(req, step.key, official=reviewer, expected_revision=req.revision)
    req.refresh_from_db()
    assert req.status == Status.APPROVED and req.resolution_document
    page = html(signed_in.get(reverse("procedures:status", args=[req.public_id])))
    assert reverse("documents:download", args=[req.resolution_document]) in page
    assert "Tu solicitud fue aprobada." in page


def test_awaiting_payment_shows_the_pay_button(signed_in, licence, resident, reviewers):
    req = file_request(licence, resident)
    for reviewer in reviewers:
        req = Request.objects.get(pk=req.pk)
        step = services.reviewable_steps(req, reviewer)[0]
        services.approve_step(req, step.key, official=reviewer, expected_revision=req.revision)
    req.refresh_from_db()
    assert req.status == Status.AWAITING_PAYMENT
    page = html(signed_in.get(reverse("procedures:status", args=[req.public_id])))
    assert reverse("payments:pay", args=[req.payment_order]) in page and "$820.00" in page


# --- My requests ---------------------------------------------------------------------------------


def test_my_requests_lists_drafts_with_expiry_and_filed_requests(signed_in, licence, resident, make_resident):
    draft = services.start_draft(licence, applicant=resident)
    filed = file_request(licence, resident)
    file_request(licence, make_resident())  # someone else's
    page = html(signed_in.get(reverse("procedures:my_requests")))
    assert "vence el" in page and page_url(draft, "negocio") in page
    assert filed.folio in page and reverse("procedures:status", args=[filed.public_id]) in page
    assert len(re.findall(r"TRC-\d{4}-\d{7}", page)) == 1


# --- Counter: the clerk files, the resident owns ------------------------------------------------


def test_a_counter_clerk_filing_uploads_into_the_applicants_file(client, licence, resident, make_official, login_official):
    from ventanilla.organization.models import Department

    clerk = make_official("counter_clerk", department=Department.objects.get(slug="desarrollo-economico"))
    req = services.start_draft(licence, applicant=resident, channel=Channel.COUNTER, filed_by=clerk)
    # Without the second factor the clerk is sent to enter it.
    client.force_login(clerk)
    response = client.get(page_url(req, "negocio"))
    assert response.status_code == 302 and "segundo-factor" in response["Location"]
    login_official(clerk)
    assert client.get(page_url(req, "negocio")).status_code == 200
    response = client.post(reverse("procedures:documents", args=[req.public_id]),
                           {"archivo-identificacion": pdf_upload("ine.pdf")})
    assert response.status_code == 302
    doc = ResidentDocument.objects.get(public_id=req.documents.get(key="identificacion").file_document)
    assert doc.owner == resident
    assert not ResidentDocument.objects.filter(owner=clerk).exists()


def test_pdf_helper_makes_documents_the_upload_checks_accept():
    from ventanilla.files.uploads import sniff

    assert sniff(make_pdf()) == "pdf"
