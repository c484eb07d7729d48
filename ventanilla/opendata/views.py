"""Public pages of the open data portal (/datos/): home, search, dataset, resource preview,
downloads of a query, earlier versions, chart builder and map. Views only parse input, call the
datastore, search and selectors, and render; bad input answers 400 with a Spanish message."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors
from .models import LICENSES, Dataset, Resource, ResourceVersion
from .services import OpendataError

PAGE_SIZE = 25
MAX_PAGE = 1_000_000
MAP_FEATURES = 2000
LIST_FEATURES = 100
EXPORT_FORMATS = ("csv", "json", "xlsx")


def is_overdue(dataset: Dataset, now) -> bool:
    """Freshness rule owned by `freshness.py`; while it is missing nothing is flagged."""
    try:
        from .freshness import is_overdue as rule
    except ImportError:
        return False
    return bool(rule(dataset, now))


def download_url(resource: Resource) -> str:
    """Where the resource's current file is downloaded (links point outside)."""
    if resource.kind == Resource.Kind.LINK:
        return resource.url
    try:
        return reverse("opendata-download", args=[resource.pk])
    except NoReverseMatch:  # the download view lives with the CKAN API
        return ""


def version_url(dataset: Dataset, resource: Resource, number: int) -> str:
    try:
        return reverse("opendata-download-version", args=[resource.pk, number])
    except NoReverseMatch:
        return reverse("opendata-version", args=[dataset.name, resource.pk, number])


def _bad_request(request: HttpRequest, message: str, *, template: str = "opendata/error.html", context=None):
    return render(request, template, {**(context or {}), "error": message}, status=400)


def _dataset(request: HttpRequest, name: str) -> Dataset:
    dataset = selectors.dataset_by_name_or_id(name, request.user)
    if dataset is None:
        raise Http404
    return dataset


def _resource(request: HttpRequest, name: str, resource_id) -> tuple[Dataset, Resource]:
    dataset = _dataset(request, name)
    resource = selectors.resource_by_id(str(resource_id), request.user)
    if resource is None or resource.dataset_id != dataset.pk:
        raise Http404
    return dataset, resource


def _flag(datasets, now) -> list[dict]:
    return [{"dataset": d, "overdue": is_overdue(d, now)} for d in datasets]


# --- Home and search ---------------------------------------------------------------------------

@require_GET
def home(request: HttpRequest) -> HttpResponse:
    visible = selectors.visible_datasets(request.user)
    now = timezone.now()
    themes = (visible.exclude(themes=None).values("themes__name", "themes__title")
              .annotate(n=Count("id", distinct=True)).order_by("themes__title"))
    organizations = (visible.values("organization__slug", "organization__name")
                     .annotate(n=Count("id")).order_by("organization__name"))
    newest = visible.order_by("-metadata_created")[:5]
    updated = visible.exclude(data_modified=None).order_by("-data_modified")[:5]
    return render(request, "opendata/home.html", {
        "count": visible.count(), "themes": themes, "organizations": organizations,
        "newest": _flag(newest, now), "updated": _flag(updated, now),
    })


