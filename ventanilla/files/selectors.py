"""Read-only access to the residents' documents, for files' own views and for other apps."""

from __future__ import annotations

import hashlib
import uuid

from django.db.models import QuerySet

from . import crypto
from .models import ResidentDocument

# Lists never load the (possibly large) encrypted bytes.
_HEAVY = ("content", "wrapped_key")


def _as_uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def documents_of(owner, *, document_type: str | None = None) -> QuerySet[ResidentDocument]:
    """The owner's documents, newest first (content not loaded; use read_content)."""
    if not getattr(owner, "pk", None):
        return ResidentDocument.objects.none()
    qs = ResidentDocument.objects.filter(owner=owner).defer(*_HEAVY)
    if document_type is not None:
        qs = qs.filter(document_type=document_type)
    return qs


def document_of(owner, public_id) -> ResidentDocument | None:
    """The document if it belongs to `owner`; None for anyone else's or a malformed id."""
    pid = _as_uuid(public_id)
    if pid is None or not getattr(owner, "pk", None):
        return None
    return ResidentDocument.objects.filter(owner=owner, public_id=pid).defer(*_HEAVY).first()


def document_by_public_id(public_id) -> ResidentDocument | None:
    """Any resident's document, for an app that already checked the reader's right to it
    (procedures: the officials handling a request the document is attached to)."""
    pid = _as_uuid(public_id)
    if pid is None:
        return None
    return ResidentDocument.objects.filter(public_id=pid).defer(*_HEAVY).first()


def read_content(doc: ResidentDocument) -> bytes:
    """The document's plaintext bytes. Raises crypto.DecryptionError if the stored bytes were
    altered, belong to another row, or the master key that wrapped them is not configured."""
    row = ResidentDocument.objects.only("key_id", "wrapped_key", "content", "public_id", "sha256").get(pk=doc.pk)
    data = crypto.decrypt(crypto.Sealed(row.key_id, bytes(row.wrapped_key), bytes(row.content)),
                          public_id=row.public_id)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise crypto.DecryptionError("content does not match its recorded SHA-256")
    return data


def count_uploaded(owner) -> int:
    return ResidentDocument.objects.filter(owner=owner, source="uploaded").count()
