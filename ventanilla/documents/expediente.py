"""The documents' part of "Mi expediente" (ventanilla.files.sections): the list of documents the
city issued to the resident, and the signed PDFs in the ARCO archive."""

from __future__ import annotations

import json

from django.utils.text import slugify

from . import selectors
from .rendering import verification_url
from .services import document_fields

SECTION_KEY = "documentos-emitidos"


def section_context(user) -> dict:
    return {"issued_documents": list(selectors.documents_of(user))}


def section_export(user) -> dict[str, bytes]:
    """`<kind>-<folio>-<id>.pdf` for every issued document, plus `documentos.json` describing them."""
    files: dict[str, bytes] = {}
    index = []
    for document in selectors.documents_of(user).defer(None):
        name = f"{slugify(document.kind)}-{slugify(document.folio)[:40] or 'documento'}-{str(document.public_id)[:8]}.pdf"
        files[name] = bytes(document.pdf)
        index.append({
            "archivo": name,
            "tipo": document.kind,
            "titulo": document.title,
            "folio": document.folio,
            "emitido": document.issued_at.isoformat(),
            "sha256": document.sha256,
            "revocado": document.revoked_at.isoformat() if document.revoked_at else None,
            "motivo_revocacion": document.revoked_reason,
            "datos": [{"dato": label, "valor": value} for label, value in document_fields(document)],
            "verificacion": verification_url(document.public_id),
        })
    files["documentos.json"] = json.dumps(index, ensure_ascii=False, indent=2).encode()
    return files


def register_section() -> None:
    from django.utils.translation import gettext_lazy as _

    from ventanilla.files.sections import Section, register

    register(
        Section(
            key=SECTION_KEY,
            title=_("Documentos que te emitió el municipio"),
            template_name="documents/expediente_section.html",
            context=section_context,
            export=section_export,
        )
    )