SEARCH_FILTERS = (("organizacion", "organization"), ("tema", "groups"), ("formato", "res_format"),
                  ("etiqueta", "tags"), ("licencia", "license_id"))


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    from .search import package_search

    q = request.GET.get("q", "").strip()
    try:
        page = int(request.GET.get("pagina", "1"))
    except ValueError:
        return _bad_request(request, _("La página debe ser un número entero."))
    if not 1 <= page <= 10_000 or len(q) > 200:
        return _bad_request(request, _("La página o la búsqueda no son válidas."))
    filters = {}
    for param, facet in SEARCH_FILTERS:
        value = request.GET.get(param, "").strip()
        if len(value) > 200 or any(ch in value for ch in '"\\\x00'):
            return _bad_request(request, _("El filtro «%s» no es válido.") % param)
        if value:
            filters[facet] = value
    fq = " ".join(f'{facet}:"{value}"' for facet, value in filters.items())
    try:
        result = package_search(user=request.user, q=q, fq=fq, rows=20, start=(page - 1) * 20,
                                facet_fields=[facet for _p, facet in SEARCH_FILTERS], facet_limit=20)
    except OpendataError as exc:
        return _bad_request(request, exc.message)
    now = timezone.now()
    base = {p: request.GET.get(p, "").strip() for p in ("q", *[p for p, _f in SEARCH_FILTERS])}
    facet_titles = {"organization": _("Dependencia"), "groups": _("Tema"), "res_format": _("Formato"),
                    "tags": _("Palabra clave"), "license_id": _("Licencia")}
    facets = []
    for param, facet in SEARCH_FILTERS:
        entries = []
        for item in (result.get("search_facets") or {}).get(facet, {}).get("items", []):
            selected = base[param] == item["name"]
            link = {**base, param: "" if selected else item["name"]}
            entries.append({"label": item.get("display_name") or item["name"], "count": item["count"],
                            "selected": selected, "url": "?" + urlencode({k: v for k, v in link.items() if v})})
        if entries:
            facets.append({"param": param, "title": facet_titles[facet], "items": entries})
    results = [{"dataset": d, "overdue": is_overdue(d, now),
                "formats": sorted({r.format.upper() for r in d.resources.all() if r.format})}
               for d in result["results"]]
    pages = max(1, math.ceil(result["count"] / 20))
    query = {k: v for k, v in base.items() if v}
    return render(request, "opendata/search.html", {
        "q": q, "results": results, "count": result["count"], "facets": facets, "page": page, "pages": pages,
        "prev_url": "?" + urlencode({**query, "pagina": page - 1}) if page > 1 else "",
        "next_url": "?" + urlencode({**query, "pagina": page + 1}) if page < pages else "",
        "active": [{"title": facet_titles[f], "value": base[p],
                    "url": "?" + urlencode({k: v for k, v in query.items() if k != p})}
                   for p, f in SEARCH_FILTERS if base[p]],
    })


# --- Dataset -----------------------------------------------------------------------------------

@require_GET
def dataset_detail(request: HttpRequest, name: str) -> HttpResponse:
    dataset = _dataset(request, name)
    resources = []
    for r in dataset.resources.select_related("current_version").order_by("position", "created"):
        resources.append({"resource": r, "version": r.current_version, "download": download_url(r)})
    license_title, license_url = LICENSES.get(dataset.license_id, (dataset.license_id, ""))
    return render(request, "opendata/dataset.html", {
        "dataset": dataset, "resources": resources, "overdue": is_overdue(dataset, timezone.now()),
        "license_title": license_title, "license_url": license_url,
        "themes": dataset.themes.all(), "tags": dataset.tags.all(),
    })


# --- Resource preview --------------------------------------------------------------------------

def _table_fields(resource: Resource) -> list:
    from . import datastore

    return list(datastore.table_fields(resource))


def _preview_params(request: HttpRequest, columns: list[str]) -> dict:
    """The current query of the preview: text search, sort column and direction, page."""
    q = request.GET.get("q", "").strip()
    if len(q) > 200:
        raise OpendataError(_("La búsqueda es demasiado larga (máximo 200 caracteres)."), field="q")
    order = request.GET.get("orden", "")
    if order and order not in columns:
        raise OpendataError(_("No existe la columna «%s» para ordenar.") % order[:63], field="orden")
    direction = request.GET.get("dir", "asc")
    if direction not in ("asc", "desc"):
        raise OpendataError(_("El orden debe ser «asc» o «desc»."), field="dir")
    try:
        page = int(request.GET.get("pagina", "1"))
    except ValueError:
        raise OpendataError(_("La página debe ser un número entero."), field="pagina") from None
    if not 1 <= page <= MAX_PAGE:
        raise OpendataError(_("La página debe estar entre 1 y %d.") % MAX_PAGE, field="pagina")
    return {"q": q, "orden": order, "dir": direction, "pagina": page}


def datastore_params(query: dict) -> dict:
    params: dict = {}
    if query["q"]:
        params["q"] = query["q"]
    if query["orden"]:
        params["sort"] = '"%s" %s' % (query["orden"].replace('"', '""'), query["dir"])
    return params


