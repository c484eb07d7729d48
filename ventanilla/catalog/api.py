"""Public JSON API of the catalogue, mounted at /api/v1/catalogo/. Read-only, no authentication:
it only ever shows published procedures."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from . import selectors
from .models import Procedure

router = Router(tags=["Catálogo"])


class DepartmentOut(Schema):
    slug: str = Field(description="Clave de la dependencia")
    name: str = Field(description="Nombre de la dependencia responsable")
    acronym: str = Field(description="Siglas")


class LifeEventOut(Schema):
    slug: str = Field(description="Clave del momento de vida")
    name: str
    description: str
    order: int
    count: int = Field(description="Trámites publicados en este momento de vida")


class ChannelsOut(Schema):
    online: bool = Field(description="Se puede hacer en línea")
    in_person: bool = Field(description="Se puede hacer en una oficina")
    kiosk: bool = Field(description="Se puede hacer en un kiosco")


class CostParameterOut(Schema):
    name: str
    label: str
    unit: str = ""


class CostOut(Schema):
    kind: str = Field(description="free (gratuito), fixed (monto fijo) o rule (se calcula)")
    amount_mxn: str | None = Field(None, description="Monto fijo en pesos, con dos decimales")
    description: str = Field("", description="Cómo se calcula el costo, en palabras")
    parameters: list[CostParameterOut] = Field(default_factory=list, description="Datos que pide el cálculo")
    formula: str = Field("", description="Fórmula (la constante UMA vale la Unidad de Medida y Actualización)")
    payment_alternatives: list[str] = Field(default_factory=list, description="en_linea, banco, tienda o caja")


class ProcedureSummaryOut(Schema):
    clave: str = Field(description="Clave única del trámite")
    name: str
    kind: str = Field(description="tramite o servicio")
    description: str
    department: DepartmentOut
    channels: ChannelsOut
    response_days: int | None = Field(description="Plazo de respuesta en días hábiles")
    is_free: bool


class RequirementOut(Schema):
    document_code: str
    document: str = Field(description="Nombre del documento")
    detail: str
    original: bool = Field(description="Se presenta en original para cotejo")
    copies: int
    legal_basis: str
    held_by_city: bool = Field(description="El municipio ya lo tiene: no se vuelve a pedir")


class OfficeOut(Schema):
    name: str
    address: str
    hours: str
    phone: str
    email: str
    latitude: str | None
    longitude: str | None


class ProcedureDetailOut(ProcedureSummaryOut):
    modality: str
    presentation: str
    legal_basis: str
    who_may_file: str
    steps: list[str]
    requirements: list[RequirementOut]
    inspection_objective: str | None = Field(description="Objetivo de la inspección, si la hay")
    cost: CostOut
    ficta: str = Field(description="afirmativa, negativa o no_aplica")
    prevention_days: int | None
    correction_days: int | None
    validity: str
    resolution_criteria: str
    offices: list[OfficeOut]
    contact_phone: str
    contact_email: str
    complaint_channels: str
    requires_appointment: bool
    keywords: list[str]
    life_events: list[str]
    published_at: datetime | None


class ProcedurePageOut(Schema):
    count: int = Field(description="Total de trámites que cumplen el filtro")
    page: int
    page_size: int
    results: list[ProcedureSummaryOut]


class SearchHitOut(Schema):
    clave: str
    name: str
    score: float = Field(description="Relevancia (más alto es mejor)")
    department: str
    kind: str
    online: bool
    description: str


class SearchOut(Schema):
    query: str
    results: list[SearchHitOut]


class ErrorOut(Schema):
    detail: str


class ListFilters(Schema):
    page: int = Field(1, ge=1, le=10_000, description="Página, desde 1")
    page_size: int = Field(20, ge=1, le=100, description="Resultados por página (máximo 100)")
    momento: str | None = Field(None, max_length=64, description="Clave de un momento de vida")
    dependencia: str | None = Field(None, max_length=64, description="Clave de una dependencia")
    en_linea: bool | None = Field(None, description="Solo los que se pueden hacer en línea")


class SearchParams(Schema):
    q: str = Field(..., min_length=1, max_length=200, description="Lo que buscas, como lo dirías")
    limit: int = Field(10, ge=1, le=50)
    momento: str | None = Field(None, max_length=64, description="Clave de un momento de vida")


def _summary(p: Procedure) -> dict:
    d = p.department
    return {
        "clave": p.clave, "name": p.name, "kind": p.kind, "description": p.description,
        "department": {"slug": d.slug, "name": d.name, "acronym": d.acronym},
        "channels": {"online": p.channel_online, "in_person": p.channel_in_person, "kiosk": p.channel_kiosk},
        "response_days": p.response_days, "is_free": p.is_free,
    }


def procedure_detail_dict(p: Procedure) -> dict:
    """The full public record of a published procedure (also used by the exports)."""
    data = _summary(p)
    data.update({
        "modality": p.modality, "presentation": p.presentation, "legal_basis": p.legal_basis,
        "who_may_file": p.who_may_file, "steps": list(p.steps),
        "requirements": [
            {"document_code": r.document_type.code, "document": r.document_type.name, "detail": r.detail,
             "original": r.original, "copies": r.copies, "legal_basis": r.legal_basis,
             "held_by_city": r.document_type.held_by_city}
            for r in p.requirements.all()
        ],
        "inspection_objective": p.inspection_objective if p.has_inspection else None,
        "cost": {
            "kind": p.cost_kind, "amount_mxn": p.cost_amount_pesos if p.cost_kind == "fixed" else None,
            "description": p.cost_description, "parameters": p.cost_parameters if p.cost_kind == "rule" else [],
            "formula": p.cost_formula if p.cost_kind == "rule" else "",
            "payment_alternatives": list(p.payment_alternatives),
        },
        "ficta": p.ficta, "prevention_days": p.prevention_days, "correction_days": p.correction_days,
        "validity": p.validity, "resolution_criteria": p.resolution_criteria,
        "offices": [
            {"name": o.name, "address": o.address, "hours": o.hours, "phone": o.phone, "email": o.email,
             "latitude": str(o.latitude) if o.latitude is not None else None,
             "longitude": str(o.longitude) if o.longitude is not None else None}
            for o in p.offices.all()
        ],
        "contact_phone": p.contact_phone, "contact_email": p.contact_email,
        "complaint_channels": p.complaint_channels, "requires_appointment": p.requires_appointment,
        "keywords": list(p.keywords), "life_events": sorted(e.slug for e in p.life_events.all()),
        "published_at": p.published_at,
    })
    return data


@router.get("/tramites", response=ProcedurePageOut, summary="Lista de trámites y servicios publicados")
def list_procedures(request: HttpRequest, filters: Query[ListFilters]):
    """Trámites y servicios publicados, por nombre, con filtros por momento de vida, dependencia
    y disponibilidad en línea."""
    qs = selectors.published_procedures()
    if filters.momento:
        qs = qs.filter(life_events__slug=filters.momento).distinct()
    if filters.dependencia:
        qs = qs.filter(department__slug=filters.dependencia)
    if filters.en_linea is not None:
        qs = qs.filter(channel_online=filters.en_linea)
    count = qs.count()
    start = (filters.page - 1) * filters.page_size
    return {
        "count": count, "page": filters.page, "page_size": filters.page_size,
        "results": [_summary(p) for p in qs[start:start + filters.page_size]],
    }


@router.get("/tramites/{clave}", response={200: ProcedureDetailOut, 404: ErrorOut},
            summary="Ficha completa de un trámite")
def procedure_detail(request: HttpRequest, clave: str):
    """Todos los datos que la ley pide publicar de un trámite: requisitos, costo, plazos, ficta,
    vigencia, oficinas y contacto."""
    procedure = selectors.procedure_by_clave(clave)
    if procedure is None:
        raise Http404
    return procedure_detail_dict(procedure)


@router.get("/buscar", response=SearchOut, summary="Buscar como lo dirías")
def search_procedures(request: HttpRequest, params: Query[SearchParams]):
    """Búsqueda que entiende sinónimos («tiendita»), errores de escritura y acentos."""
    hits = selectors.search(params.q, limit=params.limit, life_event=params.momento)
    return {"query": params.q, "results": [h.__dict__ for h in hits]}


@router.get("/momentos-de-vida", response=list[LifeEventOut], summary="Momentos de vida")
def life_events(request: HttpRequest):
    """Momentos de vida con el número de trámites publicados de cada uno."""
    return [e.__dict__ for e in selectors.life_events_with_counts()]


@router.get("/mas-solicitados", response=list[ProcedureSummaryOut], summary="Los más solicitados")
def most_requested(request: HttpRequest, limit: int = Query(8, ge=1, le=50), dias: int = Query(90, ge=1, le=365)):
    """Los trámites más usados en los últimos días (una solicitud iniciada pesa más que una consulta)."""
    return [_summary(p) for p in selectors.most_requested(limit=limit, days=dias)]
