"""Issuing, revoking and verifying the city's signed documents."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit import services as audit

from . import signing
from .models import IssuedDocument, Kind
from .rendering import Content, render_pdf

logger = logging.getLogger(__name__)

KINDS = tuple(Kind.values)
MAX_REASON = 500
# Kind names as printed on the document (the document itself is always in Spanish).
_KIND_LABELS_ES = {
    "acuse": "Acuse de recibo",
    "resolution": "Resolución",
    "certificate": "Constancia",
    "ficta_certificate": "Certificación de afirmativa ficta",
    "denial_notice": "Aviso de negativa",
    "receipt": "Recibo de pago",
}


class DocumentError(ValueError):
    """A rule was broken; the message is in Spanish and safe to show."""


def issue(
    *,
    kind: str,
    owner,
    title: str,
    folio: str,
    fields: Sequence[tuple[str, str] | tuple[str, str, bool]],
    paragraphs: Sequence[str] = (),
    source_ref: str = "",
) -> IssuedDocument:
    """Render, sign and store a document inside the caller's transaction. With a non-empty
    `source_ref`, a second call for the same (kind, source_ref) returns the first document.

    Each field is (label, value) or (label, value, personal): a personal field (a name, CURP, RFC,
    address…) is printed whole on the PDF but masked on the public verification page."""
    if kind not in KINDS:
        raise DocumentError(_("Tipo de documento desconocido: %(kind)s.") % {"kind": kind})
    title, folio, source_ref = (("" if v is None else str(v)).strip() for v in (title, folio, source_ref))
    if not title or len(title) > 200:
        raise DocumentError(_("El título del documento es obligatorio (máximo 200 caracteres)."))
    if not folio or len(folio) > 64:
        raise DocumentError(_("El folio del documento es obligatorio (máximo 64 caracteres)."))
    if len(source_ref) > 200:
        raise DocumentError(_("La referencia de origen es demasiado larga."))
    if owner is None or getattr(owner, "pk", None) is None:
        raise DocumentError(_("El documento necesita un titular."))
    clean_fields = [[str(f[0]), "" if f[1] is None else str(f[1]), bool(f[2]) if len(f) > 2 else False]
                    for f in fields]
    clean_paragraphs = [str(p) for p in paragraphs]

    if source_ref:
        existing = _existing(kind, source_ref)
        if existing is not None:
            return existing

    public_id = uuid.uuid4()
    issued_at = timezone.now()
    pdf = signing.sign_pdf(
        render_pdf(
            Content(
                public_id=str(public_id),
                kind_label=_KIND_LABELS_ES[kind],
                title=title,
                folio=folio,
                issued_at=issued_at,
                holder=owner.full_name if hasattr(owner, "full_name") else str(owner),
                fields=[(label, value) for label, value, _personal in clean_fields],
                paragraphs=clean_paragraphs,
            )
        ),
        document_id=str(public_id),
        reason=f"{_KIND_LABELS_ES[kind]} {folio}",
        location=f"{settings.CITY.get('name', '')}, {settings.CITY.get('state', '')}",
    )
    document = IssuedDocument(
        public_id=public_id,
        kind=kind,
        folio=folio,
        title=title,
        owner=owner,
        fields=clean_fields,
        paragraphs=clean_paragraphs,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        issued_at=issued_at,
        source_ref=source_ref,
    )
    try:
        with transaction.atomic():
            document.save(force_insert=True)
    except IntegrityError:
        # Another request issued the same (kind, source_ref) first: theirs is the document.
        if source_ref:
            existing = _existing(kind, source_ref)
            if existing is not None:
                return existing
        raise
    return document


def _existing(kind: str, source_ref: str) -> IssuedDocument | None:
    document = IssuedDocument.objects.filter(kind=kind, source_ref=source_ref).first()
    if document is not None:
        document.pdf = bytes(document.pdf)  # PostgreSQL returns a memoryview; callers get bytes
    return document


def revoke(doc: IssuedDocument, *, reason: str, by, request=None) -> IssuedDocument:
    """Revoke a document: its verification answers "revocado" with the reason and date from now
    on. The revocation is recorded in the audit log."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise DocumentError(_("Escribe el motivo de la revocación."))
    if len(reason) > MAX_REASON:
        raise DocumentError(_("El motivo es demasiado largo (máximo %(n)d caracteres).") % {"n": MAX_REASON})
    with transaction.atomic():
        locked = IssuedDocument.objects.select_for_update().get(pk=doc.pk)
        if locked.revoked_at is not None:
            raise DocumentError(_("Este documento ya estaba revocado."))
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason
        locked.revoked_by = by if getattr(by, "pk", None) else None
        locked.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
        audit.record(
            "documents.revoke",
            actor=by,
            subject=locked,
            data={"public_id": str(locked.public_id), "kind": locked.kind, "folio": locked.folio, "reason": reason},
            request=request,
        )
    doc.revoked_at, doc.revoked_reason, doc.revoked_by = locked.revoked_at, locked.revoked_reason, locked.revoked_by
    return doc


