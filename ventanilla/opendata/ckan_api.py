"""The CKAN Action API (`/api/3/action/<name>`, also `/api/action/<name>` as the `ckanapi`
client calls it): same envelope, parameter names, defaults and status codes as CKAN, so CKAN
clients and harvesters work unchanged.

    {"help": "<url>", "success": true, "result": ...}
    {"help": "<url>", "success": false, "error": {"__type": "Validation Error", "message": "...", "<field>": ["..."]}}

Read actions take GET query parameters or a POST body (JSON, form or multipart); write actions
take POST only. Writes need a publisher's API token in `Authorization` (or `X-CKAN-API-Key`);
the browser session is never used here (these endpoints are csrf-exempt precisely because they
ignore cookies). Every rule lives in `services`, `selectors`, `search` and `datastore`; this
module only parses, authorises the caller and shapes answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ventanilla.organization import selectors as org_selectors

from . import search as catalog_search
from . import selectors, services
from .ckan_dicts import group_dict, organization_dict, package_dict, resource_dict
from .models import Dataset
from .services import NotAuthorized, OpendataError

CKAN_API_VERSION = 3
CKAN_COMPATIBLE_VERSION = "2.10.0"  # the CKAN release whose action API this one follows
MAX_LIST = 1000
MAX_NUMBER = 10**9


class ActionError(Exception):
    """A CKAN error: `kind` is CKAN's __type, `status` its HTTP status."""

    STATUS = {"Validation Error": 409, "Not Found Error": 404, "Authorization Error": 403, "Bad Request": 400}

    def __init__(self, kind: str, message: str, fields: Mapping[str, list[str]] | None = None):
        super().__init__(message)
        self.kind, self.message, self.fields = kind, message, dict(fields or {})
        self.status = self.STATUS[kind]


def validation(field: str, message: str) -> ActionError:
    return ActionError("Validation Error", message, {field: [message]})


def not_found(message: str | None = None) -> ActionError:
    return ActionError("Not Found Error", message or _("No encontrado."))


def from_opendata_error(exc: OpendataError) -> ActionError:
    if isinstance(exc, NotAuthorized) or exc.status == 403:
        return ActionError("Authorization Error", exc.message)
    if exc.status == 404 and exc.field in (None, "id", "resource_id", "package_id"):
        return not_found(exc.message)
    return ActionError("Validation Error", exc.message, {exc.field or "message": [exc.message]})


