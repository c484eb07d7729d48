"""Acceptance: the open data portal on a phone-sized screen under the real CSP, with axe-core
reporting no violation on the portal home, a dataset page, a resource preview, the chart builder
(with a chart drawn) and a map."""

from __future__ import annotations

import io
import json

import pytest

from ventanilla.identity.models import Role

CSV = (
    "colonia,luminarias,watts,fecha\n"
    "Centro,120,12000,2024-01-01\n"
    "Nazas,80,8000,2024-02-01\n"
    "Torreón Jardín,95,9500,2024-03-01\n"
    "Campestre la Rosita,40,4000,2024-04-01\n"
).encode()


@pytest.fixture
def portal_data(transactional_db, make_official, department):
    from ventanilla.opendata import services

    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    services.upsert_theme(name="servicios-publicos", title="Servicios públicos")
    dataset = services.create_dataset(by=publisher, data={
        "owner_org": department.slug, "name": "luminarias", "title": "Luminarias del alumbrado público",
        "notes": "Inventario de luminarias por colonia.", "maintainer": "Alumbrado Público",
        "maintainer_email": "alumbrado@torreon.gob.mx", "update_frequency": "mensual",
        "groups": ["servicios-publicos"], "tags": ["alumbrado"], "spatial": "Municipio de Torreón",
    })
    table = services.create_resource(dataset, by=publisher, data={"name": "Luminarias por colonia"},
                                     upload=io.BytesIO(CSV), filename="luminarias.csv")
    points = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nombre": f"Luminaria {i}"},
         "geometry": {"type": "Point", "coordinates": [-103.45 + i / 500, 25.54 + (i % 7) / 500]}} for i in range(40)]}
    geo = services.create_resource(dataset, by=publisher, data={"name": "Ubicación de luminarias"},
                                   upload=io.BytesIO(json.dumps(points).encode()), filename="luminarias.geojson")
    services.create_resource(dataset, by=publisher, data={"name": "Reglamento (PDF)",
                                                          "url": "https://torreon.gob.mx/reglamento.pdf"})
    return {"dataset": dataset, "table": table, "geo": geo}


def test_portal_pages_are_accessible(page, live_server, portal_data, axe):
    table = portal_data["table"]

    page.goto("/datos/")
    assert page.locator("h1").inner_text() == "Datos abiertos"
    axe(page)

    page.get_by_label("Buscar datos abiertos").fill("luminarias")
    page.get_by_role("button", name="Buscar").click()
    page.get_by_role("link", name="Luminarias del alumbrado público").first.click()
    assert page.locator("h1").inner_text() == "Luminarias del alumbrado público"
    axe(page)

    page.get_by_role("link", name="Luminarias por colonia").first.click()
    assert page.locator("table.od-preview tbody tr").count() == 4
    page.get_by_role("link", name="watts").click()  # sort by a column, no JavaScript needed
    assert page.locator("th[aria-sort=ascending]").count() == 1
    axe(page)

    page.goto(f"/datos/luminarias/recurso/{table.pk}/grafica/")
    axe(page)
    page.get_by_label("Eje horizontal (categorías o fechas)").select_option("colonia")
    page.get_by_label("watts").check()
    page.get_by_role("button", name="Ver gráfica").click()
    assert page.locator("svg[role=img] rect.bar").count() == 4
    assert page.locator("table caption", has_text="Datos de la gráfica").count() == 1
    axe(page)

    page.goto(f"/datos/luminarias/recurso/{portal_data['geo'].pk}/mapa/")
    assert page.locator("svg.map circle").count() == 40
    axe(page)
