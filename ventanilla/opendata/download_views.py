"""Downloads of uploaded resources: the stored file of the current version, or of any earlier
version (every version stays downloadable). Private datasets' files only for their publishers
(signed in, or with their API token as CKAN clients send it)."""

from __future__ import annotations

import mimetypes

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from . import selectors, services
from .models import Resource, ResourceVersion

CONTENT_TYPES = {
    "CSV": "text/csv", "TSV": "text/tab-separated-values", "JSON": "application/json",
    "GEOJSON": "application/geo+json",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _caller(request: HttpRequest):
    from .ckan_api import token_from

    secret = token_from(request)
    if secret:
        return services.user_for_token(secret)
    return request.user if request.user.is_authenticated else None


def content_type_for(version: ResourceVersion, resource: Resource) -> str:
    if version.mimetype:
        return version.mimetype
    if resource.format.upper() in CONTENT_TYPES:
        return CONTENT_TYPES[resource.format.upper()]
    guessed, _encoding = mimetypes.guess_type(version.original_filename or version.file.name)
    return guessed or "application/octet-stream"


def serve_version(resource: Resource, version: ResourceVersion | None) -> HttpResponse:
    """The stored file of `version` as an attachment (404 when there is none)."""
    if version is None or not version.file:
        raise Http404
    try:
        handle = version.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    filename = version.original_filename or version.file.name.rsplit("/", 1)[-1]
    response = FileResponse(handle, as_attachment=True, filename=filename,
                            content_type=content_type_for(version, resource))
    if version.sha256:
        response["ETag"] = f'"{version.sha256}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def download(request: HttpRequest, resource_id) -> HttpResponse:
    resource = selectors.resource_by_id(str(resource_id), _caller(request))
    if resource is None:
        raise Http404
    if resource.kind == Resource.Kind.LINK:
        return HttpResponseRedirect(resource.url)
    return serve_version(resource, resource.current_version)


@require_safe
def download_version(request: HttpRequest, resource_id, number: int) -> HttpResponse:
    resource = selectors.resource_by_id(str(resource_id), _caller(request))
    if resource is None:
        raise Http404
    return serve_version(resource, resource.versions.filter(number=number).first())