def api_examples(resource: Resource) -> dict:
    base = settings.SITE_URL
    rid = str(resource.id)
    url = f"{base}/api/3/action/datastore_search?{urlencode({'resource_id': rid, 'limit': 5})}"
    sql = f'SELECT * FROM "{rid}" LIMIT 5'
    return {
        "search_url": url,
        "sql_url": f"{base}/api/3/action/datastore_search_sql?{urlencode({'sql': sql})}",
        "curl": f'curl "{url}"',
        "ckanapi_cli": f"ckanapi action datastore_search resource_id={rid} limit=5 -r {base}",
        "python": (f'from ckanapi import RemoteCKAN\n\nportal = RemoteCKAN("{base}")\n'
                   f'result = portal.action.datastore_search(resource_id="{rid}", limit=5)\n'
                   'for record in result["records"]:\n    print(record)'),
    }


def _versions(dataset: Dataset, resource: Resource) -> list[dict]:
    return [{"version": v, "url": version_url(dataset, resource, v.number) if v.file else ""}
            for v in resource.versions.order_by("-number")]


@require_GET
def resource_detail(request: HttpRequest, name: str, resource_id) -> HttpResponse:
    dataset, resource = _resource(request, name, resource_id)
    version = resource.current_version
    context = {
        "dataset": dataset, "resource": resource, "version": version, "download": download_url(resource),
        "versions": _versions(dataset, resource), "api": api_examples(resource), "exports": EXPORT_FORMATS,
        "is_geo": (resource.format or "").upper() == "GEOJSON",
    }
    if not resource.datastore_active:
        return render(request, "opendata/resource.html", context)
    from . import datastore

    fields = _table_fields(resource)
    columns = [f.name for f in fields]
    try:
        query = _preview_params(request, columns)
        result = datastore.search(resource, {**datastore_params(query), "limit": PAGE_SIZE,
                                             "offset": (query["pagina"] - 1) * PAGE_SIZE})
    except OpendataError as exc:
        return _bad_request(request, exc.message, template="opendata/resource.html", context=context)
    total = result.get("total") or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    base_query = {k: v for k, v in query.items() if v and k != "pagina"}
    if query["orden"] == "":
        base_query.pop("dir", None)
    header = []
    labels = {f.name: (f.label or f.name) for f in fields}
    for f in result["fields"]:
        if f["id"].startswith("_"):
            continue
        active = query["orden"] == f["id"]
        next_dir = "desc" if active and query["dir"] == "asc" else "asc"
        header.append({
            "id": f["id"], "label": labels.get(f["id"], f["id"]), "type": f.get("type", ""),
            "sort": "ascending" if active and query["dir"] == "asc" else "descending" if active else "",
            "url": "?" + urlencode({**{k: v for k, v in base_query.items() if k not in ("orden", "dir")},
                                    "orden": f["id"], "dir": next_dir}),
        })
    ids = [h["id"] for h in header]
    rows = [[record.get(i) for i in ids] for record in result["records"]]

    def page_url(n: int) -> str:
        return "?" + urlencode({**base_query, "pagina": n})

    context.update({
        "fields": fields, "header": header, "rows": rows, "total": total, "page": query["pagina"],
        "pages": pages, "query": query, "estimated": result.get("total_was_estimated", False),
        "prev_url": page_url(query["pagina"] - 1) if query["pagina"] > 1 else "",
        "next_url": page_url(query["pagina"] + 1) if query["pagina"] < pages else "",
        "first_url": page_url(1) if query["pagina"] > 1 else "",
        "last_url": page_url(pages) if query["pagina"] < pages else "",
        "export_query": urlencode(base_query),
        "first_row": (query["pagina"] - 1) * PAGE_SIZE + 1 if rows else 0,
        "last_row": (query["pagina"] - 1) * PAGE_SIZE + len(rows),
    })
    return render(request, "opendata/resource.html", context)


@require_GET
def resource_export(request: HttpRequest, name: str, resource_id, fmt: str) -> HttpResponse:
    """The preview's current query (search and sort, every page) as CSV, JSON or XLSX, streamed."""
    dataset, resource = _resource(request, name, resource_id)
    if fmt not in EXPORT_FORMATS:
        raise Http404
    if not resource.datastore_active:
        return _bad_request(request, _("Este recurso no se puede consultar; descarga el archivo original."))
    from . import datastore

    try:
        query = _preview_params(request, [f.name for f in _table_fields(resource)])
        chunks, content_type, filename = datastore.dump(resource, fmt, datastore_params(query))
    except OpendataError as exc:
        return _bad_request(request, exc.message)
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def version_download(request: HttpRequest, name: str, resource_id, number: int) -> HttpResponse:
    """The file of any version of an uploaded resource, as it was uploaded."""
    from .download_views import serve_version

    dataset, resource = _resource(request, name, resource_id)
    return serve_version(resource, resource.versions.filter(number=number).first())


