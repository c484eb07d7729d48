"""Public open data pages: each renders with real data created through the services, bad query
parameters answer 400, private datasets are 404 for others. The fixtures here are shared with
test_backoffice.py."""
from __future__ import annotations

import io

import pytest

from ventanilla.identity.models import Role

CSV = (
    "colonia;watts;costo;instalada\n"
    "Centro;100;1500.50;2024-01-15\n"
    "Nazas;150;2100.00;2024-02-01\n"
    "Centro;50;800.25;2024-03-10\n"
    "Torreón Jardín;75;1000.00;2024-04-20\n"
).encode("cp1252")


@pytest.fixture
def publisher(make_official, department):
    return make_official(Role.DATA_PUBLISHER, department=department)


@pytest.fixture
def make_dataset(publisher, department):
    from ventanilla.opendata import services

    def factory(**data):
        data = {"owner_org": department.slug, "title": "Luminarias del alumbrado público",
                "notes": "Inventario de luminarias.", "maintainer": "Alumbrado Público",
                "maintainer_email": "alumbrado@torreon.gob.mx", "spatial": "Municipio de Torreón",
                "update_frequency": "mensual", "tags": ["alumbrado"], **data}
        return services.create_dataset(by=publisher, data=data)

    return factory


@pytest.fixture
def link_dataset(make_dataset, publisher):
    from ventanilla.opendata import services

    dataset = make_dataset(name="presupuesto", title="Presupuesto de egresos")
    services.create_resource(dataset, by=publisher, data={"name": "Presupuesto 2026 (PDF)",
                                                          "url": "https://torreon.gob.mx/presupuesto.pdf"})
    return dataset


@pytest.fixture
def csv_resource(make_dataset, publisher):
    from ventanilla.opendata import services

    dataset = make_dataset(name="luminarias")
    resource = services.create_resource(dataset, by=publisher, data={"name": "Luminarias"},
                                        upload=io.BytesIO(CSV), filename="luminarias.csv")
    resource.refresh_from_db()
    return resource


pytestmark = pytest.mark.django_db


