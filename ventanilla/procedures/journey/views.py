"""The resident's pages of an online request. Every view loads the request with
`selectors.request_of(request.user, public_id)`: the applicant, or the counter clerk filing it
for them, may act; anybody else gets a 404 whatever the id. Rules live in `services`."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ventanilla.catalog import selectors as catalog_selectors
from ventanilla.files.uploads import UploadRejected, check_upload, human_size, max_upload_bytes
from ventanilla.identity.permissions import two_factor_url
from ventanilla.payments.money import format_pesos

from .. import kiosk, selectors, services
from .. import spec as spec_module
from ..models import Channel, DocumentSource, Request, Status
from . import attachments, presentation
from .fields import FILE_SUFFIX, clean_text, error_list, page_fields, submitted_data

CONTINUE, SAVE_AND_EXIT = "continuar", "salir"
BACK_TO_CHECK = "revisar"


def resident_view(view):
    """Signed in; an official (a counter clerk filing for a resident) also with the second factor."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_official and not user.is_verified():
            return redirect(two_factor_url(request.get_full_path()))
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def _load(request: HttpRequest, public_id) -> Request:
    found = selectors.request_of(request.user, public_id)
    if found is None:
        raise Http404
    return found


def _problem(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "procedures/journey/problem.html", {"title": title, "message": message}, status=status)


def _upload_hint() -> str:
    return _("PDF, JPG o PNG de hasta %(max)s.") % {"max": human_size(max_upload_bytes())}


# --- Start ---------------------------------------------------------------------------------------


@resident_view
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, clave: str) -> HttpResponse:
    """POST from the procedure's start page: a new draft, then its first page."""
    procedure = catalog_selectors.procedure_by_clave(clave)
    if procedure is None:
        raise Http404
    if request.method == "GET":
        return redirect("portal:procedure_start", procedure.clave)
    definition = selectors.definition_for_procedure(procedure)
    if definition is None:
        raise Http404
    channel = Channel.KIOSK if kiosk.is_kiosk(request) else Channel.ONLINE
    try:
        draft = services.start_draft(definition, applicant=request.user, channel=channel)
    except services.NotAllowed as exc:
        return _problem(request, _("No puedes iniciar este trámite"), exc.message, 403)
    except services.ProcedureError as exc:
        return _problem(request, _("No puedes iniciar este trámite"), exc.message, 400)
    first = services.spec_of(draft).pages[0]
    return redirect(presentation.page_url(draft, first.key))


# --- Form pages ----------------------------------------------------------------------------------


def _page_context(req: Request, spec, page, views, errors) -> dict:
    previous = spec.previous_page(page.key)
    keys = [p.key for p in spec.pages]
    return {
        "req": req, "page": page, "fields": views, "errors": error_list(views, errors),
        "position": keys.index(page.key) + 1, "total": len(keys),
        "back_url": presentation.page_url(req, previous.key) if previous else reverse("procedures:my_requests"),
        "has_files": any(v.widget == "file" for v in views), "upload_hint": _upload_hint(),
        "expires": req.draft_expires_at,
    }


@resident_view
@attachments.upload_limited
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, public_id, page_key: str) -> HttpResponse:
    req = _load(request, public_id)
    if req.status != Status.DRAFT:
        return redirect("procedures:status", req.public_id)
    spec = services.spec_of(req)
    form_page = spec.page(page_key)
    if form_page is None:
        raise Http404
    file_fields = [f for f in form_page.fields if f.type == "file"]
    documents = attachments.candidates(req.applicant, "") if file_fields else []
    if request.method == "GET":
        services.record_page_view(req, page_key)
        views = page_fields(spec, form_page, req.answers, documents=documents)
        return render(request, "procedures/journey/page.html", _page_context(req, spec, form_page, views, {}))

    data = submitted_data(form_page, request.POST)
    errors: dict[str, str] = {}
    with transaction.atomic():
        try:
            attachments.check_count(request.FILES)
            for f in file_fields:
                upload = request.FILES.get(f"{f.key}{FILE_SUFFIX}")
                if upload is None or not f.is_visible({**req.answers, **data}):
                    continue
                try:
                    checked = check_upload(upload)
                    plan = attachments.Planned(slot=f.key, checked=checked, title=f.label)
                    data[f.key] = attachments.store(req.applicant, plan)
                except UploadRejected as exc:
                    errors[f.key] = exc.message
        except UploadRejected as exc:
            errors["__all__"] = exc.message
        if errors:
            # Show every problem of the page at once; store nothing.
            shown = spec_module.clean_page(spec, page_key, data, req.answers).errors
            errors = {**shown, **errors}
            transaction.set_rollback(True)
        else:
            result = services.save_page(req, page_key, data)
            if not result.ok:
                errors = result.errors
                transaction.set_rollback(True)
    if errors:
        views = page_fields(spec, form_page, req.answers, data=data, errors=errors, documents=documents)
        return render(request, "procedures/journey/page.html",
                      _page_context(req, spec, form_page, views, errors), status=400)
    req.refresh_from_db()
    if request.POST.get("accion") == SAVE_AND_EXIT:
        messages.success(request, _("Guardamos tu borrador. Puedes continuar desde «Mis solicitudes» hasta el %(date)s.")
                         % {"date": presentation.long_date(timezone.localdate(req.draft_expires_at))})
        return redirect("procedures:my_requests")
    if request.GET.get("volver") == BACK_TO_CHECK:
        return redirect("procedures:check", req.public_id)
    following = spec.next_page(page_key)
    if following is not None:
        return redirect(presentation.page_url(req, following.key))
    return redirect("procedures:documents", req.public_id)


