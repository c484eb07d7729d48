from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_GET
def procedures(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


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
