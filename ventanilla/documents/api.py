"""Public JSON API of issued documents, mounted at /api/v1/documentos/: the same answer as the
verification page a QR code opens. No authentication; the holder's name is partially masked."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from . import selectors, services

API_PREFIX = "/documentos/"
router = Router(tags=["Documentos"])


class FieldOut(Schema):
    label: str
    value: str


class VerificationOut(Schema):
    status: str = Field(description="valid (auténtico y vigente) o revoked (revocado)")
    detail: str = Field(description="La respuesta en palabras")
    public_id: uuid.UUID
    kind: str = Field(description="acuse, resolution, certificate, ficta_certificate, denial_notice o receipt")
    kind_label: str
    title: str
    folio: str
    issued_at: datetime
    holder: str = Field(description="Nombre del titular, parcialmente oculto")
    fields: list[FieldOut]
    revoked_at: datetime | None = None
    revoked_reason: str = ""
    verification_url: str


class UnknownOut(Schema):
    status: str = Field(description="unknown: no hay un documento emitido con ese código")
    detail: str


@router.get(
    "/verificacion/{public_id}",
    response={200: VerificationOut, 404: UnknownOut},
    summary="Verificar un documento emitido por su código",
)
def verification(request: HttpRequest, public_id: uuid.UUID):
    """Estado de un documento emitido por el municipio: `valid` o `revoked` (con fecha y motivo);
    404 con `unknown` si el código no corresponde a ningún documento."""
    from .rendering import verification_url

    document = selectors.document_by_public_id(public_id)
    status = services.status_of(document)
    if document is None:
        return Status(404, {"status": status, "detail": _("No hay ningún documento emitido con ese código.")})
    return Status(200, {
        "status": status,
        "detail": (
            _("El documento es auténtico, pero fue revocado.") if status == "revoked"
            else _("El documento es auténtico y está vigente.")
        ),
        "public_id": document.public_id,
        "kind": document.kind,
        "kind_label": str(document.get_kind_display()),
        "title": document.title,
        "folio": document.folio,
        "issued_at": document.issued_at,
        "holder": services.holder_name(document),
        "fields": [{"label": label, "value": value} for label, value in services.public_fields(document)],
        "revoked_at": document.revoked_at,
        "revoked_reason": document.revoked_reason,
        "verification_url": verification_url(document.public_id),
    })
