"""Acceptance: the real `ckanapi` client (unmodified, from the package index) against a running
server gives the same answers as the portal's own functions — package_search with a query and
facets, package_show, datastore_search with filters and sort, paging to the end of a resource,
package_create + resource_create with a file, and `ckanapi dump datasets`."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ckanapi
import pytest

from ventanilla.identity.models import Role
from ventanilla.opendata import search, selectors, services

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1234


def _csv(rows: int) -> bytes:
    lines = ["folio,colonia,potencia_w,instalada"]
    colonias = ["Centro", "Torreón Jardín", "Campestre La Rosita", "Nazas"]
    for i in range(1, rows + 1):
        lines.append(f"{i},{colonias[i % 4]},{50 + (i % 7) * 25},2024-{1 + i % 12:02d}-{1 + i % 28:02d}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def portal(department, other_department, make_official):
    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    services.upsert_theme(name="servicios", title="Servicios públicos")
    lights = services.create_dataset(by=publisher, data={
        "owner_org": department, "name": "luminarias", "title": "Inventario de alumbrado público",
        "notes": "Cada luminaria con su colonia y potencia.", "tags": ["alumbrado"], "groups": ["servicios"],
    })
    resource = services.create_resource(lights, by=publisher, data={"name": "Luminarias", "format": "CSV"},
                                        upload=io.BytesIO(_csv(ROWS)), filename="luminarias.csv")
    budget = services.create_dataset(by=None, data={
        "owner_org": other_department, "name": "presupuesto", "title": "Presupuesto de egresos",
        "tags": ["finanzas"],
    })
    services.create_resource(budget, by=None, data={"name": "Egresos", "url": "https://datos.example.mx/p.xlsx"})
    services.create_dataset(by=None, data={"owner_org": department, "name": "privado", "title": "Alumbrado interno",
                                           "private": True})
    token = services.create_token(publisher, "ckanapi")[1]
    return {"publisher": publisher, "token": token, "resource": resource}


def requests_get(url: str):
    import requests

    return requests.get(url, timeout=30)


def test_ckanapi_reads_what_the_portal_shows(live_server, portal):
    ckan = ckanapi.RemoteCKAN(live_server.url)

    found = ckan.action.package_search(q="ALUMBRADO", **{"facet.field": '["organization","tags"]'})
    direct = search.package_search(None, q="ALUMBRADO", facet_fields=["organization", "tags"])
    assert found["count"] == direct["count"] == 1
    assert [p["id"] for p in found["results"]] == [str(d.pk) for d in direct["results"]]
    assert [p["title"] for p in found["results"]] == ["Inventario de alumbrado público"]
    assert found["facets"] == direct["facets"] == {"organization": {"desarrollo-economico": 1}, "tags": {"alumbrado": 1}}

    pkg = ckan.action.package_show(id="luminarias")
    dataset = selectors.dataset_by_name_or_id("luminarias")
    assert pkg["id"] == str(dataset.pk) and pkg["title"] == dataset.title and pkg["num_resources"] == 1
    [res] = pkg["resources"]
    assert res["datastore_active"] is True and res["url"].startswith(live_server.url)
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["landing_page"] == f"{live_server.url}/datos/luminarias/"
    assert requests_get(extras["landing_page"]).status_code == 200  # the portal's own page for it

    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="privado")
    assert sorted(ckan.action.package_list()) == ["luminarias", "presupuesto"]

    # The resource's download URL serves the stored file.
    download = requests_get(res["url"])
    assert download.status_code == 200 and download.content == _csv(ROWS)
    assert download.headers["Content-Type"].startswith("text/csv")


def test_ckanapi_datastore_filters_sort_and_paging_to_the_end(live_server, portal):
    ckan = ckanapi.RemoteCKAN(live_server.url)
    resource_id = str(portal["resource"].pk)
    result = ckan.action.datastore_search(resource_id=resource_id, filters={"colonia": "Centro"},
                                          sort="potencia_w desc, folio asc", limit=5)
    centro = [i for i in range(1, ROWS + 1) if i % 4 == 0]
    assert result["total"] == len(centro)
    powers = [r["potencia_w"] for r in result["records"]]
    assert powers == sorted(powers, reverse=True)
    assert all(r["colonia"] == "Centro" for r in result["records"])
    assert {f["id"] for f in result["fields"]} >= {"folio", "colonia", "potencia_w", "instalada"}

    # Follow CKAN's _links.next to the last page, as clients do.
    seen, offset = [], 0
    while True:
        page = ckan.action.datastore_search(resource_id=resource_id, limit=500, offset=offset, sort="folio")
        if not page["records"]:
            break
        seen.extend(r["folio"] for r in page["records"])
        offset += len(page["records"])
    assert seen == list(range(1, ROWS + 1))

    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=resource_id, sort="no_existe desc")


def test_ckanapi_creates_a_dataset_and_uploads_a_file(live_server, portal):
    anonymous = ckanapi.RemoteCKAN(live_server.url)
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_create(name="parques", title="Parques", owner_org="desarrollo-economico")
    ckan = ckanapi.RemoteCKAN(live_server.url, apikey=portal["token"])
    pkg = ckan.action.package_create(name="parques", title="Parques y plazas", owner_org="desarrollo-economico",
                                     tags=[{"name": "parques"}])
    assert pkg["name"] == "parques"
    upload = io.BytesIO("nombre;superficie_m2\nPlaza de Armas;12500\nBosque Venustiano Carranza;410000\n"
                        .encode("cp1252"))
    upload.name = "parques.csv"
    res = ckan.action.resource_create(package_id="parques", name="Parques", upload=upload)
    assert res["datastore_active"] is True and res["package_id"] == pkg["id"]
    rows = ckan.action.datastore_search(resource_id=res["id"], sort="superficie_m2 desc")
    assert [r["nombre"] for r in rows["records"]] == ["Bosque Venustiano Carranza", "Plaza de Armas"]
    assert ckan.action.package_show(id="parques")["num_resources"] == 1
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_create(name="parques", title="Otra vez", owner_org="desarrollo-economico")


def test_ckanapi_dump_datasets(live_server, portal, tmp_path: Path):
    out = tmp_path / "datasets.jsonl"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    # The client's own command line (its workers re-run `ckanapi`, so it must be on PATH).
    command = shutil.which("ckanapi", path=env["PATH"])
    assert command, "ckanapi is in the [test] extras"
    completed = subprocess.run(
        [command, "dump", "datasets", "--all", "-q", "-r", live_server.url, "-O", str(out)],
        capture_output=True, timeout=120, env=env,
    )
    assert completed.returncode == 0, completed.stderr.decode()[-2000:]
    dumped = [json.loads(line) for line in out.read_text().splitlines()]
    public = search.package_search(None, rows=1000, sort="name asc")
    assert sorted(d["id"] for d in dumped) == sorted(str(d.pk) for d in public["results"])
    assert {d["name"]: d["title"] for d in dumped} == {d.name: d.title for d in public["results"]}
    assert all(d["resources"] for d in dumped)
