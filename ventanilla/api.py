"""The platform's JSON API: one django-ninja instance, one router per app, one OpenAPI schema.

Errors always come back as JSON with a Spanish message: {"detail": "...", "errors": [...]}.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

api = NinjaAPI(
    title="Ventanilla API",
    version="1.0.0",
    description=(
        "API pública de la plataforma de gobierno digital: catálogo de trámites y servicios, "
        "identidad y más. Todas las respuestas son JSON; los errores traen un mensaje en español."
    ),
    urls_namespace="api-1.0.0",
)


def _field_name(loc: list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload")]
    return ".".join(parts) or "entrada"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"campo": _field_name(list(err.get("loc", []))), "mensaje": _translate_pydantic(err)}
        for err in exc.errors
    ]
    return api.create_response(
        request, {"detail": _("Los datos enviados no son válidos."), "errors": errors}, status=422
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("No encontrado.")}, status=404)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("Se requiere autenticación.")}, status=401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc.message)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        # django-ninja's own words for a body that is not JSON (or is nested too deep to decode)
        message = _("El cuerpo de la solicitud no es JSON válido.")
    return api.create_response(request, {"detail": message}, status=exc.status_code)


_PYDANTIC_MESSAGES = {
    "missing": gettext_noop("Este dato es obligatorio."),
    "string_too_long": gettext_noop("El texto es demasiado largo."),
    "string_too_short": gettext_noop("El texto es demasiado corto."),
    "int_parsing": gettext_noop("Debe ser un número entero."),
    "int_type": gettext_noop("Debe ser un número entero."),
    "float_parsing": gettext_noop("Debe ser un número."),
    "bool_parsing": gettext_noop("Debe ser verdadero o falso."),
    "string_type": gettext_noop("Debe ser texto."),
    "greater_than_equal": gettext_noop("El valor es demasiado pequeño."),
    "less_than_equal": gettext_noop("El valor es demasiado grande."),
    "json_invalid": gettext_noop("El cuerpo no es JSON válido."),
    "value_error": gettext_noop("El valor no es válido."),
    "literal_error": gettext_noop("El valor no es una de las opciones permitidas."),
    "enum": gettext_noop("El valor no es una de las opciones permitidas."),
}


def _translate_pydantic(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "value_error" and err.get("ctx", {}).get("error"):
        return str(err["ctx"]["error"])
    return _(_PYDANTIC_MESSAGES.get(kind, gettext_noop("El valor no es válido.")))


def register_routers() -> None:
    """Each app contributes its router here; imported once from urls.py.

    An app joins the API by having an `api` module with a `router` and a `API_PREFIX`
    ("/pagos/", ...); the catalogue and identity routers predate the convention."""
    import importlib
    import importlib.util

    from django.apps import apps

    from ventanilla.catalog.api import router as catalog_router
    from ventanilla.identity.api import router as identity_router

    api.add_router("/catalogo/", catalog_router)
    api.add_router("/identidad/", identity_router)
    for config in apps.get_app_configs():
        if not config.name.startswith("ventanilla.") or config.label in ("catalog", "identity"):
            continue
        if importlib.util.find_spec(f"{config.name}.api") is None:
            continue
        module = importlib.import_module(f"{config.name}.api")
        prefix = getattr(module, "API_PREFIX", None)
        if prefix and hasattr(module, "router"):
            api.add_router(prefix, module.router)


register_routers()
