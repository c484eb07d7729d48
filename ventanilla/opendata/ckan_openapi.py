"""The OpenAPI 3.0 document of the CKAN Action API (`/api/3/openapi.json`).

The action API is plain Django views (CKAN's envelope and its GET-or-POST-of-anything
conventions would fight a schema-first framework), so the document is written out here from one
table of parameters per action. Tests validate it with openapi-spec-validator and fuzz the API
from it with schemathesis."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from .ckan_api import ACTIONS

RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")
_S = {"type": "string", "maxLength": 2000}
_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_INT = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}

# action → [(name, schema, required, description)]
PARAMETERS: dict[str, list[tuple[str, dict[str, Any], bool, str]]] = {
    "status_show": [],
    "package_list": [
        ("limit", _INT, False, "Máximo de claves."),
        ("offset", _INT, False, "Desde qué posición."),
    ],
    "package_search": [
        ("q", {"type": "string", "maxLength": 1000}, False, "Texto a buscar (sin distinguir acentos ni mayúsculas)."),
        ("fq", _S, False, 'Filtros campo:valor, p. ej. organization:tesoreria tags:"agua potable".'),
        ("rows", {"type": "integer", "minimum": 0, "maximum": 1000}, False, "Resultados por página (10; máximo 1000)."),
        ("start", _INT, False, "Desde qué resultado."),
        ("sort", {"type": "string", "maxLength": 200}, False,
         "score desc, metadata_modified desc (predeterminado); title_string asc; metadata_modified desc; name asc."),
        ("facet.field", _S, False, 'Lista JSON de campos con facetas, p. ej. ["organization","tags"].'),
        ("facet.limit", {"type": "integer", "minimum": -1}, False, "Máximo de valores por faceta (50; -1 sin límite)."),
        ("facet.mincount", _INT, False, "Cuenta mínima para mostrar un valor (1)."),
        ("include_private", _BOOL, False, "Incluir los privados que el token puede ver."),
        ("include_drafts", _BOOL, False, "Incluir los borradores que el token puede ver."),
    ],
    "package_show": [("id", _ID, True, "Clave (name) o id del conjunto de datos.")],
    "organization_list": [
        ("all_fields", _BOOL, False, "Objetos completos en vez de claves."),
        ("sort", {"type": "string", "maxLength": 60}, False, "name asc (predeterminado), title, package_count."),
        ("limit", _INT, False, "Máximo de organizaciones."),
        ("offset", _INT, False, "Desde qué posición."),
    ],
    "organization_show": [
        ("id", _ID, True, "Clave o id de la organización."),
        ("include_datasets", _BOOL, False, "Incluir sus conjuntos de datos."),
    ],
    "group_list": [
        ("all_fields", _BOOL, False, "Objetos completos en vez de claves."),
        ("sort", {"type": "string", "maxLength": 60}, False, "name asc (predeterminado), title, package_count."),
        ("limit", _INT, False, "Máximo de temas."),
        ("offset", _INT, False, "Desde qué posición."),
    ],
    "group_show": [
        ("id", _ID, True, "Clave o id del tema."),
        ("include_datasets", _BOOL, False, "Incluir sus conjuntos de datos."),
    ],
    "tag_list": [
        ("query", {"type": "string", "maxLength": 100}, False, "Solo las que contienen este texto."),
        ("all_fields", _BOOL, False, "Objetos completos en vez de nombres."),
    ],
    "resource_show": [("id", _ID, True, "Id del recurso.")],
    "datastore_search": [
        ("resource_id", _ID, True, "Id del recurso."),
        ("filters", _S, False, 'Objeto JSON columna → valor (o lista de valores), p. ej. {"colonia":"Centro"}.'),
        ("q", _S, False, "Texto a buscar en todas las columnas, o un objeto JSON columna → texto."),
        ("fields", _S, False, "Columnas a devolver, separadas por comas."),
        ("sort", _S, False, 'Orden, p. ej. "monto desc, fecha".'),
        ("limit", {"type": "integer", "minimum": 0, "maximum": 32000}, False, "Filas por página (100; máximo 32000)."),
        ("offset", _INT, False, "Desde qué fila."),
        ("distinct", _BOOL, False, "Solo filas distintas."),
        ("include_total", _BOOL, False, "Contar el total (true)."),
        ("records_format", {"type": "string", "enum": list(RECORDS_FORMATS)}, False, "objects, lists, csv o tsv."),
    ],
    "datastore_search_sql": [("sql", {"type": "string", "minLength": 1, "maxLength": 20000}, True,
                              "Una sola consulta SELECT de solo lectura; las tablas se nombran por el id del recurso.")],
    "package_create": [
        ("name", {"type": "string", "maxLength": 100}, False, "Clave (se deriva del título si falta)."),
        ("title", {"type": "string", "maxLength": 300}, True, "Título."),
        ("owner_org", _ID, True, "Clave o id de la organización."),
        ("notes", {"type": "string", "maxLength": 20000}, False, "Descripción."),
        ("license_id", {"type": "string", "maxLength": 40}, False, "Licencia (libre-uso-mx)."),
        ("private", _BOOL, False, "Privado."),
        ("state", {"type": "string", "enum": ["active", "draft"]}, False, "Estado."),
        ("maintainer", {"type": "string", "maxLength": 200}, False, "Contacto."),
        ("maintainer_email", {"type": "string", "maxLength": 254}, False, "Correo de contacto."),
        ("tags", {"type": "array", "maxItems": 30, "items": {"type": "object", "properties": {"name": _ID}}}, False,
         "Palabras clave."),
        ("groups", {"type": "array", "items": {"type": "object", "properties": {"name": _ID}}}, False, "Temas."),
        ("extras", {"type": "array", "items": {"type": "object", "properties": {"key": _ID, "value": _S}}}, False,
         "temporal_start, temporal_end, update_frequency, spatial_text."),
    ],
    "package_patch": [
        ("id", _ID, True, "Clave o id del conjunto de datos."),
        ("title", {"type": "string", "maxLength": 300}, False, "Título."),
        ("notes", {"type": "string", "maxLength": 20000}, False, "Descripción."),
        ("license_id", {"type": "string", "maxLength": 40}, False, "Licencia."),
        ("private", _BOOL, False, "Privado."),
        ("tags", {"type": "array", "maxItems": 30, "items": {"type": "object", "properties": {"name": _ID}}}, False,
         "Palabras clave (reemplazan a las anteriores)."),
    ],
    "resource_create": [
        ("package_id", _ID, True, "Clave o id del conjunto de datos."),
        ("name", {"type": "string", "maxLength": 300}, False, "Nombre."),
        ("description", {"type": "string", "maxLength": 5000}, False, "Descripción."),
        ("format", {"type": "string", "maxLength": 20}, False, "Formato (CSV, XLSX…)."),
        ("url", {"type": "string", "maxLength": 1000}, False, "Enlace, si no se sube un archivo."),
    ],
}

_ERROR = {
    "type": "object",
    "required": ["help", "success", "error"],
    "properties": {
        "help": {"type": "string"},
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["__type", "message"],
            "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": True,
        },
    },
}
_OK = {
    "type": "object",
    "required": ["help", "success", "result"],
    "properties": {"help": {"type": "string"}, "success": {"type": "boolean", "enum": [True]}, "result": {}},
}


def _responses(write: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "Éxito.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Success"}}}},
    }
    for code, text in (("400", "Solicitud incorrecta."), ("403", "Sin permiso o token no válido."),
                       ("404", "No encontrado."), ("409", "Datos no válidos (Validation Error).")):
        responses[code] = {"description": text,
                           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return responses


def _body_schema(params) -> dict[str, Any]:
    properties = {}
    for name, schema, _required, description in params:
        body_schema = dict(schema)
        if name == "facet.field":
            body_schema = {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 10}
        if name == "filters":
            body_schema = {"type": "object", "additionalProperties": True}
        body_schema["description"] = description
        properties[name] = body_schema
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [name for name, _s, req, _d in params if req]
    if required:
        schema["required"] = required
    return schema


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, action in ACTIONS.items():
        params = PARAMETERS[name]
        item: dict[str, Any] = {}
        security = [] if action.read_only else [{"ckanToken": []}]
        if action.read_only:
            item["get"] = {
                "operationId": f"{name}_get",
                "summary": action.doc,
                "tags": ["CKAN"],
                "parameters": [
                    {"name": p, "in": "query", "required": req, "description": d, "schema": s}
                    for p, s, req, d in params
                ],
                "responses": _responses(False),
                "security": [{}, {"ckanToken": []}],
            }
        content: dict[str, Any] = {"application/json": {"schema": _body_schema(params)}}
        if name == "resource_create":
            form = _body_schema(params)
            form["properties"]["upload"] = {"type": "string", "format": "binary", "description": "El archivo."}
            content["multipart/form-data"] = {"schema": form}
        item["post"] = {
            "operationId": name,
            "summary": action.doc,
            "tags": ["CKAN"],
            "requestBody": {"required": not action.read_only, "content": content},
            "responses": _responses(not action.read_only),
            "security": security or [{}, {"ckanToken": []}],
        }
        paths[f"/api/3/action/{name}"] = item
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "API de datos abiertos compatible con CKAN",
            "version": "3",
            "description": (
                "La Action API de CKAN (versión 3): mismos nombres de acciones y parámetros, mismo sobre "
                "{help, success, result | error} y mismos códigos (400, 403, 404, 409), para que los clientes "
                "de CKAN (ckanapi, cosechadores) funcionen sin cambios. También responde en /api/action/. "
                "Las acciones de lectura aceptan GET o POST; las de escritura, solo POST con el token de API "
                "de quien publica en el encabezado Authorization."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {"Success": _OK, "Error": _ERROR},
            "securitySchemes": {
                "ckanToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                              "description": "Token de API de quien publica datos (también X-CKAN-API-Key)."},
            },
        },
    }


def openapi_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(build_document(), json_dumps_params={"ensure_ascii": False})
