"""Residents' JSON API for online requests, mounted at /api/v1/tramites-en-linea/.

Authentication is the session cookie of a signed-in resident (Llave), with Django's CSRF token in
the X-CSRFToken header for every POST and PUT, like the rest of the platform's session APIs. A
request that is not the caller's is a 404, whatever the id. Errors are JSON with a Spanish
`detail` and, when fields are at fault, `errors` [{"campo", "mensaje"}]: a rule of the procedure
→ 422, an action the caller may not take → 403, somebody else changed the request → 409.

Submitting is cheap (no PDF is rendered): the acuse is signed when it is first downloaded."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as Reply
from ninja.security import django_auth
from pydantic import ConfigDict, Field

from ventanilla.catalog import selectors as catalog_selectors

from . import kiosk, selectors, services
from .journey import attachments
from .journey.fields import clean_text
from .models import Channel, DocumentSource, EventKind, Request, Status

API_PREFIX = "/tramites-en-linea/"
router = Router(tags=["Trámites en línea"], auth=django_auth)

MAX_ANSWERS = 200
MAX_VALUE = 5000


class FieldErrorOut(Schema):
    campo: str
    mensaje: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


class ProcedureRefOut(Schema):
    clave: str
    nombre: str


class SlotOut(Schema):
    clave: str
    nombre: str
    tipo: str = Field(description="Clave del tipo de documento del catálogo ('' si cualquiera)")
    obligatorio: bool
    lo_tiene_el_municipio: bool = Field(description="El municipio ya lo tiene: no se pide")
    documento: uuid.UUID | None = Field(None, description="Documento de Mi expediente adjunto")
    origen: str | None = Field(None, description="uploaded (subido) o file (tomado de Mi expediente)")


class EventOut(Schema):
    fecha: datetime
    evento: str
    descripcion: str
    texto: str = ""


class CorrectionOut(Schema):
    texto: str
    pedida: datetime
    fecha_limite: date


class RequestSummaryOut(Schema):
    id: uuid.UUID
    folio: str | None
    tramite: ProcedureRefOut
    estado: str
    estado_texto: str
    iniciada: datetime
    presentada: datetime | None
    borrador_vence: datetime | None


class RequestOut(RequestSummaryOut):
    canal: str
    pagina_actual: str
    paginas: list[str] = Field(description="Claves de las páginas del formulario, en orden")
    respuestas: dict[str, Any]
    documentos: list[SlotOut]
    faltantes: list[str] = Field(description="Lo que impide presentar el borrador")
    fecha_limite_respuesta: date | None
    derechos_centavos: int | None
    orden_de_pago: uuid.UUID | None
    documento_resolucion: uuid.UUID | None
    prevencion: CorrectionOut | None
    historial: list[EventOut]


class RequestListOut(Schema):
    total: int
    solicitudes: list[RequestSummaryOut]


class StartIn(Schema):
    model_config = ConfigDict(extra="forbid")
    tramite: str = Field(..., min_length=1, max_length=40, description="Clave del trámite, por ejemplo TOR-DGDE-001")


class PageIn(Schema):
    model_config = ConfigDict(extra="forbid")
    respuestas: dict[str, Any] = Field(
        ..., description="Respuesta por clave de pregunta (texto o número); un domicilio es un objeto con sus partes "
                         "(road_type, road_name, exterior_number, …) o claves 'domicilio.road_type'; un archivo es el id "
                         "de un documento de Mi expediente",
    )


class AttachIn(Schema):
    model_config = ConfigDict(extra="forbid")
    documento: uuid.UUID = Field(..., description="Id de un documento de tu expediente (Mi expediente)")


ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class _Refused(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None):
        self.status, self.message, self.errors = status, message, errors or {}


def _error(status: int, message: str, errors: dict[str, str] | None = None) -> Reply:
    rows = []
    for field, text in (errors or {}).items():
        for line in str(text).split("\n"):
            if line.strip():
                rows.append({"campo": "solicitud" if field == "__all__" else field, "mensaje": line.strip()})
    return Reply(status, {"detail": message, "errors": rows})


def _from_exception(exc: services.ProcedureError) -> Reply:
    if isinstance(exc, services.Conflict):
        return _error(409, exc.message, exc.errors)
    if isinstance(exc, services.NotAllowed):
        return _error(403, exc.message, exc.errors)
    return _error(422, exc.message, exc.errors)


def _caller(request: HttpRequest):
    user = request.auth
    if user.is_official and not user.is_verified():
        raise _Refused(403, _("Completa el segundo factor de autenticación antes de usar la API."))
    return user


def _load(request: HttpRequest, public_id: uuid.UUID) -> Request:
    found = selectors.request_of(_caller(request), public_id)
    if found is None:
        raise Http404
    return found


def _summary(req: Request) -> dict:
    return {
        "id": req.public_id, "folio": req.folio,
        "tramite": {"clave": req.procedure.clave, "nombre": req.procedure.name},
        "estado": req.status, "estado_texto": str(Status(req.status).label) if req.status in Status.values else req.status,
        "iniciada": req.created_at, "presentada": req.submitted_at,
        "borrador_vence": req.draft_expires_at if req.status == Status.DRAFT else None,
    }


def _detail(req: Request) -> dict:
    spec = services.spec_of(req)
    held = services.city_held_types(req)
    attached = {d.key: d for d in req.documents.all()}
    slots = [
        {"clave": d.key, "nombre": d.label, "tipo": d.document_type, "obligatorio": d.required,
         "lo_tiene_el_municipio": bool(d.document_type and d.document_type in held),
         "documento": attached[d.key].file_document if d.key in attached else None,
         "origen": attached[d.key].source if d.key in attached else None}
        for d in spec.documents
    ]
    correction = None
    if req.status == Status.CORRECTION:
        pending = req.corrections.filter(answered_at__isnull=True).order_by("-requested_at").first()
        if pending is not None:
            correction = {"texto": pending.text, "pedida": pending.requested_at, "fecha_limite": pending.due_date}
    history = [
        {"fecha": e.at, "evento": e.kind, "descripcion": str(EventKind(e.kind).label) if e.kind in EventKind.values else e.kind,
         "texto": e.text}
        for e in selectors.public_history(req, with_actors=False)
    ]
    return {
        **_summary(req), "canal": req.channel, "pagina_actual": req.current_page,
        "paginas": [p.key for p in spec.pages], "respuestas": req.answers, "documentos": slots,
        "faltantes": services.submission_problems(req) if req.status == Status.DRAFT else [],
        "fecha_limite_respuesta": req.due_date, "derechos_centavos": req.fee_centavos,
        "orden_de_pago": req.payment_order, "documento_resolucion": req.resolution_document,
        "prevencion": correction, "historial": history,
    }


def _answers_data(raw: dict[str, Any]) -> dict[str, str]:
    """The JSON answers as the form would post them (strings; address parts as `key.part`)."""
    if len(raw) > MAX_ANSWERS:
        raise _Refused(422, _("Demasiadas respuestas en una sola página."))
    data: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            for part, text in value.items():
                data[f"{key}.{part}"] = _scalar(f"{key}.{part}", text)
        else:
            data[str(key)] = _scalar(str(key), value)
    return data


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Refused(422, _("Los datos enviados no son válidos."),
                       {key: _("Escribe la respuesta como texto o número.")})
    text = clean_text(value, MAX_VALUE + 1)
    if len(text) > MAX_VALUE:
        raise _Refused(422, _("Los datos enviados no son válidos."), {key: _("El texto es demasiado largo.")})
    return text


def _guarded(fn):
    """Turns the module's refusals and the services' errors into JSON errors."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _Refused as exc:
            return _error(exc.status, exc.message, exc.errors)
        except services.ProcedureError as exc:
            return _from_exception(exc)

    return wrapper


