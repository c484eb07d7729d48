from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from ventanilla import __version__


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: the database must answer a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        database = "error"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "database": database, "version": __version__},
        status=status,
    )


@require_GET
@cache_control(public=True, max_age=3600)
def theme_css(request: HttpRequest) -> HttpResponse:
    """The city's colours, from configuration, as CSS custom properties (no inline styles: CSP)."""
    colors = {key: settings.CITY[key] for key in ("primary_color", "accent_color")}
    css = ":root { --primary: %(primary_color)s; --accent: %(accent_color)s; }\n" % colors
    return HttpResponse(css, content_type="text/css; charset=utf-8")
