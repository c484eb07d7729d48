"""Mi expediente. Every page shows only request.user's data: an id in a URL that is not theirs
is a 404, whoever asks (residents and officials alike)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from ventanilla.audit.services import record
from ventanilla.catalog import selectors as catalog_selectors
from ventanilla.identity import selectors as identity_selectors

from . import archive, sections, selectors, services
from .forms import UploadForm
from .uploads import UploadRejected, check_upload, human_size, max_upload_bytes, use_bounded_memory_uploads

# Room for the form's other fields and multipart boundaries on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
RECENT_ACCESSES = 5


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


def _documents_for_display(user) -> list:
    names = {t.code: t.name for t in catalog_selectors.document_types()}
    documents = list(selectors.documents_of(user))
    for doc in documents:
        doc.type_label = names.get(doc.document_type, doc.document_type)
        doc.size_label = human_size(doc.size)
    return documents


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    rendered = []
    for section in sections.registered():
        context = {**(section.context(user) or {}), "section": section, "user": user}
        rendered.append((section, render_to_string(section.template_name, context, request=request)))
    consents = list(identity_selectors.consents_for(user))
    return _no_store(render(request, "files/home.html", {
        "documents": _documents_for_display(user),
        "sections": rendered,
        "active_consents": [c for c in consents if c.is_active],
        "consent_count": len(consents),
        "recent_accesses": identity_selectors.data_accesses_for(user)[:RECENT_ACCESSES],
        "access_count": identity_selectors.data_accesses_for(user).count(),
        "form": UploadForm(),
    }))


def _upload_page(request: HttpRequest, form: UploadForm, status: int = 200, error: str = "") -> HttpResponse:
    return _no_store(render(request, "files/upload.html", {"form": form, "error": error}, status=status))


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _upload_page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form, status=400)
    try:
        checked = check_upload(form.cleaned_data["file"])
        doc = services.store_upload(request.user, checked, title=form.cleaned_data["title"],
                                    document_type=form.cleaned_data["document_type"], request=request)
    except UploadRejected as exc:
        form.add_error("file", exc.message)
        return _upload_page(request, form, status=400)
    except services.FileError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _upload_page(request, form, status=400)
    messages.success(request, _("Guardamos «%(title)s» en tu expediente.") % {"title": doc.title})
    return redirect("files:home")


@csrf_exempt  # checked by _upload's csrf_protect, after the size check and the upload handler
@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_upload_bytes()
        if length > limit + MULTIPART_OVERHEAD:
            error = _("Lo que enviaste pesa %(size)s; el máximo por archivo es %(max)s.") % {
                "size": human_size(length), "max": human_size(limit)}
            return _upload_page(request, UploadForm(), status=413, error=error)
        # The document stays in memory (never a plaintext temporary file) until it is sealed.
        use_bounded_memory_uploads(request, limit)
    return _upload(request)


@login_required
@require_GET
def document(request: HttpRequest, public_id) -> HttpResponse:
    doc = selectors.document_of(request.user, public_id)
    if doc is None:
        raise Http404
    response = HttpResponse(selectors.read_content(doc), content_type=doc.mime)
    response["Content-Disposition"] = content_disposition_header(True, doc.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _no_store(response)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, public_id) -> HttpResponse:
    """GET asks for confirmation, POST deletes."""
    doc = selectors.document_of(request.user, public_id)
    if doc is None:
        raise Http404
    if request.method == "GET" and doc.is_uploaded:
        return _no_store(render(request, "files/delete.html", {"document": doc}))
    try:
        if request.method == "GET":
            raise services.FileError(_("Los documentos que expidió el municipio no se pueden borrar del expediente."))
        services.delete_document(request.user, doc, request=request)
    except services.FileError as exc:
        messages.error(request, exc.message)
        return redirect("files:home")
    messages.success(request, _("Borraste «%(title)s» de tu expediente.") % {"title": doc.title})
    return redirect("files:home")


@login_required
@require_GET
def download_archive(request: HttpRequest) -> StreamingHttpResponse:
    user = request.user
    record("files.arco_access_export", actor=user, subject=user, request=request,
           data={"sections": [s.key for s in sections.registered() if s.export is not None]})
    response = StreamingHttpResponse(archive.stream_archive(user), content_type="application/zip")
    filename = f"mi-expediente-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)
