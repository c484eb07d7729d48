"""Changing the residents' documents. Every function runs inside the caller's transaction (or its
own), so a failure leaves no half-written row; the bytes are sealed before they reach the database."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ventanilla.audit.services import record

from . import crypto, selectors
from .models import ResidentDocument, Source
from .uploads import CheckedUpload, UploadRejected, check_count, sanitize_filename

TITLE_MAX_LENGTH = 200
DEFAULT_MAX_PER_RESIDENT = 200


class FileError(Exception):
    """A refused change, with a Spanish message for the resident."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# Apps that keep references to documents (procedures attach them to requests) register a guard:
# it returns a message when the document must not be deleted, None otherwise.
DeleteGuard = Callable[[ResidentDocument], "str | None"]
_delete_guards: list[DeleteGuard] = []


def register_delete_guard(guard: DeleteGuard) -> None:
    if guard not in _delete_guards:
        _delete_guards.append(guard)


def unregister_delete_guard(guard: DeleteGuard) -> None:
    if guard in _delete_guards:
        _delete_guards.remove(guard)


def max_documents_per_resident() -> int:
    return int(getattr(settings, "VENTANILLA_FILES_MAX_PER_RESIDENT", DEFAULT_MAX_PER_RESIDENT))


def _clean_title(title: str | None, fallback: str = "") -> str:
    text = " ".join(str(title or "").split())
    text = "".join(ch for ch in text if ch.isprintable())
    if not text:
        text = fallback
    if not text:
        raise FileError(_("Escribe un nombre para el documento."), field="title")
    if len(text) > TITLE_MAX_LENGTH:
        raise FileError(_("El nombre del documento puede tener hasta %(n)d caracteres.") % {"n": TITLE_MAX_LENGTH},
                        field="title")
    return text


def _clean_document_type(code: str | None) -> str:
    code = (code or "").strip()
    if len(code) > 40:
        raise FileError(_("Elige un tipo de documento de la lista."), field="document_type")
    return code


def _store(owner, *, data: bytes, title: str, document_type: str, filename: str, mime: str, source: str,
           issued_document: uuid.UUID | None = None) -> ResidentDocument:
    public_id = uuid.uuid4()
    sealed = crypto.encrypt(data, public_id=public_id)
    return ResidentDocument.objects.create(
        public_id=public_id, owner=owner, document_type=document_type, title=title, filename=filename,
        mime=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(), key_id=sealed.key_id,
        wrapped_key=sealed.wrapped_key, content=sealed.content, source=source, issued_document=issued_document,
    )


def store_upload(owner, checked: CheckedUpload, *, title: str, document_type: str = "",
                 request: HttpRequest | None = None) -> ResidentDocument:
    """Stores a file that passed uploads.check_upload in the owner's file. Raises FileError (bad
    title or type) or UploadRejected (the resident's file is full)."""
    if not getattr(owner, "pk", None):
        raise FileError(_("Entra con tu Llave para guardar documentos."))
    if not isinstance(checked, CheckedUpload):
        raise TypeError("store_upload takes the CheckedUpload returned by uploads.check_upload")
    title = _clean_title(title)
    document_type = _clean_document_type(document_type)
    with transaction.atomic():
        check_count(selectors.count_uploaded(owner) + 1, max_documents_per_resident())
        doc = _store(owner, data=checked.data, title=title, document_type=document_type,
                     filename=sanitize_filename(checked.filename), mime=checked.mime, source=Source.UPLOADED)
        record("files.document_uploaded", actor=owner, subject=doc, request=request,
               data={"public_id": str(doc.public_id), "mime": doc.mime, "size": doc.size, "sha256": doc.sha256,
                     "document_type": document_type})
    return doc


def store_issued(owner, *, title: str, document_type: str, pdf: bytes, issued_document) -> ResidentDocument:
    """Keeps a copy of a document the municipality issued (documents.IssuedDocument, or its public
    id) in the owner's file. Idempotent: a second call for the same issued document returns the
    first copy."""
    issued_id = getattr(issued_document, "public_id", issued_document)
    issued_id = issued_id if isinstance(issued_id, uuid.UUID) else uuid.UUID(str(issued_id))
    if not isinstance(pdf, (bytes, bytearray)) or not pdf:
        raise ValueError("store_issued needs the PDF bytes")
    title = _clean_title(title)
    folio = str(getattr(issued_document, "folio", "") or "")
    # Folios often contain slashes ("TOR/LIC/2026/1"): keep them readable in a file name.
    filename = sanitize_filename(f"{folio or title}.pdf".replace("/", "-").replace("\\", "-"))
    with transaction.atomic():
        existing = ResidentDocument.objects.filter(issued_document=issued_id).defer("content", "wrapped_key").first()
        if existing is not None:
            return existing
        doc = _store(owner, data=bytes(pdf), title=title, document_type=_clean_document_type(document_type),
                     filename=filename, mime="application/pdf", source=Source.ISSUED, issued_document=issued_id)
        record("files.document_issued_stored", actor=None, subject=doc,
               data={"public_id": str(doc.public_id), "issued_document": str(issued_id), "owner": str(owner.pk),
                     "sha256": doc.sha256})
    return doc


def delete_document(owner, doc: ResidentDocument, *, request: HttpRequest | None = None) -> None:
    """The owner deletes one of the documents THEY uploaded. Documents the municipality issued,
    anyone else's, and documents another app still relies on are refused (FileError)."""
    if doc is None or doc.owner_id != getattr(owner, "pk", None):
        raise FileError(_("Ese documento no está en tu expediente."))
    if doc.source != Source.UPLOADED:
        raise FileError(_("Los documentos que expidió el municipio no se pueden borrar del expediente."))
    for guard in _delete_guards:
        reason = guard(doc)
        if reason:
            raise FileError(str(reason))
    with transaction.atomic():
        deleted, _rows = ResidentDocument.objects.filter(pk=doc.pk, owner=owner, source=Source.UPLOADED).delete()
        if deleted:
            record("files.document_deleted", actor=owner, subject_type="files.residentdocument",
                   subject_id=str(doc.pk), request=request,
                   data={"public_id": str(doc.public_id), "sha256": doc.sha256, "title": doc.title})


def rewrap_all(*, batch_size: int = 200) -> int:
    """Re-wraps every document's data key with the current master key (after a rotation). The
    content itself is not re-encrypted. Returns how many rows changed."""
    current = crypto.current_key_id()
    changed = 0
    ids = list(ResidentDocument.objects.exclude(key_id=current).values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            rows = ResidentDocument.objects.select_for_update().filter(pk__in=ids[start:start + batch_size])
            for row in rows.only("pk", "public_id", "key_id", "wrapped_key"):
                # Only the wrapped data key changes; the content is neither read nor rewritten.
                sealed = crypto.rewrap(crypto.Sealed(row.key_id, bytes(row.wrapped_key), b""), public_id=row.public_id)
                ResidentDocument.objects.filter(pk=row.pk).update(key_id=sealed.key_id, wrapped_key=sealed.wrapped_key)
                changed += 1
    return changed


__all__ = [
    "FileError", "UploadRejected", "delete_document", "register_delete_guard", "rewrap_all", "store_issued",
    "store_upload", "unregister_delete_guard",
]
