"""Pages of the documents app: public verification (by QR address or by uploading the PDF),
the owner's download and the platform administrators' revocation. Rules live in services.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ventanilla.identity.models import Role
from ventanilla.identity.permissions import official_required

from . import selectors, services
from .forms import RevokeForm, SearchForm, VerifyUploadForm


def _document_context(document, *, whole: bool = False) -> dict:
    """`whole`: the fields as issued (for the owner, or for whoever uploaded the valid PDF itself);
    otherwise as the public may see them, with personal data masked."""
    if document is None:
        return {"document": None, "holder": "", "fields": []}
    return {
        "document": document,
        "holder": services.holder_name(document),
        "fields": services.document_fields(document) if whole else services.public_fields(document),
    }


@require_GET
@never_cache
def verify(request: HttpRequest, public_id) -> HttpResponse:
    """The page the QR code opens: is this document authentic and in force?"""
    document = selectors.document_by_public_id(public_id)
    status = services.status_of(document)
    owner = document is not None and request.user.is_authenticated and request.user.pk == document.owner_id
    context = {"status": status, **_document_context(document, whole=owner)}
    return render(request, "documents/verify.html", context, status=404 if document is None else 200)


@require_http_methods(["GET", "POST"])
@never_cache
def verify_upload(request: HttpRequest) -> HttpResponse:
    """Upload a PDF and learn whether the municipality issued it, unaltered."""
    form = VerifyUploadForm(request.POST, request.FILES) if request.method == "POST" else VerifyUploadForm()
    result = None
    status_code = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["document"]
            result = services.verify_pdf(upload.read())
            form = VerifyUploadForm()
        else:
            status_code = 400
    context = {"form": form, "result": result}
    if result is not None:
        # Whoever uploaded the authentic PDF already holds every datum in it.
        context.update(status=result.status, **_document_context(result.document, whole=True))
    return render(request, "documents/verify_upload.html", context, status=status_code)


@require_GET
def download(request: HttpRequest, public_id) -> HttpResponse:
    """The signed PDF, for its owner only (anyone else gets a 404, as if it did not exist)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    document = selectors.document_of(request.user, public_id)
    if document is None:
        raise Http404
    filename = f"{slugify(document.get_kind_display())}-{slugify(document.folio) or 'documento'}.pdf"
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@official_required(Role.PLATFORM_ADMIN)
@require_GET
def backoffice_search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results = []
    if form.is_bound and form.is_valid():
        results = selectors.search(form.cleaned_data["q"])
    rows = [{"document": d, "holder": services.holder_name(d)} for d in results]
    return render(
        request, "documents/backoffice/search.html",
        {"form": form, "rows": rows, "searched": form.is_bound and form.is_valid() and form.cleaned_data["q"]},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@official_required(Role.PLATFORM_ADMIN)
@require_http_methods(["GET", "POST"])
def backoffice_revoke(request: HttpRequest, public_id) -> HttpResponse:
    document = selectors.document_by_public_id(public_id)
    if document is None:
        raise Http404
    form = RevokeForm(request.POST) if request.method == "POST" else RevokeForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke(document, reason=form.cleaned_data["reason"], by=request.user, request=request)
        except services.DocumentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("El documento quedó revocado. Su verificación ya lo indica."))
            return redirect("documents:verify", public_id=document.public_id)
    return render(
        request, "documents/backoffice/revoke.html", {"form": form, **_document_context(document)},
        status=400 if request.method == "POST" else 200,
    )