def test_home_lists_counts_themes_organisations_and_flags_overdue(client, make_dataset, link_dataset, department):
    from datetime import timedelta

    from django.utils import timezone

    from ventanilla.opendata import services
    from ventanilla.opendata.models import Dataset

    services.upsert_theme(name="servicios-publicos", title="Servicios públicos")
    stale = make_dataset(name="agua", title="Calidad del agua tratada", groups=["servicios-publicos"])
    Dataset.objects.filter(pk=stale.pk).update(data_modified=timezone.now() - timedelta(days=400))
    private = make_dataset(name="interno", title="Datos internos", private=True)
    response = client.get("/datos/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Calidad del agua tratada" in html and "Presupuesto de egresos" in html
    assert private.title not in html
    assert "Servicios públicos (1)" in html
    assert department.name in html
    assert "desactualizado" in html
    assert "2 conjuntos de datos" in html


def test_search_page_with_facets_and_filters(client, link_dataset, make_dataset):
    make_dataset(name="parques", title="Parques y plazas", tags=["parques"])
    response = client.get("/datos/buscar/", {"q": "presupuesto"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Presupuesto de egresos" in html and "Parques y plazas" not in html
    response = client.get("/datos/buscar/", {"etiqueta": "parques"})
    html = response.content.decode()
    assert "Parques y plazas" in html and "Presupuesto de egresos" not in html
    assert "Palabra clave: parques" in html  # the active filter, removable


@pytest.mark.parametrize("params", [{"pagina": "x"}, {"pagina": "0"}, {"q": "a" * 500},
                                    {"organizacion": 'a"b'}])
def test_search_bad_params_answer_400(client, params):
    assert client.get("/datos/buscar/", params).status_code == 400


def test_dataset_page_shows_metadata_and_link_resource(client, link_dataset):
    response = client.get("/datos/presupuesto/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Presupuesto de egresos", "Términos de Libre Uso MX", "alumbrado@torreon.gob.mx",
                 "Municipio de Torreón", "Mensual", "Presupuesto 2026 (PDF)", "https://torreon.gob.mx/presupuesto.pdf"):
        assert text in html
    resource = link_dataset.resources.get()
    assert client.get(f"/datos/presupuesto/recurso/{resource.pk}/").status_code == 200


def test_private_and_draft_datasets_are_404_for_others(client, make_dataset, make_resident, login_official, publisher,
                                                       make_official, other_department):
    from ventanilla.identity.models import Role

    make_dataset(name="interno", private=True)
    make_dataset(name="borrador", state="draft")
    for url in ("/datos/interno/", "/datos/borrador/", "/datos/no-existe/"):
        assert client.get(url).status_code == 404
    client.force_login(make_resident())
    assert client.get("/datos/interno/").status_code == 404
    login_official(make_official(Role.DATA_PUBLISHER, department=other_department))
    assert client.get("/datos/interno/").status_code == 404
    login_official(publisher)
    assert client.get("/datos/interno/").status_code == 200


def test_resource_of_another_dataset_is_404(client, link_dataset, make_dataset):
    other = make_dataset(name="otro")
    resource = link_dataset.resources.get()
    assert client.get(f"/datos/{other.name}/recurso/{resource.pk}/").status_code == 404


# --- Pages over a CSV loaded in the datastore -----------------------------------------------------

def test_preview_pages_sorts_and_searches(client, csv_resource):
    url = f"/datos/luminarias/recurso/{csv_resource.pk}/"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Torreón Jardín" in html  # cp1252 read correctly
    assert "datastore_search?resource_id=" + str(csv_resource.pk) in html
    assert "ckanapi action datastore_search" in html
    assert "consulta.csv" in html and "consulta.xlsx" in html
    response = client.get(url, {"orden": "watts", "dir": "desc"})
    assert response.status_code == 200
    rows = response.context["rows"]
    watts = [row[[h["id"] for h in response.context["header"]].index("watts")] for row in rows]
    assert watts == sorted(watts, reverse=True)
    response = client.get(url, {"q": "nazas"})
    assert response.context["total"] == 1


@pytest.mark.parametrize("params", [{"pagina": "dos"}, {"pagina": "-1"}, {"orden": "no_existe"},
                                    {"orden": "watts", "dir": "arriba"}, {"q": "x" * 300}])
def test_preview_bad_params_answer_400(client, csv_resource, params):
    response = client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/", params)
    assert response.status_code == 400
    assert "problema" in response.content.decode()


def test_paging_links_walk_the_table(client, csv_resource, monkeypatch):
    from ventanilla.opendata import views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    url = f"/datos/luminarias/recurso/{csv_resource.pk}/"
    first = client.get(url)
    assert len(first.context["rows"]) == 3 and first.context["pages"] == 2
    second = client.get(url + first.context["next_url"])
    assert len(second.context["rows"]) == 1 and second.context["next_url"] == ""


def test_query_download_streams_the_whole_query(client, csv_resource):
    response = client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/consulta.csv", {"q": "centro"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.count("Centro") == 2 and "Nazas" not in body
    assert client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/consulta.json").status_code == 200
    xlsx = client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/consulta.xlsx")
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    assert client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/consulta.exe").status_code == 404
    assert client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/consulta.csv",
                      {"orden": "nada"}).status_code == 400


def test_versions_listed_and_earlier_version_downloadable(client, csv_resource, publisher):
    import io

    from ventanilla.opendata import services

    services.add_version(csv_resource, upload=io.BytesIO(CSV + "Nazas;60;900.00;2024-05-01\n".encode("cp1252")),
                         filename="luminarias-2.csv", by=publisher)
    response = client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/")
    assert response.status_code == 200
    versions = response.context["versions"]
    assert [v["version"].number for v in versions] == [2, 1]
    old = client.get(versions[1]["url"])
    assert old.status_code == 200
    assert b"".join(old.streaming_content) == CSV


def test_dataset_page_shows_dictionary_and_formats(client, csv_resource):
    html = client.get("/datos/luminarias/").content.decode()
    assert "Diccionario de datos" in html and "watts" in html and "Entero" in html


def test_chart_page_form_and_bar_chart_with_table(client, csv_resource):
    import xml.etree.ElementTree as ET

    url = f"/datos/luminarias/recurso/{csv_resource.pk}/grafica/"
    assert client.get(url).status_code == 200
    response = client.get(url, {"tipo": "barras", "x": "colonia", "y": "watts", "agregacion": "suma"})
    assert response.status_code == 200
    svg = ET.fromstring(response.context["svg"])
    assert len([e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "bar"]) == 3
    rows = {r["category"]: r["values"] for r in response.context["rows"]}
    assert rows == {"Centro": ["150"], "Nazas": ["150"], "Torreón Jardín": ["75"]}
    html = response.content.decode()
    assert "<caption" in html and "role=\"img\"" in html
    lines = client.get(url, {"tipo": "lineas", "x": "instalada", "y": ["watts", "costo"], "agregacion": "promedio"})
    assert lines.status_code == 200 and len(lines.context["data"].series) == 2
    count = client.get(url, {"tipo": "barras", "x": "colonia", "agregacion": "conteo"})
    assert {r["category"]: r["values"] for r in count.context["rows"]}["Centro"] == ["2"]


def test_chart_folds_small_categories_into_otros(client, make_dataset, publisher, monkeypatch):
    import io

    from ventanilla.opendata import chart_data, services

    monkeypatch.setattr(chart_data, "TOP_CATEGORIES", 2)
    dataset = make_dataset(name="gasto")
    body = "area,monto\n" + "".join(f"A{i},{i * 10}\n" for i in range(1, 6))
    resource = services.create_resource(dataset, by=publisher, data={}, upload=io.BytesIO(body.encode()),
                                        filename="gasto.csv")
    response = client.get(f"/datos/gasto/recurso/{resource.pk}/grafica/", {"x": "area", "y": "monto"})
    assert response.status_code == 200
    assert [(r["category"], r["values"]) for r in response.context["rows"]] == [
        ("A5", ["50"]), ("A4", ["40"]), ("Otros", ["60"])]


@pytest.mark.parametrize("params", [{"x": "nada", "y": "watts"}, {"x": "colonia", "y": "colonia"},
                                    {"x": "colonia", "y": "watts", "tipo": "pastel"},
                                    {"x": "colonia", "y": "watts", "agregacion": "mediana"}])
def test_chart_bad_params_answer_400(client, csv_resource, params):
    assert client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/grafica/", params).status_code == 400


def test_map_page_draws_geojson_and_caps_points(client, make_dataset, publisher, monkeypatch):
    import io
    import json

    from ventanilla.opendata import services, views

    monkeypatch.setattr(views, "MAP_FEATURES", 50)
    features = [{"type": "Feature", "properties": {"nombre": f"Luminaria {i}"},
                 "geometry": {"type": "Point", "coordinates": [-103.4 + i / 10000, 25.54]}} for i in range(120)]
    dataset = make_dataset(name="puntos")
    resource = services.create_resource(
        dataset, by=publisher, data={"name": "Luminarias (puntos)"},
        upload=io.BytesIO(json.dumps({"type": "FeatureCollection", "features": features}).encode()),
        filename="luminarias.geojson")
    response = client.get(f"/datos/puntos/recurso/{resource.pk}/mapa/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<circle") == 50
    assert "El mapa dibuja 50 de 120 elementos" in html
    assert "Luminaria 0" in html
    assert client.get(f"/datos/puntos/recurso/{resource.pk}/").status_code == 200
