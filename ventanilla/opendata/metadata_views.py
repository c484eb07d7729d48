"""Catalogue metadata for harvesters: /catalog.jsonld, /catalog.ttl and /data.json. Thin views
over `dcat`; the graph is built once per request and both RDF formats come from it."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import dcat


def _response(body: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Access-Control-Allow-Origin"] = "*"  # public metadata, read by harvesters anywhere
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    return _response(dcat.jsonld(), "application/ld+json; charset=utf-8")


@require_GET
def catalog_turtle(request: HttpRequest) -> HttpResponse:
    return _response(dcat.turtle(), "text/turtle; charset=utf-8")


@require_GET
def data_json(request: HttpRequest) -> HttpResponse:
    body = json.dumps(dcat.data_json(), ensure_ascii=False, indent=2)
    return _response(body, "application/json; charset=utf-8")
