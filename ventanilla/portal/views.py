"""The pages a resident lands on. They read the catalogue only through `catalog.selectors` and
record use only through `catalog.services`."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ventanilla.catalog import selectors as catalog
from ventanilla.catalog import services as catalog_services

MAX_QUERY_LENGTH = 200
RESULTS_PER_PAGE = 20


@dataclass(frozen=True)
class ListingItem:
    """What a list of procedures shows, whether it came from search or from the catalogue."""

    clave: str
    name: str
    department_name: str
    online: bool
    summary: str


def _from_procedure(procedure) -> ListingItem:
    return ListingItem(
        procedure.clave, procedure.name, procedure.department.name, procedure.channel_online, procedure.description
    )


def _from_hit(hit: catalog.SearchHit) -> ListingItem:
    return ListingItem(hit.clave, hit.name, hit.department, hit.online, hit.description)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/home.html",
        {"life_events": catalog.life_events_with_counts(), "most_requested": catalog.most_requested(limit=6)},
    )


@require_GET
def procedures(request: HttpRequest) -> HttpResponse:
    """Search results, or the whole catalogue A–Z when there is no query."""
    query = " ".join(request.GET.get("q", "").split())
    error = ""
    if len(query) > MAX_QUERY_LENGTH:
        error = _("Escribe una búsqueda más corta (máximo %d caracteres).") % MAX_QUERY_LENGTH
        query = ""
    if query:
        results = [_from_hit(hit) for hit in catalog.search(query, limit=50)]
    else:
        results = [_from_procedure(p) for p in catalog.published_procedures()]
    page = Paginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("pagina"))
    status = 400 if error else 200
    return render(
        request,
        "portal/procedures.html",
        {"query": query, "page": page, "searched": bool(query), "error": error},
        status=status,
    )


@require_GET
def life_event(request: HttpRequest, slug: str) -> HttpResponse:
    event = catalog.life_event_by_slug(slug)
    if event is None:
        raise Http404
    return render(
        request,
        "portal/life_event.html",
        {"event": event, "procedures": [_from_procedure(p) for p in catalog.procedures_in_life_event(slug)]},
    )


@require_GET
def procedure_detail(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = catalog.procedure_by_clave(clave)
    if procedure is None:
        raise Http404
    catalog_services.record_view(procedure)
    return render(request, "portal/procedure.html", {"procedure": procedure})


@login_required
def procedure_start(request: HttpRequest, clave: str) -> HttpResponse:
    """The start page of an online procedure: what you will need before you begin."""
    procedure = catalog.procedure_by_clave(clave)
    if procedure is None or not procedure.channel_online:
        raise Http404
    from ventanilla.procedures import selectors as procedures

    definition = procedures.definition_for_procedure(procedure)
    online = definition is not None and definition.published_version_id is not None and definition.is_active
    if request.method == "POST" and not online:
        catalog_services.record_start(procedure)  # an online start is counted when its draft begins
    drafts = list(procedures.requests_of(request.user).filter(procedure=procedure, status="draft")[:5]) if online else []
    return render(request, "portal/procedure_start.html", {"procedure": procedure, "online": online, "drafts": drafts})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/privacy.html")


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/offline.html")


@require_GET
@cache_control(public=True, max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    city = settings.CITY
    data = {
        "name": f"{city['app_name']} · {city['government']}",
        "short_name": city["short_name"],
        "description": f"Trámites y servicios del municipio de {city['name']}",
        "lang": "es-MX",
        "start_url": reverse("portal:home") + "?origen=app",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": city["primary_color"],
        "icons": [{"src": static(city["logo"]), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "portal/sw.js",
        {"offline_url": reverse("portal:offline"), "static_css": static("core/ventanilla.css")},
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def _error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, "portal/errors/400.html", 400)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, "portal/errors/403.html", 403)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, "portal/errors/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, "portal/errors/500.html", 500)
