"""package_search computed on the database: accent- and case-insensitive text, CKAN's fq syntax,
sorts, paging and facets, private and draft datasets only for their publishers."""

from __future__ import annotations

import pytest

from ventanilla.identity.models import Role
from ventanilla.opendata import search, services
from ventanilla.opendata.services import OpendataError

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(department, other_department):
    services.upsert_theme(name="servicios", title="Servicios públicos")
    services.upsert_theme(name="finanzas", title="Finanzas públicas")
    lights = services.create_dataset(by=None, data={
        "owner_org": department, "name": "luminarias", "title": "Inventario de alumbrado público",
        "notes": "Cada luminaria del municipio con su colonia y potencia.",
        "tags": ["Alumbrado", "energía"], "groups": ["servicios"],
    })
    services.create_resource(lights, by=None, data={"name": "Luminarias 2026", "url": "https://datos.example.mx/l.csv",
                                                     "format": "CSV"})
    budget = services.create_dataset(by=None, data={
        "owner_org": other_department, "name": "presupuesto-2026", "title": "Presupuesto de egresos 2026",
        "notes": "Egresos aprobados por el Cabildo.", "tags": ["finanzas"], "groups": ["finanzas"],
        "license_id": "cc-by-4.0",
    })
    services.create_resource(budget, by=None, data={"name": "Egresos", "url": "https://datos.example.mx/p.xlsx",
                                                     "format": "XLSX"})
    people = services.create_dataset(by=None, data={
        "owner_org": department, "name": "poblacion", "title": "Población por colonia",
        "notes": "Censo de población y vivienda, por colonia.", "tags": ["población"],
    })
    services.create_resource(people, by=None, data={"name": "Censo", "url": "https://datos.example.mx/c.csv",
                                                     "format": "CSV"})
    secret = services.create_dataset(by=None, data={
        "owner_org": department, "name": "nomina-privada", "title": "Nómina de alumbrado", "private": True,
    })
    draft = services.create_dataset(by=None, data={
        "owner_org": department, "name": "borrador-alumbrado", "title": "Alumbrado en borrador", "state": "draft",
    })
    return {"lights": lights, "budget": budget, "people": people, "secret": secret, "draft": draft}


def names(result) -> list[str]:
    return [d.name for d in result["results"]]


def test_everything_public_without_query(catalog):
    result = search.package_search(None)
    assert result["count"] == 3
    assert set(names(result)) == {"luminarias", "presupuesto-2026", "poblacion"}


@pytest.mark.parametrize("q", ["poblacion", "POBLACIÓN", "Población", "población colonia", "*:*"])
def test_text_ignores_accents_and_case(catalog, q):
    result = search.package_search(None, q=q)
    assert "poblacion" in names(result)
    if q != "*:*":
        assert names(result) == ["poblacion"]


def test_text_searches_tags_organization_and_resource_names(catalog):
    assert names(search.package_search(None, q="energia")) == ["luminarias"]
    assert names(search.package_search(None, q="tesoreria")) == ["presupuesto-2026"]
    assert names(search.package_search(None, q="censo")) == ["poblacion"]
    assert set(names(search.package_search(None, q="desarrollo economico"))) == {"luminarias", "poblacion"}
    assert names(search.package_search(None, q="luminaria")) == ["luminarias"]  # prefix of "luminarias"
    assert search.package_search(None, q="inexistente")["count"] == 0


def test_title_match_ranks_first(catalog):
    # "alumbrado" is in the lights' title and a tag; nothing else public mentions it.
    result = search.package_search(None, q="colonia")
    assert names(result)[0] == "poblacion"  # title beats notes (the lights mention colonia in notes)
    assert set(names(result)) == {"poblacion", "luminarias"}


def test_fq_clauses_are_anded(catalog):
    assert set(names(search.package_search(None, fq="organization:desarrollo-economico"))) == {"luminarias", "poblacion"}
    assert names(search.package_search(None, fq='organization:desarrollo-economico tags:"energía"')) == ["luminarias"]
    assert names(search.package_search(None, fq="+res_format:xlsx")) == ["presupuesto-2026"]
    assert names(search.package_search(None, fq="groups:finanzas")) == ["presupuesto-2026"]
    assert names(search.package_search(None, fq="license_id:cc-by-4.0")) == ["presupuesto-2026"]
    assert set(names(search.package_search(None, fq="-license_id:cc-by-4.0"))) == {"luminarias", "poblacion"}
    assert search.package_search(None, fq="organization:desarrollo-economico AND groups:finanzas")["count"] == 0
    assert search.package_search(None, fq="dataset_type:dataset")["count"] == 3


