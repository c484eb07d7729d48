"""The resident's requests as a section of "Mi expediente" and of the ARCO archive.

`register()` is called from ProceduresConfig.ready(). The export holds, for each of the
resident's requests (drafts included, expired drafts too: they are still the resident's data), the
answers, the state, the dates, the documents attached and the public history; never internal
notes or assignments."""

from __future__ import annotations

import json

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Request, Status

SECTION_KEY = "solicitudes"
LATEST = 5


def _iso(value):
    if value is None:
        return None
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return value.isoformat()


def context(user) -> dict:
    from . import selectors

    mine = selectors.requests_of(user)
    return {"requests": list(mine[:LATEST]), "total": mine.count()}


def export_rows(user) -> list[dict]:
    requests = (
        Request.objects.filter(applicant=user)
        .select_related("procedure", "department")
        .prefetch_related("documents", "corrections", "events")
        .order_by("created_at", "pk")
    )
    rows = []
    for req in requests:
        rows.append({
            "folio": req.folio,
            "id": str(req.public_id),
            "tramite": {"clave": req.procedure.clave, "nombre": req.procedure.name},
            "dependencia": req.department.name,
            "canal": req.channel,
            "estado": req.status,
            "estado_texto": str(Status(req.status).label) if req.status in Status.values else req.status,
            "iniciada": _iso(req.created_at),
            "presentada": _iso(req.submitted_at),
            "fecha_limite_respuesta": _iso(req.due_date),
            "resuelta": _iso(req.resolved_at),
            "borrador_vence": _iso(req.draft_expires_at) if req.status == Status.DRAFT else None,
            "derechos_centavos": req.fee_centavos,
            "respuestas": req.answers,
            "documentos": [
                {"documento": d.key, "expediente_id": str(d.file_document), "origen": d.source, "agregado": _iso(d.added_at)}
                for d in req.documents.all()
            ],
            "prevenciones": [
                {"texto": c.text, "pedida": _iso(c.requested_at), "fecha_limite": _iso(c.due_date),
                 "respondida": _iso(c.answered_at), "respuesta": c.answer_text}
                for c in req.corrections.all()
            ],
            "resolucion": {"documento": str(req.resolution_document) if req.resolution_document else None,
                           "fundamentos": req.resolution_text},
            "historial": [
                {"fecha": _iso(e.at), "evento": e.kind, "texto": e.text}
                for e in sorted(req.events.all(), key=lambda e: (e.at, e.pk)) if not e.internal
            ],
        })
    return rows


def export(user) -> dict[str, bytes]:
    return {"solicitudes.json": json.dumps(export_rows(user), ensure_ascii=False, indent=2).encode()}


def register() -> None:
    from ventanilla.files.sections import Section, register as register_section

    register_section(Section(
        key=SECTION_KEY, title=_("Mis solicitudes"), template_name="procedures/journey/expediente_section.html",
        context=context, export=export,
    ))
