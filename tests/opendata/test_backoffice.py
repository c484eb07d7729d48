"""The publishers' back office: authorization per role, dataset metadata through the services,
resources (upload or link), new versions with their validation report, the data dictionary and
API tokens. Invalid forms answer 400 and write nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ventanilla.identity.models import Role
from ventanilla.opendata.models import ApiToken, DataField, Dataset, Resource

from .test_pages import CSV, csv_resource, make_dataset, publisher  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_authorization_per_role(client, make_resident, make_official, login_official, make_dataset, publisher,
                                other_department, department):
    make_dataset(name="luminarias")
    urls = ["/oficina/datos/", "/oficina/datos/nuevo/", "/oficina/datos/tokens/", "/oficina/datos/luminarias/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/llave/entrar/" in response["Location"]
    client.force_login(make_resident())
    assert all(client.get(url).status_code == 403 for url in urls)
    client.force_login(make_official(Role.DATA_PUBLISHER, department=department, totp=False))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "next=" in response["Location"]
    login_official(make_official(Role.REVIEWER, department=department))
    assert all(client.get(url).status_code == 403 for url in urls)
    stranger = make_official(Role.DATA_PUBLISHER, department=other_department)
    login_official(stranger)
    assert client.get("/oficina/datos/").status_code == 200
    assert "Luminarias" not in client.get("/oficina/datos/").content.decode()
    assert client.get("/oficina/datos/luminarias/").status_code == 404
    assert client.get("/oficina/datos/luminarias/editar/").status_code == 404
    login_official(publisher)
    for url in urls:
        assert client.get(url).status_code == 200, url


def _dataset_post(department, **overrides):
    return {"title": "Parques y plazas", "name": "", "owner_org": department.slug, "notes": "Los 880 parques.",
            "tags": "parques, áreas verdes", "license_id": "cc-by-4.0", "maintainer": "Medio Ambiente",
            "maintainer_email": "parques@torreon.gob.mx", "temporal_start": "2020-01-01", "temporal_end": "",
            "spatial": "Torreón", "update_frequency": "anual", "state": "active", **overrides}


def test_create_and_edit_dataset(client, login_official, publisher, department):
    login_official(publisher)
    response = client.post("/oficina/datos/nuevo/", _dataset_post(department))
    assert response.status_code == 302
    dataset = Dataset.objects.get(name="parques-y-plazas")
    assert dataset.license_id == "cc-by-4.0" and {t.name for t in dataset.tags.all()} == {"parques", "áreas verdes"}
    assert response["Location"] == "/oficina/datos/parques-y-plazas/"
    response = client.post("/oficina/datos/parques-y-plazas/editar/",
                           _dataset_post(department, title="Parques", private="on"))
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.title == "Parques" and dataset.private
    assert client.get("/oficina/datos/parques-y-plazas/editar/").status_code == 200


@pytest.mark.parametrize("overrides,field", [
    ({"title": ""}, "title"),
    ({"maintainer_email": "no es correo"}, "maintainer_email"),
    ({"temporal_start": "2025-01-01", "temporal_end": "2024-01-01"}, "temporal_end"),
    ({"name": "Con Espacios"}, "name"),
    ({"owner_org": "tesoreria"}, "owner_org"),
    ({"notes": "<script>"}, "notes"),
])
def test_invalid_dataset_form_answers_400_and_writes_nothing(client, login_official, publisher, department,
                                                             other_department, overrides, field):
    login_official(publisher)
    response = client.post("/oficina/datos/nuevo/", _dataset_post(department, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Dataset.objects.exists()


def test_add_link_and_upload_resources(client, login_official, publisher, make_dataset):
    dataset = make_dataset(name="luminarias")
    login_official(publisher)
    url = "/oficina/datos/luminarias/recurso/nuevo/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Mapa en el visor", "url": "https://visor.torreon.gob.mx/luminarias"})
    assert response.status_code == 302
    response = client.post(url, {"upload": SimpleUploadedFile("luminarias.csv", CSV, "text/csv")})
    assert response.status_code == 302
    resource = dataset.resources.get(kind=Resource.Kind.UPLOAD)
    assert resource.datastore_active and resource.current_version.row_count == 4
    page = client.get(response["Location"])
    assert page.status_code == 200 and "watts" in page.content.decode()


@pytest.mark.parametrize("data,message", [
    ({}, "Sube un archivo o escribe el enlace"),
    ({"upload": SimpleUploadedFile("virus.exe", b"MZ\x90\x00", "application/octet-stream")}, "tipo de archivo"),
    ({"upload": SimpleUploadedFile("vacio.csv", b"", "text/csv")}, "vacío"),
    ({"url": "ftp://example.com/x.csv"}, "válid"),
    ({"upload": SimpleUploadedFile("binario.csv", bytes(range(256)) * 40, "text/csv")}, ""),
])
def test_bad_resource_uploads_answer_400_and_leave_nothing(client, login_official, publisher, make_dataset, data,
                                                           message):
    dataset = make_dataset(name="luminarias")
    login_official(publisher)
    response = client.post("/oficina/datos/luminarias/recurso/nuevo/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "error-summary" in response.content.decode()
    assert not dataset.resources.exists()


def test_upload_size_limit_is_checked(client, login_official, publisher, make_dataset, monkeypatch):
    from ventanilla.opendata import forms

    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 10)
    make_dataset(name="luminarias")
    login_official(publisher)
    response = client.post("/oficina/datos/luminarias/recurso/nuevo/",
                           {"upload": SimpleUploadedFile("l.csv", CSV, "text/csv")})
    assert response.status_code == 400 and "pesa más de" in response.content.decode()


def test_new_version_and_validation_report(client, login_official, publisher, csv_resource):
    login_official(publisher)
    url = f"/oficina/datos/luminarias/recurso/{csv_resource.pk}/"
    assert client.get(url).status_code == 200
    new = CSV + "Nazas;muchos;900.00;2024-05-01\n".encode("cp1252")
    response = client.post(url + "version/", {"upload": SimpleUploadedFile("luminarias.csv", new, "text/csv")})
    assert response.status_code == 302
    csv_resource.refresh_from_db()
    assert csv_resource.current_version.number == 2
    page = client.get(url).content.decode()
    if csv_resource.current_version.report:
        assert "Informe de validación" in page
        assert csv_resource.current_version.report[0]["message"] in page
    bad = client.post(url + "version/", {"upload": SimpleUploadedFile("x.csv", bytes(range(256)) * 40, "text/csv")})
    assert bad.status_code == 400
    csv_resource.refresh_from_db()
    assert csv_resource.current_version.number == 2
    assert client.post(url + "version/", {}).status_code == 400


def test_edit_data_dictionary(client, login_official, publisher, csv_resource, make_official, other_department):
    field = DataField.objects.get(version=csv_resource.current_version, name="watts")
    url = f"/oficina/datos/luminarias/recurso/{csv_resource.pk}/diccionario/{field.pk}/"
    login_official(publisher)
    assert client.get(url).status_code == 200
    response = client.post(url, {"label": "Potencia", "description": "Potencia de la lámpara", "type": "int",
                                 "unit": "W"})
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.unit) == ("Potencia", "W")
    assert client.post(url, {"label": "<b>", "type": "int"}).status_code == 400
    assert client.post(url, {"label": "x", "type": "imaginario"}).status_code == 400
    field.refresh_from_db()
    assert field.label == "Potencia"
    # Public pages use the label.
    assert "Potencia" in client.get(f"/datos/luminarias/recurso/{csv_resource.pk}/").content.decode()
    login_official(make_official(Role.DATA_PUBLISHER, department=other_department))
    assert client.post(url, {"label": "Hackeado", "type": "int"}).status_code == 404


def test_update_data_field_rules(publisher, csv_resource, make_official, other_department):
    from ventanilla.opendata.dictionary import update_data_field
    from ventanilla.opendata.services import NotAuthorized, OpendataError

    field = DataField.objects.get(version=csv_resource.current_version, name="costo")
    update_data_field(field, by=publisher, data={"unit": "pesos", "type": "numeric"})
    assert DataField.objects.get(pk=field.pk).unit == "pesos"
    with pytest.raises(OpendataError) as exc:
        update_data_field(field, by=publisher, data={"unit": "x" * 51})
    assert exc.value.field == "unit"
    with pytest.raises(NotAuthorized):
        update_data_field(field, by=make_official(Role.DATA_PUBLISHER, department=other_department),
                          data={"label": "x"})


def test_tokens_shown_once_listed_and_revoked(client, login_official, publisher):
    from ventanilla.opendata.services import user_for_token

    login_official(publisher)
    response = client.post("/oficina/datos/tokens/", {"name": "Carga nocturna"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("vt_") and secret in response.content.decode()
    assert user_for_token(secret) == publisher
    listing = client.get("/oficina/datos/tokens/").content.decode()
    assert "Carga nocturna" in listing and secret not in listing
    assert client.post("/oficina/datos/tokens/", {"name": ""}).status_code == 400
    token = ApiToken.objects.get(user=publisher)
    assert client.get(f"/oficina/datos/tokens/{token.pk}/retirar/").status_code == 405
    assert client.post(f"/oficina/datos/tokens/{token.pk}/retirar/").status_code == 302
    assert user_for_token(secret) is None
    assert client.post(f"/oficina/datos/tokens/{token.pk}/retirar/").status_code == 404


def test_backoffice_home_lists_the_tool(client, login_official, publisher):
    login_official(publisher)
    assert "/oficina/datos/" in client.get("/oficina/").content.decode()