@pytest.mark.parametrize("fq", ["organization", "color:rojo", 'tags:"sin cerrar', ":x"])
def test_bad_fq_is_a_clear_error(catalog, fq):
    with pytest.raises(OpendataError) as caught:
        search.package_search(None, fq=fq)
    assert caught.value.field == "fq" and caught.value.status == 400


def test_sorts(catalog):
    assert names(search.package_search(None, sort="title_string asc")) == [
        "luminarias", "poblacion", "presupuesto-2026"]
    assert names(search.package_search(None, sort="name desc")) == ["presupuesto-2026", "poblacion", "luminarias"]
    newest_first = names(search.package_search(None))  # score ties → metadata_modified desc
    assert newest_first == names(search.package_search(None, sort="metadata_modified desc"))
    with pytest.raises(OpendataError):
        search.package_search(None, sort="title sideways")
    with pytest.raises(OpendataError):
        search.package_search(None, sort="password asc")


def test_rows_and_start_page_through(catalog):
    page1 = search.package_search(None, rows=2, start=0, sort="name asc")
    page2 = search.package_search(None, rows=2, start=2, sort="name asc")
    assert page1["count"] == page2["count"] == 3
    assert names(page1) + names(page2) == ["luminarias", "poblacion", "presupuesto-2026"]
    assert search.package_search(None, rows=5000)["count"] == 3  # capped at 1000, not an error
    for bad in ({"rows": -1}, {"start": "x"}, {"rows": True}):
        with pytest.raises(OpendataError):
            search.package_search(None, **bad)


def test_facets_in_ckan_shape(catalog):
    result = search.package_search(None, facet_fields=["organization", "res_format", "tags", "license_id"])
    assert result["facets"]["organization"] == {"desarrollo-economico": 2, "tesoreria": 1}
    assert result["facets"]["res_format"] == {"CSV": 2, "XLSX": 1}
    items = result["search_facets"]["organization"]["items"]
    assert items[0] == {"name": "desarrollo-economico", "display_name": "Dirección General de Desarrollo Económico",
                        "count": 2}
    assert result["search_facets"]["organization"]["title"] == "organization"
    assert result["search_facets"]["license_id"]["items"][0]["display_name"] == "Términos de Libre Uso MX"
    # Facets count the whole match, not the page.
    assert search.package_search(None, rows=1, facet_fields=["organization"])["facets"]["organization"] == {
        "desarrollo-economico": 2, "tesoreria": 1}
    limited = search.package_search(None, facet_fields=["organization"], facet_limit=1)
    assert limited["facets"]["organization"] == {"desarrollo-economico": 2}
    assert search.package_search(None, facet_fields=["organization"], facet_mincount=2)["facets"]["organization"] == {
        "desarrollo-economico": 2}
    with pytest.raises(OpendataError):
        search.package_search(None, facet_fields=["maintainer_email"])


def test_private_and_drafts_only_for_their_publishers(catalog, make_official, make_resident, department,
                                                      other_department):
    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    outsider = make_official(Role.DATA_PUBLISHER, department=other_department)
    resident = make_resident()
    for user in (None, resident, outsider):
        for private in (False, True):
            found = names(search.package_search(user, q="alumbrado", include_private=private, include_drafts=True))
            assert found == ["luminarias"], user
    assert set(names(search.package_search(publisher, q="alumbrado", include_private=True))) == {
        "luminarias", "nomina-privada"}
    assert set(names(search.package_search(publisher, q="alumbrado", include_private=True, include_drafts=True))) == {
        "luminarias", "nomina-privada", "borrador-alumbrado"}
    # Without include_private even the publisher sees only what everyone sees (CKAN's default).
    assert names(search.package_search(publisher, q="alumbrado")) == ["luminarias"]


def test_search_follows_changes_immediately(catalog):
    services.update_dataset(catalog["people"], by=None, data={"title": "Habitantes por colonia"})
    assert search.package_search(None, q="habitantes")["count"] == 1
    services.update_dataset(catalog["people"], by=None, data={"private": True})
    assert search.package_search(None, q="habitantes")["count"] == 0


def test_normalize_keeps_enie_apart():
    assert search.normalize("Ñandú Año PÓLIZA") == "ñandu año poliza"
    assert search.query_terms("la población de Torreón") == ["poblacion", "torreon"]