@router.get("/solicitudes", response={200: RequestListOut, **ERRORS}, summary="Mis solicitudes")
@_guarded
def list_requests(request: HttpRequest, limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0, le=1_000_000)):
    """Tus solicitudes (borradores y presentadas), las más recientes primero."""
    mine = selectors.requests_of(_caller(request))
    return Reply(200, {"total": mine.count(), "solicitudes": [_summary(r) for r in mine[offset:offset + limit]]})


@router.post("/solicitudes", response={201: RequestOut, **ERRORS}, summary="Iniciar una solicitud (borrador)")
@_guarded
def start(request: HttpRequest, payload: StartIn):
    """Inicia un borrador del trámite con esa clave, si se puede hacer en línea."""
    user = _caller(request)
    procedure = catalog_selectors.procedure_by_clave(payload.tramite)
    definition = selectors.definition_for_procedure(procedure) if procedure is not None else None
    if definition is None:
        return _error(404, _("No hay un trámite en línea con esa clave."))
    channel = Channel.KIOSK if kiosk.is_kiosk(request) else Channel.ONLINE
    draft = services.start_draft(definition, applicant=user, channel=channel)
    return Reply(201, _detail(draft))


@router.get("/solicitudes/{public_id}", response={200: RequestOut, **ERRORS}, summary="Estado de una solicitud")
@_guarded
def detail(request: HttpRequest, public_id: uuid.UUID):
    """El estado, las respuestas, los documentos, el historial público y lo que falta."""
    return Reply(200, _detail(_load(request, public_id)))


@router.put("/solicitudes/{public_id}/paginas/{page}", response={200: RequestOut, **ERRORS},
            summary="Responder una página del formulario")
@_guarded
def save_page(request: HttpRequest, public_id: uuid.UUID, page: str, payload: PageIn):
    """Guarda las respuestas de una página; si alguna no es válida no se guarda nada (422 con `errors`)."""
    req = _load(request, public_id)
    if len(page) > 60 or services.spec_of(req).page(page) is None:
        return _error(404, _("El formulario no tiene esa página."))
    result = services.save_page(req, page, _answers_data(payload.respuestas))
    if not result.ok:
        return _error(422, _("Revisa las respuestas."), result.errors)
    req.refresh_from_db()
    return Reply(200, _detail(req))


@router.post("/solicitudes/{public_id}/documentos/{slot}", response={200: RequestOut, **ERRORS},
             summary="Adjuntar un documento de Mi expediente")
@_guarded
def attach(request: HttpRequest, public_id: uuid.UUID, slot: str, payload: AttachIn):
    """Adjunta al documento pedido `slot` uno de tu expediente (súbelo antes en Mi expediente)."""
    req = _load(request, public_id)
    problem = attachments.slot_problem(req, slot[:60], payload.documento)
    if problem is not None:
        return _error(problem[0], problem[1])
    services.attach_document(req, slot, payload.documento, source=DocumentSource.FILE)
    req.refresh_from_db()
    return Reply(200, _detail(req))


@router.post("/solicitudes/{public_id}/presentar", response={200: RequestOut, **ERRORS}, summary="Presentar la solicitud")
@_guarded
def submit(request: HttpRequest, public_id: uuid.UUID):
    """Presenta el borrador completo: recibe folio y fecha límite de respuesta."""
    submitted = services.submit(_load(request, public_id), actor=request.auth)
    return Reply(200, _detail(submitted))  # the row as submit() left it: nothing to read again