# --- Documents -----------------------------------------------------------------------------------


def _slots(req: Request, errors: dict[str, str] | None = None) -> list[dict]:
    spec = services.spec_of(req)
    held = services.city_held_types(req)
    attached = {d.key: d for d in req.documents.all()}
    titles = attachments.titles_of(req.applicant, [str(d.file_document) for d in attached.values()])
    slots = []
    for slot in spec.documents:
        by_city = bool(slot.document_type and slot.document_type in held)
        current = attached.get(slot.key)
        slots.append({
            "slot": slot, "by_city": by_city, "attached": current,
            "attached_title": titles.get(str(current.file_document), "") if current else "",
            "candidates": [] if by_city else attachments.candidates(req.applicant, slot.document_type),
            "error": (errors or {}).get(slot.key, ""),
        })
    return slots


def _documents_page(request: HttpRequest, req: Request, errors: dict[str, str] | None = None,
                    status: int = 200) -> HttpResponse:
    errors = errors or {}
    slots = _slots(req, errors)
    summary = [("", m) for k, m in errors.items() if k == "__all__"]
    summary += [(f"#documento-{s['slot'].key}", s["error"]) for s in slots if s["error"]]
    return render(request, "procedures/journey/documents.html", {
        "req": req, "slots": slots, "errors": summary, "upload_hint": _upload_hint(),
        "back_url": presentation.page_url(req, services.spec_of(req).pages[-1].key),
    }, status=status)


def plan_documents(request: HttpRequest, req: Request, *, prefix_pick: str = "elegir-",
                   prefix_file: str = "archivo-") -> tuple[list[attachments.Planned], dict[str, str]]:
    """Reads every slot's choice (a new file or one of the applicant's documents) and checks it,
    storing nothing. Returns the plan and the errors by slot."""
    spec = services.spec_of(req)
    held = services.city_held_types(req)
    plans: list[attachments.Planned] = []
    errors: dict[str, str] = {}
    try:
        attachments.check_count(request.FILES)
    except UploadRejected as exc:
        return [], {"__all__": exc.message}
    current = {d.key: str(d.file_document) for d in req.documents.all()}
    for slot in spec.documents:
        if slot.document_type and slot.document_type in held:
            continue
        upload = request.FILES.get(f"{prefix_file}{slot.key}")
        pick = clean_text(request.POST.get(f"{prefix_pick}{slot.key}", ""), 100)
        if upload is not None:
            try:
                checked = check_upload(upload)
            except UploadRejected as exc:
                errors[slot.key] = exc.message
                continue
            plans.append(attachments.Planned(slot=slot.key, checked=checked, title=slot.label,
                                             document_type=slot.document_type))
        elif pick and pick != current.get(slot.key):
            doc = attachments.pick_of(req.applicant, pick, slot.document_type)
            if doc is None:
                errors[slot.key] = _("Elige un documento de tu expediente de la lista.")
                continue
            plans.append(attachments.Planned(slot=slot.key, file_document=str(doc.public_id)))
    return plans, errors


@resident_view
@attachments.upload_limited
@require_http_methods(["GET", "POST"])
def documents(request: HttpRequest, public_id) -> HttpResponse:
    req = _load(request, public_id)
    if req.status != Status.DRAFT:
        return redirect("procedures:status", req.public_id)
    if request.method == "GET":
        services.record_page_view(req, presentation.DOCUMENTS_PAGE)
        return _documents_page(request, req)
    plans, errors = plan_documents(request, req)
    if errors:
        return _documents_page(request, req, errors, status=400)
    try:
        with transaction.atomic():
            for plan in plans:
                if plan.checked is not None:
                    services.attach_document(req, plan.slot, attachments.store(req.applicant, plan),
                                             source=DocumentSource.UPLOADED)
                else:
                    services.attach_document(req, plan.slot, plan.file_document, source=DocumentSource.FILE)
    except UploadRejected as exc:
        return _documents_page(request, req, {"__all__": exc.message}, status=400)
    except services.ProcedureError as exc:
        return _documents_page(request, req, {"__all__": exc.message}, status=400)
    action = request.POST.get("accion")
    if action == SAVE_AND_EXIT:
        messages.success(request, _("Guardamos tu borrador. Puedes continuar desde «Mis solicitudes»."))
        return redirect("procedures:my_requests")
    if action == CONTINUE:
        return redirect("procedures:check", req.public_id)
    if plans:
        messages.success(request, _("Guardamos tus documentos."))
    return redirect("procedures:documents", req.public_id)


