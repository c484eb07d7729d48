"""Files a resident sends with a request: checked first (type by content, size, how many at
once), stored in the APPLICANT's file ("Mi expediente") only when everything else in the same
POST is valid, inside the caller's transaction. When a clerk files at the counter, the owner is
still the applicant, never the clerk."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from ventanilla.files import selectors as files_selectors
from ventanilla.files import services as files_services
from ventanilla.files import uploads
from ventanilla.files.uploads import CheckedUpload, UploadRejected

DEFAULT_UPLOADS_PER_REQUEST = 20
# Room for the form's other fields and the multipart boundaries on top of the files.
MULTIPART_OVERHEAD = 256 * 1024


def uploads_per_request() -> int:
    return int(getattr(settings, "VENTANILLA_UPLOADS_PER_REQUEST", DEFAULT_UPLOADS_PER_REQUEST)
               or DEFAULT_UPLOADS_PER_REQUEST)


def count_files(files) -> int:
    return sum(len(files.getlist(name)) for name in files)


def check_count(files) -> None:
    """Refuses a POST with more files than VENTANILLA_UPLOADS_PER_REQUEST (UploadRejected)."""
    uploads.check_count(count_files(files), uploads_per_request())


def upload_limited(view):
    """For views that take files: a body larger than every allowed file together is refused
    (413) before it is read; the CSRF check runs after that (it reads the body)."""
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = uploads.max_upload_bytes() * uploads_per_request() + MULTIPART_OVERHEAD
            if length > limit:
                message = _("Lo que enviaste pesa %(size)s; cada archivo puede pesar hasta %(max)s y puedes subir hasta %(n)d a la vez.") % {
                    "size": uploads.human_size(length), "max": uploads.human_size(uploads.max_upload_bytes()),
                    "n": uploads_per_request()}
                return render(request, "procedures/journey/problem.html",
                              {"title": _("El envío es demasiado grande"), "message": message}, status=413)
        return protected(request, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Planned:
    """What a slot will get once the whole POST is known to be valid."""

    slot: str
    checked: CheckedUpload | None = None  # a new upload...
    file_document: str = ""  # ...or a document already in the applicant's file
    title: str = ""
    document_type: str = ""


def pick_of(owner, public_id: str, document_type: str):
    """The applicant's document chosen from their file, if it is theirs and of the right type."""
    doc = files_selectors.document_of(owner, public_id)
    if doc is None or (document_type and doc.document_type != document_type):
        return None
    return doc


def slot_problem(req, slot_key: str, file_document) -> tuple[int, str] | None:
    """Why a document of the applicant's file cannot fill a slot, as (HTTP status, Spanish
    message); None when it can."""
    from .. import services

    slot = next((d for d in services.spec_of(req).documents if d.key == slot_key), None)
    if slot is None:
        return 404, _("Este trámite no pide ese documento.")
    if slot.document_type and slot.document_type in services.city_held_types(req):
        return 422, _("Lo tiene el municipio: no necesitas subirlo.")
    doc = files_selectors.document_of(req.applicant, file_document)
    if doc is None:
        return 403, _("Ese documento no está en tu expediente.")
    if slot.document_type and doc.document_type != slot.document_type:
        return 422, _("Ese documento no es del tipo que pide el trámite para «%(slot)s».") % {"slot": slot.label}
    return None


def candidates(owner, document_type: str) -> list:
    """Documents of the applicant's file that can fill a slot (same type, when it has one)."""
    return list(files_selectors.documents_of(owner, document_type=document_type or None).order_by("-created_at"))


def store(owner, plan: Planned) -> str:
    """Stores a planned upload in the owner's file and returns its public id. Raises
    UploadRejected (also for files' own refusals, e.g. a full file)."""
    try:
        doc = files_services.store_upload(owner, plan.checked, title=plan.title, document_type=plan.document_type)
    except files_services.FileError as exc:
        raise UploadRejected(exc.message) from None
    return str(doc.public_id)


def titles_of(owner, ids: Iterable[str]) -> dict[str, str]:
    """Titles of the applicant's documents by public id (for check-your-answers and the status page)."""
    wanted = set()
    for value in ids:
        try:
            wanted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return {}
    return {str(d.public_id): d.title for d in files_selectors.documents_of(owner).filter(public_id__in=wanted)}