Status = Literal["valid", "revoked", "invalid", "unknown"]


@dataclass(frozen=True)
class Verification:
    status: Status
    document: IssuedDocument | None
    message: str


def verify_pdf(data: bytes) -> Verification:
    """Check an uploaded PDF: one intact signature by the municipality's key covering the whole
    file, naming a document we issued whose stored bytes are exactly these."""
    check = signing.check_signature(bytes(data))
    if not check.ok:
        logger.info("document verification failed", extra={"problem": check.problem})
        return Verification(
            "invalid", None,
            _("El archivo no es un documento firmado por el municipio o fue modificado después de firmarse."),
        )
    try:
        public_id = uuid.UUID(check.document_id)
    except ValueError:
        public_id = None
    document = IssuedDocument.objects.filter(public_id=public_id).first() if public_id else None
    if document is None:
        return Verification(
            "unknown", None,
            _("La firma del municipio es auténtica, pero el documento no está en el registro de documentos emitidos."),
        )
    if hashlib.sha256(data).hexdigest() != document.sha256:
        return Verification(
            "invalid", None,
            _("El archivo no coincide con el documento que el municipio emitió con ese folio."),
        )
    if document.revoked_at is not None:
        return Verification("revoked", document, _("El documento es auténtico, pero fue revocado."))
    return Verification("valid", document, _("El documento es auténtico y está vigente."))


def status_of(document: IssuedDocument | None) -> Status:
    """Status of a document found by its public id (the QR page)."""
    if document is None:
        return "unknown"
    return "revoked" if document.revoked_at is not None else "valid"


def mask_name(full_name: str) -> str:
    """'Juan Pérez López' -> 'Juan P*** L***': the first name whole, every other word's initial."""
    words = str(full_name or "").split()
    if not words:
        return ""
    return " ".join([words[0], *(f"{w[0]}***" for w in words[1:])])


_IDENTIFIER = re.compile(
    r"\b(?:[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}"  # RFC (persons 13 characters, companies 12)
    r"|[A-Z]{4}\d{6}[HMX][A-Z]{5}[A-Z0-9]\d)\b"  # CURP
    r"|[^@\s]+@[^@\s]+\.[^@\s]+",  # e-mail
    re.IGNORECASE,
)


def mask_identifier(value: str) -> str:
    """'GODE561231HCLRNS09' -> 'GODE**************': enough to compare, not to reuse."""
    return value[:4] + "*" * max(0, len(value) - 4)


def _personal_words(owner) -> set[str]:
    names = " ".join(str(getattr(owner, attr, "") or "") for attr in ("full_name", "given_names", "first_surname",
                                                                      "second_surname"))
    return {w.casefold() for w in names.split() if len(w) > 2}


def public_value(value: str, *, personal: bool, owner) -> str:
    """A field's value as anyone may see it on the verification page: a personal field is masked
    whole; in any other field, identifiers (CURP, RFC, e-mail) and the holder's names
    are masked wherever they appear, in case an issuer did not flag them."""
    value = str(value or "")
    if personal:
        return mask_identifier(value) if _IDENTIFIER.fullmatch(value.strip()) else mask_name(value)
    value = _IDENTIFIER.sub(lambda m: mask_identifier(m.group(0)), value)
    words = _personal_words(owner)
    if not words:
        return value
    return re.sub(r"\w+", lambda m: f"{m.group(0)[0]}***" if m.group(0).casefold() in words else m.group(0), value)


def document_fields(document: IssuedDocument) -> list[tuple[str, str]]:
    """Every field as issued: for the owner, or for someone who holds the PDF itself."""
    return [(f[0], f[1]) for f in document.fields]


def public_fields(document: IssuedDocument) -> list[tuple[str, str]]:
    """The fields as the public verification page (QR code, JSON API) shows them."""
    return [(f[0], public_value(f[1], personal=len(f) > 2 and bool(f[2]), owner=document.owner))
            for f in document.fields]


def holder_name(document: IssuedDocument) -> str:
    """The holder's name as the public verification page shows it (partially masked)."""
    owner = document.owner
    return mask_name(getattr(owner, "full_name", "") or "")