@resident_view
@require_POST
def detach(request: HttpRequest, public_id, slot: str) -> HttpResponse:
    req = _load(request, public_id)
    try:
        services.detach_document(req, slot)
    except services.ProcedureError as exc:
        return _problem(request, _("No se pudo quitar el documento"), exc.message, 400)
    messages.success(request, _("Quitamos el documento de la solicitud; sigue en tu expediente."))
    return redirect("procedures:documents", req.public_id)


# --- Check your answers and submit ----------------------------------------------------------------


def _check_page(request: HttpRequest, req: Request, error: str = "", status: int = 200) -> HttpResponse:
    slots = _slots(req)
    spec = services.spec_of(req)
    file_ids = [v for k, v in req.answers.items() if k in spec.fields_by_key and spec.fields_by_key[k].type == "file"]
    fee = presentation.fee_centavos(req)
    return render(request, "procedures/journey/check.html", {
        "req": req, "sections": presentation.answer_rows(req, attachments.titles_of(req.applicant, file_ids)),
        "slots": slots, "fee": fee, "fee_text": format_pesos(fee) if fee else "", "problems": services.submission_problems(req),
        "error": error,
    }, status=status)


@resident_view
@require_GET
def check(request: HttpRequest, public_id) -> HttpResponse:
    req = _load(request, public_id)
    if req.status != Status.DRAFT:
        return redirect("procedures:status", req.public_id)
    services.record_page_view(req, "revisar")
    return _check_page(request, req)


@resident_view
@require_POST
def submit(request: HttpRequest, public_id) -> HttpResponse:
    req = _load(request, public_id)
    if req.status != Status.DRAFT:
        return redirect("procedures:status", req.public_id)
    try:
        services.submit(req, actor=request.user)
    except services.ProcedureError as exc:
        req.refresh_from_db()
        return _check_page(request, req, error=exc.message, status=409 if isinstance(exc, services.Conflict) else 400)
    return redirect("procedures:confirmation", req.public_id)


@resident_view
@require_GET
def confirmation(request: HttpRequest, public_id) -> HttpResponse:
    req = _load(request, public_id)
    if req.status == Status.DRAFT:
        return redirect("procedures:check", req.public_id)
    return render(request, "procedures/journey/confirmation.html", {"req": req})


def acuse_fields(req: Request) -> list[tuple]:
    submitted = timezone.localtime(req.submitted_at) if req.submitted_at else None
    fields = [
        (_("Trámite"), f"{req.procedure.name} ({req.procedure.clave})"),
        (_("Dependencia"), req.department.name),
        (_("Solicitante"), req.applicant.full_name, True),  # personal: masked on the public page
        (_("Fecha y hora de presentación"), submitted.strftime("%d/%m/%Y %H:%M") if submitted else ""),
        (_("Canal"), Channel(req.channel).label if req.channel in Channel.values else req.channel),
    ]
    if req.applicant.curp:
        fields.insert(3, (_("CURP"), req.applicant.curp, True))
    if req.procedure.response_days:
        fields.append((_("Plazo de respuesta"), _("%(n)s días hábiles") % {"n": req.procedure.response_days}))
    return fields


def acuse_paragraphs(req: Request) -> list[str]:
    spec = services.spec_of(req)
    attached = set(req.documents.values_list("key", flat=True))
    held = services.city_held_types(req)
    received = [d.label for d in spec.documents if d.key in attached]
    by_city = [d.label for d in spec.documents if d.key not in attached and d.document_type and d.document_type in held]
    paragraphs = [_("%(department)s recibió esta solicitud con el folio %(folio)s. Su estado se consulta en «Mis solicitudes».")
                  % {"department": req.department.name, "folio": req.folio}]
    if received:
        paragraphs.append(_("Documentos recibidos: %(docs)s.") % {"docs": "; ".join(received)})
    if by_city:
        paragraphs.append(_("Documentos que ya tiene el municipio y no se pidieron: %(docs)s.") % {"docs": "; ".join(by_city)})
    return paragraphs


def issue_acuse(req: Request):
    """The signed acknowledgement of receipt, issued on its first download (idempotent)."""
    from ventanilla.documents import services as documents

    with transaction.atomic():
        return documents.issue(
            kind="acuse", owner=req.applicant, title=_("Acuse de recibo de solicitud"), folio=req.folio,
            fields=acuse_fields(req), paragraphs=acuse_paragraphs(req), source_ref=f"procedures.acuse:{req.public_id}",
        )


