"""Reading issued documents (other apps use these, never the model directly)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from .models import IssuedDocument


def _uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def document_by_public_id(public_id) -> IssuedDocument | None:
    key = _uuid(public_id)
    if key is None:
        return None
    return IssuedDocument.objects.select_related("owner").filter(public_id=key).first()


def documents_of(owner) -> QuerySet[IssuedDocument]:
    """The documents issued to `owner`, newest first (without loading the PDF bytes)."""
    if owner is None or getattr(owner, "pk", None) is None:
        return IssuedDocument.objects.none()
    return IssuedDocument.objects.filter(owner=owner).defer("pdf").order_by("-issued_at", "-id")


def document_for_source(kind: str, source_ref: str) -> IssuedDocument | None:
    if not source_ref:
        return None
    return IssuedDocument.objects.filter(kind=kind, source_ref=source_ref).first()


def document_of(owner, public_id) -> IssuedDocument | None:
    """The owner's own document, or None when it does not exist or belongs to someone else."""
    key = _uuid(public_id)
    if key is None or owner is None or getattr(owner, "pk", None) is None:
        return None
    return IssuedDocument.objects.filter(public_id=key, owner=owner).first()


def search(query: str, *, limit: int = 50) -> list[IssuedDocument]:
    """Back office: documents whose folio or public id matches `query` exactly or by folio prefix."""
    query = (query or "").strip()
    if not query:
        return []
    key = _uuid(query)
    qs = IssuedDocument.objects.select_related("owner").defer("pdf")
    if key is not None:
        return list(qs.filter(public_id=key)[:limit])
    return list(qs.filter(folio__istartswith=query[:64]).order_by("-issued_at", "-id")[:limit])