# --- Chart builder -----------------------------------------------------------------------------

@require_GET
def resource_chart(request: HttpRequest, name: str, resource_id) -> HttpResponse:
    from . import charts
    from .chart_data import AGGREGATIONS, CHART_KINDS, ChartRequest, aggregate

    dataset, resource = _resource(request, name, resource_id)
    if not resource.datastore_active:
        raise Http404
    fields = _table_fields(resource)
    numeric = [f for f in fields if f.type in ("int", "numeric")]
    context = {"dataset": dataset, "resource": resource, "fields": fields, "numeric": numeric,
               "kinds": CHART_KINDS, "aggregations": AGGREGATIONS,
               "selected": {"tipo": request.GET.get("tipo", "barras"), "x": request.GET.get("x", ""),
                            "y": request.GET.getlist("y"), "agregacion": request.GET.get("agregacion", "suma")}}
    if "x" not in request.GET:
        return render(request, "opendata/chart.html", context)
    labels = {f.name: (f.label or f.name) for f in fields}
    try:
        chart_request = ChartRequest.parse(request.GET, fields)
        data = aggregate(resource, chart_request, user=request.user, labels=labels)
    except OpendataError as exc:
        return _bad_request(request, exc.message, template="opendata/chart.html", context=context)
    x_label = labels[chart_request.x]
    y_label = data.value_label(labels)
    title = _("%(y)s por %(x)s") % {"y": y_label, "x": x_label}
    description = data.describe(x_label)
    draw = charts.bar_chart if chart_request.kind == "barras" else charts.line_chart
    svg = draw(data.categories, data.series, title=title, description=description, x_label=x_label,
               y_label=y_label, chart_id="grafica")
    rows = [{"category": c, "values": [charts.format_number(s.values[i]) for s in data.series]}
            for i, c in enumerate(data.categories)]
    context.update({"svg": svg, "title": title, "data": data, "rows": rows, "x_label": x_label,
                    "description": description})
    return render(request, "opendata/chart.html", context)


# --- Map ---------------------------------------------------------------------------------------

def read_features(version: ResourceVersion, limit: int) -> list[dict]:
    """The first `limit` features of a GeoJSON file, streamed (the file is never loaded whole)."""
    import ijson

    features = []
    try:
        with version.file.open("rb") as handle:
            for feature in ijson.items(handle, "features.item", use_float=True):
                features.append(feature)
                if len(features) >= limit:
                    break
    except (ijson.JSONError, ValueError, OSError):
        raise OpendataError(_("No se pudo leer el archivo GeoJSON de este recurso."), field="file") from None
    return features


@require_GET
def resource_map(request: HttpRequest, name: str, resource_id) -> HttpResponse:
    from . import maps

    dataset, resource = _resource(request, name, resource_id)
    version = resource.current_version
    if (resource.format or "").upper() != "GEOJSON" or version is None or not version.file:
        raise Http404
    context = {"dataset": dataset, "resource": resource, "download": download_url(resource)}
    try:
        features = read_features(version, MAP_FEATURES)
    except OpendataError as exc:
        return _bad_request(request, exc.message, template="opendata/map.html", context=context)
    total = max(version.row_count or 0, len(features))
    title = _("Mapa de %s") % resource.name
    description = _("%(n)d elementos de «%(name)s» dibujados sobre su área; la lista está junto al mapa.") % {
        "n": min(len(features), total), "name": resource.name}
    result = maps.render_map(features, title=title, description=description, total=total, max_points=MAP_FEATURES)
    rows = []
    for i, feature in enumerate(features[:LIST_FEATURES]):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        kind = geometry.get("type", "") if isinstance(geometry, dict) else ""
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        where = ""
        if kind == "Point" and isinstance(coords, list) and len(coords) >= 2:
            where = f"{coords[1]:.5f}, {coords[0]:.5f}"
        rows.append({"label": maps.feature_label(feature, i), "kind": kind, "where": where})
    context.update({"svg": result.svg, "result": result, "rows": rows, "listed": len(rows),
                    "partial": result.drawn < result.total})
    return render(request, "opendata/map.html", context)
