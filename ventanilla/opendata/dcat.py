"""Metadata for harvesters: the public catalogue as DCAT-AP (one RDF graph, serialised as JSON-LD
and Turtle so both always say the same) and as DCAT-US 1.1 / Project Open Data `data.json`.

Only public, active datasets appear. Every URL is absolute, built from `settings.SITE_URL`.
The mapping to the fields of the Mexican open data guide is documented in docs/opendata.md."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from .models import LICENSES, Dataset, Frequency, Resource
from .selectors import visible_datasets

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")

# Declared update frequency → EU Publications Office frequency (DCAT-AP) and ISO 8601 repeating
# duration (DCAT-US accrualPeriodicity; "irregular" is the one literal value that schema allows).
FREQUENCY_EU = {
    Frequency.DAILY: "DAILY",
    Frequency.WEEKLY: "WEEKLY",
    Frequency.MONTHLY: "MONTHLY",
    Frequency.QUARTERLY: "QUARTERLY",
    Frequency.YEARLY: "ANNUAL",
    Frequency.IRREGULAR: "IRREG",
    Frequency.CONTINUOUS: "UPDATE_CONT",
}
FREQUENCY_ISO = {
    Frequency.DAILY: "R/P1D",
    Frequency.WEEKLY: "R/P1W",
    Frequency.MONTHLY: "R/P1M",
    Frequency.QUARTERLY: "R/P3M",
    Frequency.YEARLY: "R/P1Y",
    Frequency.IRREGULAR: "irregular",
    Frequency.CONTINUOUS: "R/PT1S",
}

MEDIA_TYPES = {
    "CSV": "text/csv",
    "TSV": "text/tab-separated-values",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "XLS": "application/vnd.ms-excel",
    "JSON": "application/json",
    "GEOJSON": "application/geo+json",
    "PDF": "application/pdf",
    "ZIP": "application/zip",
    "XML": "application/xml",
    "KML": "application/vnd.google-earth.kml+xml",
    "SHP": "application/x-shapefile",
    "HTML": "text/html",
    "TXT": "text/plain",
}

DCAT_US_SCHEMA = "https://resources.data.gov/schemas/dcat-us/v1.1/schema"
DCAT_US_CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
DCAT_US_DESCRIBED_BY = "https://resources.data.gov/schemas/dcat-us/v1.1/schema/catalog.json"

JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "skos": str(SKOS),
    "xsd": str(XSD),
}


# --- URLs ---------------------------------------------------------------------------------------

def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def landing_page(dataset: Dataset) -> str:
    return site_url(f"/datos/{dataset.name}/")


def resource_page(resource: Resource) -> str:
    return site_url(f"/datos/{resource.dataset.name}/recurso/{resource.pk}/")


def download_url(resource: Resource) -> str:
    """Uploaded files are served by the portal; links point where the publisher said."""
    if resource.kind == Resource.Kind.LINK:
        return resource.url
    return site_url(f"/datos/recurso/{resource.pk}/descargar/")


def media_type(resource: Resource) -> str | None:
    fmt = (resource.format or "").upper()
    if fmt in MEDIA_TYPES:
        return MEDIA_TYPES[fmt]
    version = resource.current_version
    mimetype = getattr(version, "mimetype", "") if version is not None else ""
    return mimetype or None


def byte_size(resource: Resource) -> int | None:
    version = resource.current_version
    return version.size if version is not None and version.size else None


# --- The datasets -------------------------------------------------------------------------------

def public_datasets() -> QuerySet[Dataset]:
    """Public active datasets with everything the exports need, in a fixed order."""
    resources = Resource.objects.select_related("current_version").order_by("position", "created")
    return (
        visible_datasets(None)
        .prefetch_related("tags", "themes", Prefetch("resources", queryset=resources))
        .order_by("name")
    )


def _aware(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _iso_date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value).isoformat(timespec="seconds")
    return value.isoformat()


def modified(dataset: Dataset) -> datetime:
    return dataset.data_modified or dataset.metadata_modified


def keywords(dataset: Dataset) -> list[str]:
    return [t.name for t in dataset.tags.all()]


def contact(dataset: Dataset) -> tuple[str, str]:
    """(name, e-mail): the dataset's maintainer, else the publishing department and the city's
    contact address."""
    name = dataset.maintainer or dataset.organization.name
    email = dataset.maintainer_email or getattr(dataset.organization, "email", "") or settings.CITY.get("email", "")
    return name, email


def license_url(dataset: Dataset) -> str | None:
    entry = LICENSES.get(dataset.license_id)
    return entry[1] if entry else None


# --- DCAT-AP graph ------------------------------------------------------------------------------

def catalog_uri() -> URIRef:
    return URIRef(site_url("/catalog.jsonld#catalogo"))


def organization_uri(slug: str) -> URIRef:
    return URIRef(site_url(f"/api/3/action/organization_show?id={slug}"))


def theme_uri(name: str) -> URIRef:
    return URIRef(site_url(f"/datos/buscar/?tema={name}"))


def catalog_graph(datasets: Iterable[Dataset] | None = None) -> Graph:
    """The DCAT-AP graph of the public catalogue. JSON-LD and Turtle are both serialised from it."""
    g = Graph()
    for prefix, ns in JSONLD_CONTEXT.items():
        g.bind(prefix, Namespace(ns))
    city = settings.CITY
    catalog = catalog_uri()
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal(f"Datos abiertos de {city['name']}", lang="es")))
    g.add((catalog, DCTERMS.description, Literal(
        f"Conjuntos de datos que publican las dependencias de {city['name']}.", lang="es")))
    g.add((catalog, FOAF.homepage, URIRef(site_url("/datos/"))))
    g.add((catalog, DCTERMS.language, URIRef("http://publications.europa.eu/resource/authority/language/SPA")))
    city_uri = URIRef(settings.SITE_URL + "/")
    g.add((catalog, DCTERMS.publisher, city_uri))
    g.add((city_uri, RDF.type, FOAF.Organization))
    g.add((city_uri, FOAF.name, Literal(city.get("government") or city["name"], lang="es")))
    latest = None
    for dataset in public_datasets() if datasets is None else datasets:
        node = add_dataset(g, dataset)
        g.add((catalog, DCAT.dataset, node))
        latest = max(latest or modified(dataset), modified(dataset))
    if latest is not None:
        g.add((catalog, DCTERMS.modified, Literal(_aware(latest).isoformat(timespec="seconds"), datatype=XSD.dateTime)))
    return g


def add_dataset(g: Graph, dataset: Dataset) -> URIRef:
    node = URIRef(landing_page(dataset) + "#conjunto")
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, DCTERMS.identifier, Literal(str(dataset.pk))))
    g.add((node, DCTERMS.title, Literal(dataset.title, lang="es")))
    g.add((node, DCTERMS.description, Literal(dataset.notes or dataset.title, lang="es")))
    for word in keywords(dataset):
        g.add((node, DCAT.keyword, Literal(word, lang="es")))
    g.add((node, DCTERMS.issued, Literal(_iso_date(dataset.metadata_created), datatype=XSD.dateTime)))
    g.add((node, DCTERMS.modified, Literal(_iso_date(modified(dataset)), datatype=XSD.dateTime)))
    g.add((node, DCAT.landingPage, URIRef(landing_page(dataset))))

    org = dataset.organization
    publisher = organization_uri(org.slug)
    g.add((node, DCTERMS.publisher, publisher))
    g.add((publisher, RDF.type, FOAF.Organization))
    g.add((publisher, FOAF.name, Literal(org.name, lang="es")))

    name, email = contact(dataset)
    point = BNode()
    g.add((node, DCAT.contactPoint, point))
    g.add((point, RDF.type, VCARD.Kind))
    g.add((point, VCARD.fn, Literal(name)))
    if email:
        g.add((point, VCARD.hasEmail, URIRef(f"mailto:{email}")))

    if dataset.temporal_start or dataset.temporal_end:
        period = BNode()
        g.add((node, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if dataset.temporal_start:
            g.add((period, DCAT.startDate, Literal(dataset.temporal_start.isoformat(), datatype=XSD.date)))
        if dataset.temporal_end:
            g.add((period, DCAT.endDate, Literal(dataset.temporal_end.isoformat(), datatype=XSD.date)))
    if dataset.spatial:
        place = BNode()
        g.add((node, DCTERMS.spatial, place))
        g.add((place, RDF.type, DCTERMS.Location))
        g.add((place, SKOS.prefLabel, Literal(dataset.spatial, lang="es")))
    g.add((node, DCTERMS.accrualPeriodicity, EU_FREQUENCY[FREQUENCY_EU[Frequency(dataset.update_frequency)]]))
    for theme in dataset.themes.all():
        concept = theme_uri(theme.name)
        g.add((node, DCAT.theme, concept))
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.prefLabel, Literal(theme.title, lang="es")))
    licence = license_url(dataset)
    if licence:
        g.add((node, DCTERMS.license, URIRef(licence)))
        g.add((URIRef(licence), RDF.type, DCTERMS.LicenseDocument))

    for resource in dataset.resources.all():
        dist = URIRef(resource_page(resource) + "#distribucion")
        g.add((node, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.identifier, Literal(str(resource.pk))))
        g.add((dist, DCTERMS.title, Literal(resource.name, lang="es")))
        if resource.description:
            g.add((dist, DCTERMS.description, Literal(resource.description, lang="es")))
        g.add((dist, DCAT.accessURL, URIRef(resource_page(resource))))
        g.add((dist, DCAT.downloadURL, URIRef(download_url(resource))))
        mt = media_type(resource)
        if mt:
            g.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{mt}")))
        if resource.format:
            g.add((dist, DCTERMS.format, Literal(resource.format.upper())))
        size = byte_size(resource)
        if size:
            g.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        g.add((dist, DCTERMS.modified, Literal(_iso_date(resource.last_modified), datatype=XSD.dateTime)))
        if licence:
            g.add((dist, DCTERMS.license, URIRef(licence)))
    return node


def jsonld(graph: Graph | None = None) -> str:
    graph = graph if graph is not None else catalog_graph()
    return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, indent=2, auto_compact=True)


def turtle(graph: Graph | None = None) -> str:
    graph = graph if graph is not None else catalog_graph()
    return graph.serialize(format="turtle")


# --- DCAT-US 1.1 (Project Open Data) ------------------------------------------------------------

def data_json(datasets: Iterable[Dataset] | None = None) -> dict[str, Any]:
    """The catalogue as a DCAT-US 1.1 `data.json` (non-federal profile: no bureau/program codes)."""
    return {
        "@context": DCAT_US_CONTEXT,
        "@id": site_url("/data.json"),
        "@type": "dcat:Catalog",
        "conformsTo": DCAT_US_SCHEMA,
        "describedBy": DCAT_US_DESCRIBED_BY,
        "dataset": [pod_dataset(d) for d in (public_datasets() if datasets is None else datasets)],
    }


def pod_dataset(dataset: Dataset) -> dict[str, Any]:
    name, email = contact(dataset)
    point: dict[str, Any] = {"@type": "vcard:Contact", "fn": name}
    if email:
        point["hasEmail"] = f"mailto:{email}"
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": str(dataset.pk),
        "title": dataset.title,
        "description": dataset.notes or dataset.title,
        "keyword": keywords(dataset) or [dataset.organization.name],
        "issued": _iso_date(dataset.metadata_created),
        "modified": _iso_date(modified(dataset)),
        "publisher": {"@type": "org:Organization", "name": dataset.organization.name},
        "contactPoint": point,
        "accessLevel": "public",
        "landingPage": landing_page(dataset),
        "accrualPeriodicity": FREQUENCY_ISO[Frequency(dataset.update_frequency)],
        "language": ["es-MX"],
    }
    licence = license_url(dataset)
    if licence:
        entry["license"] = licence
    if dataset.temporal_start and dataset.temporal_end:
        entry["temporal"] = f"{dataset.temporal_start.isoformat()}/{dataset.temporal_end.isoformat()}"
    if dataset.spatial:
        entry["spatial"] = dataset.spatial
    themes = [t.title for t in dataset.themes.all()]
    if themes:
        entry["theme"] = themes
    distributions = []
    for resource in dataset.resources.all():
        dist: dict[str, Any] = {
            "@type": "dcat:Distribution",
            "title": resource.name,
            "downloadURL": download_url(resource),
            "accessURL": resource_page(resource),
            "mediaType": media_type(resource) or "application/octet-stream",
        }
        if resource.format:
            dist["format"] = resource.format.upper()
        if resource.description:
            dist["description"] = resource.description
        # byteSize is not a DCAT-US 1.1 field, but the schema allows extra properties and the
        # Mexican open data guide asks for it per resource.
        size = byte_size(resource)
        if size:
            dist["byteSize"] = size
        distributions.append(dist)
    if distributions:
        entry["distribution"] = distributions
    return entry