@dataclass
class Call:
    """One action call: its parameters, the caller (token user or None), the request."""

    params: dict[str, Any]
    user: Any
    request: HttpRequest

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    def text(self, key: str, default: str = "", *, required: bool = False, max_length: int = 2000) -> str:
        value = self.params.get(key)
        if value is None or value == "":
            if required:
                raise validation(key, _("Falta el dato «%s».") % key)
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise validation(key, _("«%s» debe ser texto.") % key)
        if len(value) > max_length:
            raise validation(key, _("«%s» es demasiado largo.") % key)
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.params.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on", "t", "y", "verdadero", "si", "sí"):
            return True
        if text in ("false", "0", "no", "off", "f", "n", "falso"):
            return False
        raise validation(key, _("«%s» debe ser true o false.") % key)

    def integer(self, key: str, default: int | None, *, minimum: int = 0, maximum: int | None = None) -> int | None:
        value = self.params.get(key)
        if value is None or value == "":
            return default
        try:
            if isinstance(value, bool):
                raise ValueError
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise validation(key, _("«%s» debe ser un número entero.") % key) from None
        if number < minimum:
            raise validation(key, _("«%(key)s» no puede ser menor que %(min)d.") % {"key": key, "min": minimum})
        # Clamped like CKAN's maximums; beyond any catalogue, and within every database's integers.
        return min(number, maximum if maximum is not None else MAX_NUMBER)

    def json_value(self, key: str, default: Any = None) -> Any:
        """A parameter that may arrive already decoded (JSON body) or as a JSON string (GET)."""
        value = self.params.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, str):
            try:
                return json.loads(value)
            except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
                raise validation(key, _("«%s» no es JSON válido.") % key) from None
        return value

    def string_list(self, key: str) -> list[str]:
        """A list given as a JSON list, a JSON string of a list, or repeated/comma-separated text."""
        value = self.params.get(key)
        if value in (None, "", []):
            return []
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                value = self.json_value(key)
            else:
                value = [v.strip() for v in stripped.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise validation(key, _("«%s» debe ser una lista de textos.") % key)
        return value

    def require_user(self):
        if self.user is None:
            raise ActionError("Authorization Error",
                              _("Esta acción necesita el token de API de una persona que publica datos "
                                "(encabezado Authorization)."))
        return self.user


# --- Read actions ---------------------------------------------------------------------------------

def status_show(call: Call) -> dict[str, Any]:
    return {
        "site_title": f"Datos abiertos · {settings.CITY['name']}",
        "site_url": call.request.build_absolute_uri("/").rstrip("/"),
        "site_description": _("Portal de datos abiertos del municipio."),
        "ckan_version": CKAN_COMPATIBLE_VERSION,
        "api_version": CKAN_API_VERSION,
        "software": "Ventanilla",
        "error_emails_to": None,
        "locale_default": "es_MX",
        "extensions": ["datastore"],
    }


def package_list(call: Call) -> list[str]:
    """Names of the public, active datasets (never private ones, as in CKAN)."""
    limit = call.integer("limit", None, minimum=0)
    offset = call.integer("offset", 0, minimum=0) or 0
    names = selectors.visible_datasets(None).order_by("name").values_list("name", flat=True)
    names = names[offset:offset + limit] if limit is not None else names[offset:]
    return list(names)


def _facet_fields(call: Call) -> list[str]:
    value = call.params.get("facet.field")
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:  # nested too deep to decode: not a list of names either
            value = None
        except ValueError:
            value = [value]  # a single field name without JSON quoting
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation("facet.field", _("«facet.field» debe ser una lista JSON de campos, por ejemplo "
                                          "[\"organization\", \"tags\"]."))
    return value


def package_search(call: Call) -> dict[str, Any]:
    fq = call.get("fq", "")
    if isinstance(fq, list):
        fq = " ".join(str(v) for v in fq)
    elif fq is not None and not isinstance(fq, str):
        raise validation("fq", _("«fq» debe ser texto."))
    found = catalog_search.package_search(
        call.user,
        q=call.text("q", max_length=1000),
        fq=fq,
        rows=call.integer("rows", catalog_search.DEFAULT_ROWS, minimum=0, maximum=catalog_search.MAX_ROWS),
        start=call.integer("start", 0, minimum=0),
        sort=call.text("sort", "", max_length=200),
        facet_fields=_facet_fields(call),
        facet_limit=call.integer("facet.limit", catalog_search.DEFAULT_FACET_LIMIT, minimum=-1),
        facet_mincount=call.integer("facet.mincount", 1, minimum=0),
        include_private=call.boolean("include_private", False),
        include_drafts=call.boolean("include_drafts", False),
    )
    return {
        "count": found["count"],
        "results": [package_dict(d, call.request) for d in found["results"]],
        "facets": found["facets"],
        "search_facets": found["search_facets"],
        "sort": found["sort"],
    }


def _dataset(call: Call, key: str = "id"):
    name = call.text(key, required=True, max_length=200)
    dataset = selectors.dataset_by_name_or_id(name, call.user)
    if dataset is None:
        raise not_found(_("No existe el conjunto de datos «%s» o no es público.") % name[:100])
    return dataset


def _prefetched(dataset):
    return (Dataset.objects.filter(pk=dataset.pk)
            .select_related("organization").prefetch_related("tags", "themes", "resources__current_version").get())


def package_show(call: Call) -> dict[str, Any]:
    return package_dict(_prefetched(_dataset(call)), call.request)


def _department(call: Call):
    key = call.text("id", required=True, max_length=100)
    department = org_selectors.department_by_slug(key)
    if department is None and key.isascii() and key.isdigit() and len(key) < 19:
        department = org_selectors.departments_by_ids([int(key)]).first()
    if department is None or not department.is_active:
        raise not_found(_("No existe la organización «%s».") % key[:100])
    return department


def _org_counts() -> dict[int, int]:
    counts: dict[int, int] = {}
    for org_id in selectors.visible_datasets(None).values_list("organization_id", flat=True):
        counts[org_id] = counts.get(org_id, 0) + 1
    return counts


def _sorted_list(call: Call, items: list[dict[str, Any]], default: str = "name asc") -> list[dict[str, Any]]:
    sort = call.text("sort", default, max_length=60).strip() or default
    bits = sort.split()
    field = bits[0] if bits else "name"
    direction = bits[1].lower() if len(bits) > 1 else "asc"
    if field == "packages":
        field = "package_count"
    if field not in ("name", "title", "package_count") or direction not in ("asc", "desc") or len(bits) > 2:
        raise validation("sort", _("Ordena por name, title o package_count, seguido de asc o desc."))
    items.sort(key=lambda item: (item.get(field) if field != "title" else str(item["title"]).lower()),
               reverse=direction == "desc")
    offset = call.integer("offset", 0, minimum=0) or 0
    limit = call.integer("limit", None, minimum=0, maximum=MAX_LIST)
    return items[offset:offset + limit] if limit is not None else items[offset:]


def organization_list(call: Call) -> list[Any]:
    counts = _org_counts()
    wanted = set(call.string_list("organizations"))
    items = [organization_dict(d, package_count=counts.get(d.pk, 0))
             for d in org_selectors.active_departments() if not wanted or d.slug in wanted]
    items = _sorted_list(call, items)
    return items if call.boolean("all_fields", False) else [item["name"] for item in items]


def organization_show(call: Call) -> dict[str, Any]:
    department = _department(call)
    found = catalog_search.package_search(
        call.user, fq=f'organization:"{department.slug}"', rows=catalog_search.MAX_ROWS,
        sort="name asc", include_private=True,
    )
    data = organization_dict(department, package_count=found["count"])
    data["users"] = []
    if call.boolean("include_datasets", False):
        data["packages"] = [package_dict(d, call.request) for d in found["results"]]
    return data


def group_list(call: Call) -> list[Any]:
    counts: dict[str, int] = {}
    for theme_id in selectors.visible_datasets(None).values_list("themes", flat=True):
        if theme_id is not None:
            counts[str(theme_id)] = counts.get(str(theme_id), 0) + 1
    wanted = set(call.string_list("groups"))
    items = [group_dict(t, package_count=counts.get(str(t.pk), 0))
             for t in selectors.themes() if not wanted or t.name in wanted]
    items = _sorted_list(call, items)
    return items if call.boolean("all_fields", False) else [item["name"] for item in items]


def group_show(call: Call) -> dict[str, Any]:
    key = call.text("id", required=True, max_length=100)
    theme = next((t for t in selectors.themes() if key in (t.name, str(t.pk))), None)
    if theme is None:
        raise not_found(_("No existe el tema «%s».") % key[:100])
    found = catalog_search.package_search(call.user, fq=f'groups:"{theme.name}"', rows=catalog_search.MAX_ROWS,
                                          sort="name asc", include_private=True)
    data = group_dict(theme, package_count=found["count"])
    data["users"] = []
    if call.boolean("include_datasets", False):
        data["packages"] = [package_dict(d, call.request) for d in found["results"]]
    return data


def tag_list(call: Call) -> list[Any]:
    """Keywords of the public datasets (a private dataset's keywords are not revealed)."""
    query = catalog_search.normalize(call.text("query", "", max_length=100))
    names = sorted(
        {name for name in selectors.visible_datasets(None).values_list("tags__name", flat=True) if name},
        key=str.lower,
    )
    if query:
        names = [n for n in names if query in catalog_search.normalize(n)]
    if call.boolean("all_fields", False):
        return [{"name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


def _resource(call: Call, key: str = "id"):
    resource_id = call.text(key, required=True, max_length=100)
    resource = selectors.resource_by_id(resource_id, call.user)
    if resource is None:
        raise not_found(_("No existe el recurso «%s» o no es público.") % resource_id[:100])
    return resource


def resource_show(call: Call) -> dict[str, Any]:
    resource = _resource(call)
    siblings = list(resource.dataset.resources.order_by("position", "created").values_list("pk", flat=True))
    return resource_dict(resource, call.request, position=siblings.index(resource.pk))


DATASTORE_PARAMS = ("filters", "q", "fields", "sort", "limit", "offset", "distinct", "include_total",
                    "records_format", "plain", "language", "full_text")


def datastore_search(call: Call) -> dict[str, Any]:
    # CKAN names the resource `resource_id`; `id` is accepted as an alias.
    key = "id" if call.get("resource_id") in (None, "") and call.get("id") not in (None, "") else "resource_id"
    resource = _resource(call, key)
    if not resource.datastore_active:
        raise not_found(_("El recurso «%s» no tiene datos consultables.") % resource.pk)
    params: dict[str, Any] = {}
    for name in DATASTORE_PARAMS:
        if name in call.params and call.params[name] not in (None, ""):
            params[name] = call.params[name]
    if isinstance(params.get("filters"), str):
        params["filters"] = call.json_value("filters")
    if isinstance(params.get("q"), str) and params["q"].lstrip().startswith("{"):
        params["q"] = call.json_value("q")
    for name in ("limit", "offset"):
        if name in params:
            params[name] = call.integer(name, None, minimum=0)
    for name in ("distinct", "include_total"):
        if name in params:
            params[name] = call.boolean(name)
    from . import datastore

    return datastore.search(resource, params)


def datastore_search_sql(call: Call) -> dict[str, Any]:
    from . import datastore

    sql = call.text("sql", required=True, max_length=20_000)
    return datastore.search_sql(sql, user=call.user)


# --- Write actions -----------------------------------------------------------------------------------

EXTRA_FIELDS = {"temporal_start", "temporal_end", "update_frequency", "spatial", "spatial_text"}


def _dataset_data(call: Call, *, creating: bool) -> dict[str, Any]:
    """CKAN's package fields → the services' names (owner_org by id or name, extras flattened)."""
    allowed = set(services.DATASET_FIELDS) | {"name", "owner_org", "tags", "groups"}
    data = {k: v for k, v in call.params.items() if k in allowed}
    for key in ("tags", "groups", "extras"):
        if isinstance(call.params.get(key), str):
            data_value = call.json_value(key)
            call.params[key] = data_value
            if key != "extras":
                data[key] = data_value
    for key in ("tags", "groups"):
        if key in data and not isinstance(data[key], list):
            raise validation(key, _("«%s» debe ser una lista.") % key)
    for key in ("groups",):
        if key in data:
            data[key] = [g.get("name") or g.get("id") if isinstance(g, Mapping) else g for g in data[key]]
            themes = {str(t.pk): t.name for t in selectors.themes()}
            data[key] = [themes.get(str(g), g) for g in data[key]]
    extras = call.params.get("extras") or []
    if not isinstance(extras, list):
        raise validation("extras", _("«extras» debe ser una lista de {key, value}."))
    for extra in extras:
        if not isinstance(extra, Mapping) or "key" not in extra:
            raise validation("extras", _("Cada elemento de «extras» debe tener key y value."))
        key = "spatial" if extra["key"] == "spatial_text" else extra["key"]
        if key in EXTRA_FIELDS:
            data[key] = extra.get("value")
    if "private" in data and not isinstance(data["private"], bool):
        data["private"] = call.boolean("private")
    owner = data.get("owner_org")
    if owner not in (None, "") and not hasattr(owner, "pk"):
        owner = str(owner)
        department = org_selectors.department_by_slug(owner)
        if department is None and owner.isascii() and owner.isdigit() and len(owner) < 19:
            department = org_selectors.departments_by_ids([int(owner)]).first()
        if department is None:
            raise validation("owner_org", _("No existe la organización «%s».") % owner[:100])
        data["owner_org"] = department
    elif creating:
        raise validation("owner_org", _("Falta la organización que publica (owner_org)."))
    return data


def package_create(call: Call) -> dict[str, Any]:
    user = call.require_user()
    data = _dataset_data(call, creating=True)
    resources = call.params.get("resources") or []
    if isinstance(resources, str):
        resources = call.json_value("resources")
    if not isinstance(resources, list) or not all(isinstance(r, Mapping) for r in resources):
        raise validation("resources", _("«resources» debe ser una lista de recursos."))
    with transaction.atomic():
        dataset = services.create_dataset(by=user, data=data, request=call.request)
        for item in resources:
            services.create_resource(dataset, by=user, data=item, request=call.request)
    return package_dict(_prefetched(dataset), call.request)


def package_patch(call: Call) -> dict[str, Any]:
    user = call.require_user()
    dataset = _dataset(call)
    data = _dataset_data(call, creating=False)
    data.pop("id", None)
    dataset = services.update_dataset(dataset, by=user, data=data, request=call.request)
    return package_dict(_prefetched(dataset), call.request)


def resource_create(call: Call) -> dict[str, Any]:
    user = call.require_user()
    dataset = _dataset(call, "package_id")
    upload = call.request.FILES.get("upload")
    data = {k: call.params[k] for k in ("name", "description", "format", "url") if k in call.params}
    for key, value in data.items():
        if not isinstance(value, str):
            raise validation(key, _("«%s» debe ser texto.") % key)
    if upload is not None:
        data.pop("url", None)
        resource = services.create_resource(dataset, by=user, data=data, upload=upload,
                                            filename=upload.name or "", request=call.request)
    else:
        resource = services.create_resource(dataset, by=user, data=data, request=call.request)
    resource = selectors.resource_by_id(str(resource.pk), user)
    return resource_show(Call({"id": str(resource.pk)}, user, call.request))


@dataclass(frozen=True)
class Action:
    function: Callable[[Call], Any]
    read_only: bool
    doc: str


ACTIONS: dict[str, Action] = {
    "status_show": Action(status_show, True, "Estado del portal y versión de la API."),
    "package_list": Action(package_list, True, "Claves de los conjuntos de datos públicos."),
    "package_search": Action(package_search, True, "Busca conjuntos de datos con facetas."),
    "package_show": Action(package_show, True, "Un conjunto de datos con sus recursos."),
    "organization_list": Action(organization_list, True, "Las dependencias que publican."),
    "organization_show": Action(organization_show, True, "Una dependencia y sus conjuntos de datos."),
    "group_list": Action(group_list, True, "Los temas del catálogo."),
    "group_show": Action(group_show, True, "Un tema y sus conjuntos de datos."),
    "tag_list": Action(tag_list, True, "Las palabras clave en uso."),
    "resource_show": Action(resource_show, True, "Un recurso."),
    "datastore_search": Action(datastore_search, True, "Consulta las filas de un recurso."),
    "datastore_search_sql": Action(datastore_search_sql, True, "Una consulta SELECT de solo lectura."),
    "package_create": Action(package_create, False, "Crea un conjunto de datos (requiere token)."),
    "package_patch": Action(package_patch, False, "Cambia campos de un conjunto de datos (requiere token)."),
    "resource_create": Action(resource_create, False, "Agrega un recurso: archivo o enlace (requiere token)."),
}


# --- HTTP ------------------------------------------------------------------------------------------------

def token_from(request: HttpRequest) -> str | None:
    value = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key")
    if not value:
        return None
    value = value.strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value


def _request_params(request: HttpRequest, read_only: bool) -> dict[str, Any]:
    """CKAN's rules: GET only for read actions (query parameters, repeated keys become lists);
    POST with a JSON object body, or a form / multipart body."""
    def mixed(querydict) -> dict[str, Any]:
        return {k: (v[0] if len(v) == 1 else v) for k, v in querydict.lists()}

    if request.method == "GET":
        if not read_only:
            raise ActionError("Bad Request", _("Solicitud incorrecta: esta acción solo acepta POST."))
        return mixed(request.GET)
    content_type = (request.content_type or "").lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        params = mixed(request.POST)
        values = list(params.values())
        if len(values) == 1 and values[0] in ("1", "") and str(next(iter(params))).lstrip().startswith("{"):
            params = _json_object(next(iter(params)).encode())  # CKAN's old "JSON as form key" style
        return params
    body = request.body
    if not body.strip():
        return mixed(request.GET) if read_only else {}
    return _json_object(body)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ActionError("Bad Request", _("Solicitud incorrecta: el cuerpo no es JSON válido.")) from None
    if not isinstance(data, dict):
        raise ActionError("Bad Request", _("Solicitud incorrecta: el cuerpo JSON debe ser un objeto."))
    return data


def _refuse_nul(params: Mapping[str, Any]) -> None:
    """No database stores the NUL character; refuse it in any parameter, however nested."""
    def has_nul(value: Any) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, Mapping):
            return any(has_nul(k) or has_nul(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return any(has_nul(v) for v in value)
        return False

    for key, value in params.items():
        if has_nul(key) or has_nul(value):
            field = key.replace("\x00", "") or "entrada"
            raise validation(field, _("«%s» contiene un carácter no permitido (NUL).") % field[:40])


def _envelope(request: HttpRequest, name: str, *, result: Any = None, error: ActionError | None = None) -> JsonResponse:
    help_url = request.build_absolute_uri(reverse("ckan-help", args=[name if name in ACTIONS else "help_show"]))
    if error is None:
        return JsonResponse({"help": help_url, "success": True, "result": result},
                            json_dumps_params={"ensure_ascii": False})
    body = {"__type": error.kind, "message": error.message}
    body.update(error.fields)
    return JsonResponse({"help": help_url, "success": False, "error": body}, status=error.status,
                        json_dumps_params={"ensure_ascii": False})


def call_action(request: HttpRequest, name: str) -> JsonResponse:
    """Runs one action for a request and returns CKAN's envelope. Never raises for bad input."""
    action = ACTIONS.get(name)
    if action is None:
        return _envelope(request, name, error=ActionError(
            "Bad Request", _("Solicitud incorrecta: no existe la acción «%s».") % name[:100]))
    try:
        params = _request_params(request, action.read_only)
        secret = token_from(request)
        user = None
        if secret is not None:
            user = services.user_for_token(secret)
            if user is None:
                raise ActionError("Authorization Error", _("El token de API no es válido, venció o fue retirado."))
        params.pop("callback", None)
        _refuse_nul(params)
        result = action.function(Call(params, user, request))
    except ActionError as exc:
        return _envelope(request, name, error=exc)
    except OpendataError as exc:
        return _envelope(request, name, error=from_opendata_error(exc))
    return _envelope(request, name, result=result)


@csrf_exempt
def action_view(request: HttpRequest, name: str) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        response = _envelope(request, name, error=ActionError(
            "Bad Request", _("Solicitud incorrecta: usa GET o POST.")))
        response.status_code = 405
        response["Allow"] = "GET, POST"
        return response
    return call_action(request, name)


def api_root(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": CKAN_API_VERSION})


def help_view(request: HttpRequest, name: str) -> JsonResponse:
    """What `help` in every envelope points to: the action's description."""
    action = ACTIONS.get(name)
    text = action.doc if action else _("Acciones disponibles: %s.") % ", ".join(ACTIONS)
    return JsonResponse({"help": request.build_absolute_uri(), "success": True, "result": text},
                        json_dumps_params={"ensure_ascii": False})