@resident_view
@require_GET
def acuse(request: HttpRequest, public_id) -> HttpResponse:
    req = _load(request, public_id)
    if req.status == Status.DRAFT or not req.folio:
        raise Http404
    document = issue_acuse(req)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"acuse-{req.folio}.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Status, messages, correction ---------------------------------------------------------------


def _pending_correction(req: Request):
    if req.status != Status.CORRECTION:
        return None
    return req.corrections.filter(answered_at__isnull=True).order_by("-requested_at").first()


def _status_page(request: HttpRequest, req: Request, *, message_error: str = "", message_text: str = "",
                 correction_errors: dict[str, str] | None = None, correction_text: str = "",
                 status: int = 200) -> HttpResponse:
    events = list(selectors.public_history(req))
    correction = _pending_correction(req)
    correction_errors = correction_errors or {}
    slots = _slots(req, correction_errors) if correction else []
    summary = [("#respuesta-texto" if k == "text" else "", m) for k, m in correction_errors.items()
               if k in ("__all__", "text")]
    summary += [(f"#documento-{s['slot'].key}", s["error"]) for s in slots if s["error"]]
    return render(request, "procedures/journey/status.html", {
        "req": req, "words": presentation.status_words(req), "history": presentation.history(req, events),
        "conversation": presentation.conversation(req, events), "correction": correction, "slots": slots,
        "correction_errors": correction_errors, "correction_summary": summary, "correction_text": correction_text,
        "message_error": message_error, "message_text": message_text, "upload_hint": _upload_hint(),
        "resume_url": presentation.resume_url(req) if req.status == Status.DRAFT else "",
        "can_message": req.status != Status.DRAFT and not req.is_final,
        "fee_text": format_pesos(int(req.fee_centavos)) if req.fee_centavos else "",
    }, status=status)


@resident_view
@require_GET
def status(request: HttpRequest, public_id) -> HttpResponse:
    return _status_page(request, _load(request, public_id))


@resident_view
@require_POST
def message(request: HttpRequest, public_id) -> HttpResponse:
    req = _load(request, public_id)
    text = clean_text(request.POST.get("mensaje", ""))
    if req.status == Status.DRAFT or req.is_final:
        return _status_page(request, req, message_error=_("Solo puedes escribir mientras la solicitud está en trámite."),
                            message_text=text, status=400)
    try:
        services.send_message(req, sender=request.user, text=text)
    except services.ProcedureError as exc:
        return _status_page(request, req, message_error=exc.message, message_text=text,
                            status=403 if isinstance(exc, services.NotAllowed) else 400)
    messages.success(request, _("Enviamos tu mensaje."))
    return redirect(reverse("procedures:status", args=[req.public_id]) + "#mensajes")


@resident_view
@attachments.upload_limited
@require_POST
def correction(request: HttpRequest, public_id) -> HttpResponse:
    """The resident answers the correction request: a text and corrected documents."""
    req = _load(request, public_id)
    text = clean_text(request.POST.get("respuesta", ""))
    if _pending_correction(req) is None:
        return _status_page(request, req, correction_errors={"__all__": _("Esta solicitud no tiene una corrección pendiente.")},
                            status=400)
    plans, errors = plan_documents(request, req)
    if errors:
        return _status_page(request, req, correction_errors=errors, correction_text=text, status=400)
    try:
        with transaction.atomic():
            chosen = {}
            for plan in plans:
                chosen[plan.slot] = attachments.store(req.applicant, plan) if plan.checked is not None else plan.file_document
            services.answer_correction(req, actor=request.user, text=text, documents=chosen)
    except UploadRejected as exc:
        return _status_page(request, req, correction_errors={"__all__": exc.message}, correction_text=text, status=400)
    except services.ProcedureError as exc:
        errors = {"__all__": exc.message}
        if "text" in exc.errors:
            errors = {"text": exc.errors["text"]}
        req.refresh_from_db()
        return _status_page(request, req, correction_errors=errors, correction_text=text,
                            status=403 if isinstance(exc, services.NotAllowed) else 400)
    messages.success(request, _("Enviamos tu respuesta. La revisión continúa y el plazo vuelve a correr."))
    return redirect("procedures:status", req.public_id)


# --- My requests ---------------------------------------------------------------------------------


@resident_view
@require_GET
def my_requests(request: HttpRequest) -> HttpResponse:
    mine = list(selectors.requests_of(request.user))
    drafts = [(r, presentation.resume_url(r)) for r in mine if r.status == Status.DRAFT]
    filed = [r for r in mine if r.status != Status.DRAFT]
    return render(request, "procedures/journey/my_requests.html", {"drafts": drafts, "filed": filed})
