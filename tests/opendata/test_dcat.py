"""DCAT-AP (JSON-LD and Turtle from one graph) and DCAT-US 1.1 data.json."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.test import override_settings
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS

from ventanilla.opendata import dcat, services
from ventanilla.opendata.dcat import VCARD
from ventanilla.opendata.models import Dataset, ResourceVersion

SCHEMAS = Path(__file__).parent / "schemas" / "dcat-us-1.1"
SITE = "https://datos.example.mx"
EU_FREQ = "http://publications.europa.eu/resource/authority/frequency/"


@pytest.fixture
def published(department, other_department):
    services.upsert_theme(name="servicios-publicos", title="Servicios públicos")
    lights = services.create_dataset(by=None, data={
        "owner_org": department, "name": "luminarias", "title": "Inventario de luminarias",
        "notes": "Cada luminaria del alumbrado público con su ubicación.", "tags": ["alumbrado", "energía"],
        "groups": ["servicios-publicos"], "maintainer": "Dirección de Alumbrado",
        "maintainer_email": "alumbrado@torreon.gob.mx", "temporal_start": "2024-01-01",
        "temporal_end": "2026-06-30", "spatial": "Torreón, Coahuila", "update_frequency": "mensual",
        "license_id": "cc-by-4.0",
    })
    link = services.create_resource(lights, by=None, data={
        "name": "Mapa en el SIG", "url": "https://sig.example.mx/luminarias.geojson", "format": "GeoJSON"})
    upload = services.create_resource(lights, by=None, data={
        "name": "Luminarias CSV", "url": "https://example.mx/placeholder.csv", "format": "CSV"})
    # A stored version as the ingestion leaves it (size and type), without running the loader.
    version = ResourceVersion.objects.create(resource=upload, number=1, size=12345, mimetype="text/csv",
                                             sha256="0" * 64, status=ResourceVersion.Status.READY)
    upload.kind, upload.url, upload.current_version = "upload", "", version
    upload.save()
    budget = services.create_dataset(by=None, data={
        "owner_org": other_department, "name": "presupuesto", "title": "Presupuesto de egresos",
        "update_frequency": "anual"})
    services.create_dataset(by=None, data={
        "owner_org": department, "name": "privado", "title": "Borrador privado", "private": True})
    services.create_dataset(by=None, data={
        "owner_org": department, "name": "borrador", "title": "Un borrador", "state": "draft"})
    gone = services.create_dataset(by=None, data={"owner_org": department, "name": "viejo", "title": "Viejo"})
    Dataset.objects.filter(pk=gone.pk).update(state=Dataset.State.DELETED)
    return {"lights": lights, "link": link, "upload": upload, "budget": budget}


@override_settings(SITE_URL=SITE)
def test_jsonld_and_turtle_come_from_one_graph(published, client):
    jsonld = client.get("/catalog.jsonld")
    ttl = client.get("/catalog.ttl")
    assert jsonld.status_code == ttl.status_code == 200
    assert jsonld["Content-Type"].startswith("application/ld+json")
    assert ttl["Content-Type"].startswith("text/turtle")
    g1 = Graph().parse(data=jsonld.content.decode(), format="json-ld")
    g2 = Graph().parse(data=ttl.content.decode(), format="turtle")
    assert len(g1) == len(g2) > 50
    assert isomorphic(g1, g2)


@override_settings(SITE_URL=SITE)
def test_dcat_ap_triples(published):
    g = Graph().parse(data=dcat.turtle(), format="turtle")
    lights = URIRef(f"{SITE}/datos/luminarias/#conjunto")
    catalogs = list(g.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    datasets = set(g.objects(catalogs[0], DCAT.dataset))
    # Only public, active datasets.
    assert datasets == {lights, URIRef(f"{SITE}/datos/presupuesto/#conjunto")}
    ds = published["lights"]
    assert (lights, RDF.type, DCAT.Dataset) in g
    assert (lights, DCTERMS.identifier, Literal(str(ds.pk))) in g
    assert (lights, DCTERMS.title, Literal("Inventario de luminarias", lang="es")) in g
    assert {str(k) for k in g.objects(lights, DCAT.keyword)} == {"alumbrado", "energía"}
    assert (lights, DCAT.landingPage, URIRef(f"{SITE}/datos/luminarias/")) in g
    assert (lights, DCTERMS.accrualPeriodicity, URIRef(EU_FREQ + "MONTHLY")) in g
    assert (lights, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in g
    assert g.value(lights, DCTERMS.modified) is not None and g.value(lights, DCTERMS.issued) is not None
    publisher = g.value(lights, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Organization) in g
    assert str(g.value(publisher, FOAF.name)) == ds.organization.name
    point = g.value(lights, DCAT.contactPoint)
    assert (point, RDF.type, VCARD.Kind) in g
    assert str(g.value(point, VCARD.fn)) == "Dirección de Alumbrado"
    assert g.value(point, VCARD.hasEmail) == URIRef("mailto:alumbrado@torreon.gob.mx")
    period = g.value(lights, DCTERMS.temporal)
    assert (period, RDF.type, DCTERMS.PeriodOfTime) in g
    assert g.value(period, DCAT.startDate).toPython() == date(2024, 1, 1)
    assert g.value(period, DCAT.endDate).toPython() == date(2026, 6, 30)
    assert str(g.value(g.value(lights, DCTERMS.spatial), SKOS.prefLabel)) == "Torreón, Coahuila"
    theme = g.value(lights, DCAT.theme)
    assert theme is not None

    dists = {str(g.value(d, DCTERMS.title)): d for d in g.objects(lights, DCAT.distribution)}
    up = dists["Luminarias CSV"]
    rid = published["upload"].pk
    assert g.value(up, DCAT.downloadURL) == URIRef(f"{SITE}/datos/recurso/{rid}/descargar/")
    assert g.value(up, DCAT.accessURL) == URIRef(f"{SITE}/datos/luminarias/recurso/{rid}/")
    assert str(g.value(up, DCAT.mediaType)).endswith("text/csv")
    assert g.value(up, DCAT.byteSize).toPython() == 12345
    assert str(g.value(up, DCTERMS.format)) == "CSV"
    link = dists["Mapa en el SIG"]
    assert g.value(link, DCAT.downloadURL) == URIRef("https://sig.example.mx/luminarias.geojson")
    assert str(g.value(link, DCAT.mediaType)).endswith("application/geo+json")

    budget = URIRef(f"{SITE}/datos/presupuesto/#conjunto")
    assert (budget, DCTERMS.accrualPeriodicity, URIRef(EU_FREQ + "ANNUAL")) in g
    # Default licence: Libre Uso MX.
    assert (budget, DCTERMS.license, URIRef("https://www.gob.mx/terminos")) in g


def _validator():
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource

    catalog = json.loads((SCHEMAS / "catalog.json").read_text())
    dataset = json.loads((SCHEMAS / "dataset-non-federal.json").read_text())
    base = "https://resources.data.gov/schemas/dcat-us/v1.1/schema/"
    registry = Registry().with_resources([
        (base + "catalog.json", Resource.from_contents(catalog)),
        (base + "dataset-non-federal.json", Resource.from_contents(dataset)),
    ])
    return Draft4Validator(catalog, registry=registry)


@override_settings(SITE_URL=SITE)
def test_data_json_validates_against_dcat_us_schema(published, client):
    response = client.get("/data.json")
    assert response.status_code == 200
    doc = response.json()
    errors = sorted(_validator().iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors]
    by_id = {d["identifier"]: d for d in doc["dataset"]}
    assert set(by_id) == {str(published["lights"].pk), str(published["budget"].pk)}
    lights = by_id[str(published["lights"].pk)]
    assert lights["@type"] == "dcat:Dataset"
    assert lights["publisher"] == {"@type": "org:Organization", "name": published["lights"].organization.name}
    assert lights["contactPoint"] == {"@type": "vcard:Contact", "fn": "Dirección de Alumbrado",
                                      "hasEmail": "mailto:alumbrado@torreon.gob.mx"}
    assert lights["temporal"] == "2024-01-01/2026-06-30"
    assert lights["accrualPeriodicity"] == "R/P1M"
    assert lights["accessLevel"] == "public"
    assert lights["landingPage"] == f"{SITE}/datos/luminarias/"
    csv = next(d for d in lights["distribution"] if d["title"] == "Luminarias CSV")
    assert csv["downloadURL"] == f"{SITE}/datos/recurso/{published['upload'].pk}/descargar/"
    assert csv["mediaType"] == "text/csv" and csv["byteSize"] == 12345


def test_schema_rejects_what_it_should(published):
    """The stored schema is not a rubber stamp: broken documents fail."""
    doc = dcat.data_json()
    doc["dataset"][0]["contactPoint"]["hasEmail"] = "alumbrado@torreon.gob.mx"  # no mailto:
    del doc["dataset"][1]["publisher"]
    doc["dataset"][1]["accrualPeriodicity"] = "mensual"
    messages = [e.message for e in _validator().iter_errors(doc)]
    assert len(messages) >= 1
    assert any("publisher" in m for m in messages)


def test_every_frequency_maps(db):
    from ventanilla.opendata.models import Frequency

    import re
    pattern = json.loads((SCHEMAS / "dataset-non-federal.json").read_text())["properties"]["accrualPeriodicity"]
    regex = re.compile(pattern["anyOf"][1]["pattern"])
    for value in Frequency.values:
        assert dcat.FREQUENCY_EU[Frequency(value)]
        iso = dcat.FREQUENCY_ISO[Frequency(value)]
        assert iso == "irregular" or regex.match(iso)


def test_empty_catalogue(db, client):
    assert client.get("/data.json").json()["dataset"] == []
    g = Graph().parse(data=client.get("/catalog.ttl").content.decode(), format="turtle")
    assert len(list(g.subjects(RDF.type, DCAT.Catalog))) == 1
    assert client.post("/data.json").status_code == 405
