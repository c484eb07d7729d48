"""The ARCO access archive: everything the platform holds about a resident, as one ZIP.

Contents (docs/files.md):
  LEEME.txt            what each part is
  datos.json           identity data, consents, the log of officials who opened the data, the
                       list of documents
  documentos/<name>    every document of "Mi expediente", decrypted
  <section>/<name>     each registered section's export (procedures, payments, issued documents…)

The ZIP is produced while it is sent (one document in memory at a time)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.identity import selectors as identity_selectors
from ventanilla.identity import services as identity_services

from . import sections, selectors
from .uploads import sanitize_filename


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.get_current_timezone()).isoformat() if value else None


def identity_data(user) -> dict:
    return {
        "identificador": str(user.public_id),
        "correo": user.email,
        "curp": user.curp or "",
        "nombres": user.given_names,
        "primer_apellido": user.first_surname,
        "segundo_apellido": user.second_surname,
        "telefono": user.phone,
        "nivel": user.level,
        "verificada_el": _iso(user.verified_at),
        "documento_revisado_al_verificar": user.verification_document,
        "correo_confirmado_el": _iso(user.email_confirmed_at),
        "alta": _iso(user.date_joined),
    }


def consents_data(user) -> list[dict]:
    return [
        {
            "a_quien": c.grantee_label,
            "tipo": c.grantee_kind,
            "dependencia": c.department.name if c.department_id else None,
            "datos": c.scope,
            "para_que": c.purpose,
            "otorgado_el": _iso(c.granted_at),
            "retirado_el": _iso(c.revoked_at),
        }
        for c in identity_selectors.consents_for(user)
    ]


def accesses_data(user) -> list[dict]:
    return [
        {
            "cuando": _iso(a.accessed_at),
            "servidor_publico": a.official.full_name,
            "dependencia": a.department.name if a.department_id else None,
            "datos_consultados": [identity_services.field_label(f) for f in a.fields],
            "motivo": a.purpose,
            "expediente_o_folio": a.case_reference,
        }
        for a in identity_selectors.data_accesses_for(user)
    ]


def _document_path(doc) -> str:
    return f"documentos/{doc.created_at:%Y-%m-%d}_{str(doc.public_id)[:8]}_{sanitize_filename(doc.filename)}"


def _export_path(key: str, name: str) -> str | None:
    parts = [sanitize_filename(p, default="") for p in str(name).replace("\\", "/").split("/")]
    parts = [p for p in parts if p and p not in (".", "..")]
    return f"{key}/{'/'.join(parts)}" if parts else None


def _readme(user, section_list) -> str:
    lines = [
        _("Tu expediente en %(app)s — %(government)s") % {"app": settings.CITY["app_name"],
                                                         "government": settings.CITY["government"]},
        _("Generado el %(when)s para %(who)s.") % {"when": timezone.localtime().strftime("%d/%m/%Y %H:%M"),
                                                   "who": user.full_name},
        "",
        _("datos.json: tus datos de identidad, los permisos que diste, quién consultó tus datos y la lista de tus documentos."),
        _("documentos/: los documentos de «Mi expediente»."),
    ]
    lines += [f"{s.key}/: {s.title}" for s in section_list if s.export is not None]
    return "\n".join(lines) + "\n"


class _Pipe(io.RawIOBase):
    """An unseekable sink: zipfile writes into it, the generator drains it."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._chunks.append(bytes(b))
        return len(b)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def archive_parts(user) -> Iterator[tuple[str, bytes]]:
    """(path in the ZIP, bytes) for every part of the resident's archive, produced lazily."""
    section_list = sections.registered()
    documents = list(selectors.documents_of(user))
    data = {
        "generado_el": _iso(timezone.now()),
        "titular": identity_data(user),
        "permisos_otorgados": consents_data(user),
        "consultas_a_tus_datos": accesses_data(user),
        "documentos": [
            {"nombre": d.title, "tipo": d.document_type, "archivo": _document_path(d), "formato": d.mime,
             "tamano_bytes": d.size, "sha256": d.sha256, "origen": d.source, "fecha": _iso(d.created_at)}
            for d in documents
        ],
        "secciones": [s.key for s in section_list if s.export is not None],
    }
    yield "LEEME.txt", _readme(user, section_list).encode()
    yield "datos.json", json.dumps(data, ensure_ascii=False, indent=2).encode()
    for doc in documents:
        yield _document_path(doc), selectors.read_content(doc)
    for section in section_list:
        if section.export is None:
            continue
        for name, content in (section.export(user) or {}).items():
            path = _export_path(section.key, name)
            if path is None:
                continue
            yield path, content.encode() if isinstance(content, str) else bytes(content)


def stream_archive(user) -> Iterator[bytes]:
    """The ZIP, chunk by chunk."""
    pipe = _Pipe()
    seen: set[str] = set()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, content in archive_parts(user):
            if path in seen:
                continue
            seen.add(path)
            zf.writestr(path, content)
            chunk = pipe.drain()
            if chunk:
                yield chunk
    tail = pipe.drain()
    if tail:
        yield tail
