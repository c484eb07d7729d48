"""The CKAN Action API through HTTP: every action, CKAN's envelope and status codes, GET and POST
(JSON, form, multipart), tokens, and private datasets invisible to everyone but their publishers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ventanilla.identity.models import Role
from ventanilla.opendata import search, selectors, services
from ventanilla.opendata.models import Dataset

pytestmark = pytest.mark.django_db

API = "/api/3/action/"


@pytest.fixture
def catalog(department, other_department):
    services.upsert_theme(name="servicios", title="Servicios públicos")
    services.upsert_theme(name="finanzas", title="Finanzas públicas")
    lights = services.create_dataset(by=None, data={
        "owner_org": department, "name": "luminarias", "title": "Inventario de alumbrado público",
        "notes": "Cada luminaria del municipio con su colonia y potencia.", "tags": ["Alumbrado", "energía"],
        "groups": ["servicios"], "update_frequency": "mensual", "temporal_start": "2024-01-01",
        "maintainer_email": "datos@torreon.gob.mx",
    })
    services.create_resource(lights, by=None, data={"name": "Luminarias 2026", "url": "https://datos.example.mx/l.csv",
                                                     "format": "CSV", "description": "Una fila por luminaria."})
    budget = services.create_dataset(by=None, data={
        "owner_org": other_department, "name": "presupuesto-2026", "title": "Presupuesto de egresos 2026",
        "tags": ["finanzas"], "groups": ["finanzas"], "license_id": "cc-by-4.0",
    })
    services.create_resource(budget, by=None, data={"name": "Egresos", "url": "https://datos.example.mx/p.xlsx",
                                                     "format": "XLSX"})
    secret = services.create_dataset(by=None, data={
        "owner_org": department, "name": "nomina-privada", "title": "Nómina de alumbrado", "private": True,
        "tags": ["secreto"],
    })
    secret_resource = services.create_resource(secret, by=None, data={
        "name": "Nómina", "url": "https://datos.example.mx/n.csv", "format": "CSV"})
    return {"lights": lights, "budget": budget, "secret": secret, "secret_resource": secret_resource}


@pytest.fixture
def publisher(make_official, department):
    return make_official(Role.DATA_PUBLISHER, department=department)


@pytest.fixture
def token(publisher):
    return services.create_token(publisher, "pruebas")[1]


@pytest.fixture
def outsider_token(make_official, other_department):
    return services.create_token(make_official(Role.DATA_PUBLISHER, department=other_department), "otra")[1]


def get(client, action, token=None, **params):
    headers = {"HTTP_AUTHORIZATION": token} if token else {}
    return client.get(API + action, params, **headers)


def post(client, action, body, token=None, header="HTTP_AUTHORIZATION"):
    headers = {header: token} if token else {}
    return client.post(API + action, json.dumps(body), content_type="application/json", **headers)


def ok(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["help"].startswith("http://testserver/api/3/action/help_show/")
    return body["result"]


def error(response, status, kind):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and "result" not in body
    assert body["error"]["__type"] == kind and body["error"]["message"]
    return body["error"]


# --- Read actions ---------------------------------------------------------------------------------

def test_api_root_and_status_show(client, catalog):
    assert client.get("/api/3").json() == {"version": 3}
    result = ok(get(client, "status_show"))
    assert result["ckan_version"] and "datastore" in result["extensions"]
    assert result["site_url"] == "http://testserver"


def test_unversioned_path_works_like_ckan(client, catalog):
    assert client.get("/api/action/package_list").json()["result"] == ["luminarias", "presupuesto-2026"]


def test_package_list_public_only(client, catalog, token):
    assert ok(get(client, "package_list")) == ["luminarias", "presupuesto-2026"]
    assert ok(get(client, "package_list", token)) == ["luminarias", "presupuesto-2026"]  # CKAN: never private
    assert ok(get(client, "package_list", limit=1, offset=1)) == ["presupuesto-2026"]
    error(get(client, "package_list", limit="muchos"), 409, "Validation Error")


def test_package_show_is_ckans_package_dict(client, catalog):
    pkg = ok(get(client, "package_show", id="luminarias"))
    assert pkg == ok(get(client, "package_show", id=str(catalog["lights"].pk)))
    assert pkg["id"] == str(catalog["lights"].pk) and pkg["name"] == "luminarias" and pkg["type"] == "dataset"
    assert pkg["owner_org"] == str(catalog["lights"].organization_id)
    assert pkg["organization"]["name"] == "desarrollo-economico"
    assert pkg["organization"]["title"] == "Dirección General de Desarrollo Económico"
    assert [g["name"] for g in pkg["groups"]] == ["servicios"]
    assert pkg["tags"] == [{"name": "Alumbrado", "display_name": "Alumbrado", "state": "active", "vocabulary_id": None},
                           {"name": "energía", "display_name": "energía", "state": "active", "vocabulary_id": None}]
    assert pkg["license_id"] == "libre-uso-mx" and pkg["license_title"] == "Términos de Libre Uso MX"
    assert pkg["license_url"].startswith("https://")
    assert pkg["private"] is False and pkg["state"] == "active"
    assert pkg["num_resources"] == 1 and pkg["num_tags"] == 2
    assert "T" in pkg["metadata_created"] and "+" not in pkg["metadata_modified"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["accrual_periodicity"] == "R/P1M" and extras["temporal_start"] == "2024-01-01"
    [res] = pkg["resources"]
    assert res["package_id"] == pkg["id"] and res["url"] == "https://datos.example.mx/l.csv"
    assert res["format"] == "CSV" and res["position"] == 0 and res["datastore_active"] is False
    assert set(res) >= {"id", "name", "description", "mimetype", "size", "created", "last_modified"}
    assert ok(get(client, "resource_show", id=res["id"])) == res


def test_not_found_and_missing_values(client, catalog):
    assert "Not Found" in error(get(client, "package_show", id="no-existe"), 404, "Not Found Error")["__type"]
    err = error(get(client, "package_show"), 409, "Validation Error")
    assert err["id"] and isinstance(err["id"], list)
    error(get(client, "resource_show", id="no-es-uuid"), 404, "Not Found Error")
    error(get(client, "organization_show", id="no-existe"), 404, "Not Found Error")
    error(get(client, "group_show", id="no-existe"), 404, "Not Found Error")


def test_package_search_over_http_matches_the_function(client, catalog):
    result = ok(get(client, "package_search", q="alumbrado", **{"facet.field": '["organization","tags"]'}))
    direct = search.package_search(None, q="alumbrado", facet_fields=["organization", "tags"])
    assert result["count"] == direct["count"] == 1
    assert [p["name"] for p in result["results"]] == [d.name for d in direct["results"]] == ["luminarias"]
    assert result["facets"] == direct["facets"]
    assert result["search_facets"]["organization"]["items"][0]["count"] == 1
    assert result["results"][0] == ok(get(client, "package_show", id="luminarias"))
    # POST with a JSON body, CKAN's other way of calling.
    posted = ok(post(client, "package_search", {"fq": "organization:tesoreria", "facet.field": ["res_format"],
                                                 "rows": 5}))
    assert [p["name"] for p in posted["results"]] == ["presupuesto-2026"]
    assert posted["facets"] == {"res_format": {"XLSX": 1}}
    assert ok(get(client, "package_search", rows=1, start=1, sort="name asc"))["results"][0]["name"] == "presupuesto-2026"


@pytest.mark.parametrize("params", [
    {"fq": "color:rojo"}, {"rows": "diez"}, {"start": "-3"}, {"sort": "name sideways"},
    {"facet.field": '["maintainer_email"]'}, {"facet.field": "[1, 2]"}, {"include_private": "quizá"},
])
def test_package_search_bad_params(client, catalog, params):
    err = error(get(client, "package_search", **params), 409, "Validation Error")
    field = next(iter(params))
    assert err.get(field), err


def test_organizations_groups_tags(client, catalog):
    assert ok(get(client, "organization_list")) == ["desarrollo-economico", "tesoreria"]
    orgs = ok(get(client, "organization_list", all_fields="true"))
    assert [(o["name"], o["package_count"]) for o in orgs] == [("desarrollo-economico", 1), ("tesoreria", 1)]
    assert ok(get(client, "organization_list", sort="name desc")) == ["tesoreria", "desarrollo-economico"]
    org = ok(get(client, "organization_show", id="desarrollo-economico", include_datasets="true"))
    assert org["package_count"] == 1 and [p["name"] for p in org["packages"]] == ["luminarias"]
    assert ok(get(client, "organization_show", id=org["id"]))["name"] == "desarrollo-economico"
    assert "packages" not in ok(get(client, "organization_show", id="tesoreria"))
    assert ok(get(client, "group_list")) == ["finanzas", "servicios"]
    groups = ok(get(client, "group_list", all_fields=True))
    assert {g["name"]: g["package_count"] for g in groups} == {"finanzas": 1, "servicios": 1}
    assert [p["name"] for p in ok(get(client, "group_show", id="servicios", include_datasets="true"))["packages"]] == [
        "luminarias"]
    assert ok(get(client, "tag_list")) == ["Alumbrado", "energía", "finanzas"]  # not the private "secreto"
    assert ok(get(client, "tag_list", query="ENERGIA")) == ["energía"]


def test_unknown_action_and_wrong_methods(client, catalog, token):
    err = error(client.get(API + "package_purge"), 400, "Bad Request")
    assert "package_purge" in err["message"]
    error(get(client, "package_create", token, title="x"), 400, "Bad Request")  # writes are POST only
    error(client.post(API + "package_search", "{no es json", content_type="application/json"), 400, "Bad Request")
    error(client.post(API + "package_search", "[1, 2]", content_type="application/json"), 400, "Bad Request")
    response = client.delete(API + "package_list")
    assert response.status_code == 405 and response.json()["success"] is False


def test_form_post_is_accepted(client, catalog):
    result = ok(client.post(API + "package_show", {"id": "luminarias"}))
    assert result["name"] == "luminarias"


# --- Private datasets and tokens --------------------------------------------------------------------

def test_private_dataset_invisible_to_everyone_else(client, catalog, token, outsider_token, make_resident,
                                                     login_official, publisher):
    secret = catalog["secret"]
    resource_id = str(catalog["secret_resource"].pk)
    # Anonymous, a publisher of another department, and even the right publisher signed in by session.
    resident_client = client
    resident_client.force_login(make_resident())
    for who in (None, outsider_token):
        error(get(client, "package_show", who, id="nomina-privada"), 404, "Not Found Error")
        error(get(client, "package_show", who, id=str(secret.pk)), 404, "Not Found Error")
        error(get(client, "resource_show", who, id=resource_id), 404, "Not Found Error")
        error(get(client, "datastore_search", who, resource_id=resource_id), 404, "Not Found Error")
        found = ok(get(client, "package_search", who, q="nomina", include_private="true"))
        assert found["count"] == 0
        org = ok(get(client, "organization_show", who, id="desarrollo-economico", include_datasets=True))
        assert [p["name"] for p in org["packages"]] == ["luminarias"] and org["package_count"] == 1
        assert "nomina-privada" not in ok(get(client, "package_list", who))
    login_official(publisher)
    error(get(client, "package_show", id="nomina-privada"), 404, "Not Found Error")  # session is not used
    # The publisher's token sees it everywhere CKAN shows private datasets.
    client.logout()
    assert ok(get(client, "package_show", token, id="nomina-privada"))["private"] is True
    assert ok(get(client, "resource_show", token, id=resource_id))["id"] == resource_id
    assert ok(get(client, "package_search", token, q="nomina", include_private="true"))["count"] == 1
    assert ok(get(client, "package_search", token, q="nomina"))["count"] == 0  # include_private defaults to false
    org = ok(get(client, "organization_show", token, id="desarrollo-economico", include_datasets=True))
    assert {p["name"] for p in org["packages"]} == {"luminarias", "nomina-privada"}


def test_bad_expired_or_revoked_tokens_are_refused(client, catalog, publisher):
    token, secret = services.create_token(publisher, "vence", expires=timezone.now() - timedelta(seconds=1))
    revoked, revoked_secret = services.create_token(publisher, "retirado")
    services.revoke_token(revoked, by=publisher)
    for bad in ("vt_inventado", secret, revoked_secret, "x" * 500):
        error(get(client, "package_show", bad, id="luminarias"), 403, "Authorization Error")
        error(post(client, "package_create", {"title": "X", "owner_org": "desarrollo-economico"}, bad), 403,
              "Authorization Error")
    assert not Dataset.objects.filter(title="X").exists()


# --- Write actions -----------------------------------------------------------------------------------

def test_package_create_needs_a_publisher_token(client, catalog, token, outsider_token, login_official, publisher,
                                                make_resident):
    body = {"name": "parques", "title": "Parques y plazas", "owner_org": "desarrollo-economico",
            "notes": "Los 880 parques.", "tags": [{"name": "parques"}], "groups": [{"name": "servicios"}],
            "extras": [{"key": "update_frequency", "value": "anual"}, {"key": "spatial_text", "value": "Torreón"}]}
    error(post(client, "package_create", body), 403, "Authorization Error")
    login_official(publisher)  # a session, even a verified one, is not accepted for writes
    error(post(client, "package_create", body), 403, "Authorization Error")
    client.logout()
    error(post(client, "package_create", body, outsider_token), 403, "Authorization Error")
    assert not Dataset.objects.filter(name="parques").exists()
    pkg = ok(post(client, "package_create", body, token, header="HTTP_X_CKAN_API_KEY"))
    assert pkg["name"] == "parques" and pkg["organization"]["name"] == "desarrollo-economico"
    assert [t["name"] for t in pkg["tags"]] == ["parques"] and [g["name"] for g in pkg["groups"]] == ["servicios"]
    dataset = selectors.dataset_by_name_or_id("parques")
    assert dataset.update_frequency == "anual" and dataset.spatial == "Torreón" and dataset.created_by == publisher
    # The same name again: CKAN's 409 Validation Error naming the field.
    err = error(post(client, "package_create", body, token), 409, "Validation Error")
    assert err["name"]
    # owner_org by id works too, and validation errors name their field.
    err = error(post(client, "package_create", {"title": "Y", "owner_org": "no-existe"}, token), 409, "Validation Error")
    assert err["owner_org"]
    err = error(post(client, "package_create", {"title": "", "owner_org": str(dataset.organization_id)}, token), 409,
                "Validation Error")
    assert err["title"]
    err = error(post(client, "package_create", {"title": "Z", "owner_org": "desarrollo-economico",
                                                "license_id": "propietaria"}, token), 409, "Validation Error")
    assert err["license_id"]


def test_package_create_with_link_resources_is_atomic(client, catalog, token):
    body = {"title": "Wifi público", "owner_org": "desarrollo-economico",
            "resources": [{"name": "Sitios", "url": "https://datos.example.mx/wifi.csv", "format": "CSV"},
                          {"name": "Malo", "url": "javascript:alert(1)"}]}
    error(post(client, "package_create", body, token), 409, "Validation Error")
    assert not Dataset.objects.filter(title="Wifi público").exists()
    body["resources"].pop()
    pkg = ok(post(client, "package_create", body, token))
    assert pkg["name"] == "wifi-publico" and pkg["resources"][0]["url"] == "https://datos.example.mx/wifi.csv"


def test_package_patch_changes_only_given_fields(client, catalog, token, outsider_token):
    error(post(client, "package_patch", {"id": "luminarias", "title": "Otro"}, outsider_token), 403,
          "Authorization Error")
    pkg = ok(post(client, "package_patch", {"id": "luminarias", "title": "Alumbrado público 2026"}, token))
    assert pkg["title"] == "Alumbrado público 2026" and pkg["notes"].startswith("Cada luminaria")
    assert [t["name"] for t in pkg["tags"]] == ["Alumbrado", "energía"]
    pkg = ok(post(client, "package_patch", {"id": "luminarias", "private": True}, token))
    assert pkg["private"] is True
    assert "luminarias" not in ok(get(client, "package_list"))
    error(post(client, "package_patch", {"id": "no-existe", "title": "x"}, token), 404, "Not Found Error")
    error(post(client, "package_patch", {"id": "luminarias", "private": "quizá"}, token), 409, "Validation Error")


def test_resource_create_link_and_errors(client, catalog, token, outsider_token):
    body = {"package_id": "luminarias", "name": "Mapa", "url": "https://datos.example.mx/mapa.geojson"}
    error(post(client, "resource_create", body), 403, "Authorization Error")
    error(post(client, "resource_create", body, outsider_token), 403, "Authorization Error")
    res = ok(post(client, "resource_create", body, token))
    assert res["format"] == "GEOJSON" and res["position"] == 1 and res["url"] == body["url"]
    assert ok(get(client, "package_show", id="luminarias"))["num_resources"] == 2
    err = error(post(client, "resource_create", {"package_id": "luminarias", "name": "Nada"}, token), 409,
                "Validation Error")
    assert err["upload"]
    error(post(client, "resource_create", {"package_id": "no-existe", "url": "https://x.mx"}, token), 404,
          "Not Found Error")


def test_datastore_search_validates_before_querying(client, catalog):
    err = error(get(client, "datastore_search"), 409, "Validation Error")
    assert err["resource_id"]
    error(get(client, "datastore_search", resource_id="00000000-0000-0000-0000-000000000000"), 404, "Not Found Error")
    # A link resource has no datastore table.
    link = catalog["lights"].resources.get()
    error(get(client, "datastore_search", resource_id=str(link.pk)), 404, "Not Found Error")
    error(get(client, "datastore_search_sql"), 409, "Validation Error")


def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate

    document = client.get("/api/3/openapi.json").json()
    validate(document)
    assert "/api/3/action/package_search" in document["paths"]
    assert set(document["paths"]["/api/3/action/package_create"]) == {"post"}
    params = {p["name"] for p in document["paths"]["/api/3/action/package_search"]["get"]["parameters"]}
    assert params >= {"q", "fq", "rows", "start", "sort", "facet.field", "facet.limit", "facet.mincount",
                      "include_private"}


def test_nul_characters_are_refused_not_crashed(client, catalog):
    for action, params in (("organization_show", {"id": "\x00"}), ("package_show", {"id": "a\x00b"}),
                           ("package_search", {"q": "agua\x00"})):
        err = error(get(client, action, **params), 409, "Validation Error")
        assert next(iter(params)) in err
    error(post(client, "package_search", {"fq": ["tags:a\x00"]}), 409, "Validation Error")


def test_json_nested_too_deep_to_decode_is_refused_not_crashed(client, catalog, token):
    deep = "[" * 100_000
    error(get(client, "package_search", **{"facet.field": deep}), 409, "Validation Error")
    form = {"name": "profundo", "title": "Profundo", "owner_org": "desarrollo-economico", "resources": deep}
    assert "resources" in error(client.post(API + "package_create", form, HTTP_AUTHORIZATION=token),
                                409, "Validation Error")
    response = client.post(API + "package_search", deep, content_type="application/json")
    assert "no es JSON válido" in error(response, 400, "Bad Request")["message"]


def test_download_of_links_and_private_resources(client, catalog, publisher, login_official, token):
    link = catalog["lights"].resources.get()
    response = client.get(f"/datos/recurso/{link.pk}/descargar/")
    assert response.status_code == 302 and response["Location"] == "https://datos.example.mx/l.csv"
    private = catalog["secret_resource"]
    assert client.get(f"/datos/recurso/{private.pk}/descargar/").status_code == 404
    assert client.get(f"/datos/recurso/{private.pk}/descargar/", HTTP_AUTHORIZATION=token).status_code == 302
    login_official(publisher)
    assert client.get(f"/datos/recurso/{private.pk}/descargar/").status_code == 302
    assert client.get(f"/datos/recurso/{link.pk}/version/1/descargar/").status_code == 404  # a link has no versions


@pytest.mark.parametrize("key", ["²", "١٢", "9" * 40])
def test_organization_show_with_unicode_or_huge_digits_is_not_found(client, catalog, key):
    """Found by fuzzing: "²".isdigit() is true but int("²") fails; huge ids overflow."""
    error(get(client, "organization_show", id=key), 404, "Not Found Error")
