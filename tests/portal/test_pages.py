"""The public pages: home, search results, life events, procedure page and its start page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ventanilla.catalog import services
from ventanilla.catalog.models import ProcedureDailyUsage

pytestmark = pytest.mark.django_db


def test_home_asks_the_question_with_search_categories_and_most_requested(client, make_procedure):
    popular = make_procedure(publish=True, name="Licencia de funcionamiento")
    quiet = make_procedure(publish=True, name="Permiso para anuncios")
    services.record_start(popular)
    services.record_view(quiet)
    html = client.get("/").content.decode()
    assert "¿Qué trámite o servicio quieres realizar hoy?" in html
    assert 'type="search"' in html
    assert "Negocios y emprendimiento" in html  # the life event tile
    assert html.index("Licencia de funcionamiento") < html.index("Permiso para anuncios")


def test_most_requested_follows_use_not_a_fixed_list(client, make_procedure):
    a = make_procedure(publish=True, name="Trámite A")
    b = make_procedure(publish=True, name="Trámite B")
    for _ in range(3):
        services.record_view(b)
    services.record_view(a)
    html = client.get("/").content.decode()
    assert html.index("Trámite B") < html.index("Trámite A")
    ProcedureDailyUsage.objects.filter(procedure=b).delete()
    for _ in range(2):
        services.record_start(a)
    html = client.get("/").content.decode()
    assert "Trámite B" not in html.split('id="por-tema"')[0]


def test_search_page_ranks_synonyms(client, make_procedure):
    make_procedure(publish=True, name="Licencia de funcionamiento para negocio de bajo impacto")
    make_procedure(publish=True, name="Constancia de no adeudo predial")
    services.save_synonym("tiendita", "licencia de funcionamiento")
    response = client.get(reverse("portal:procedures"), {"q": "quiero abrir una tiendita"})
    html = response.content.decode()
    assert response.status_code == 200
    first = html.split('class="link-list results"')[1]
    assert first.index("Licencia de funcionamiento") < first.index("</li>")


def test_search_without_results_offers_help(client, make_procedure):
    make_procedure(publish=True)
    html = client.get(reverse("portal:procedures"), {"q": "xyzzy plugh"}).content.decode()
    assert "No encontramos ese trámite" in html


def test_overlong_search_is_a_clear_400(client, db):
    response = client.get(reverse("portal:procedures"), {"q": "a" * 500})
    assert response.status_code == 400
    assert "búsqueda más corta" in response.content.decode()


def test_life_event_page_lists_its_procedures(client, make_procedure, life_event):
    procedure = make_procedure(publish=True)
    html = client.get(reverse("portal:life_event", args=[life_event.slug])).content.decode()
    assert procedure.name in html
    assert client.get(reverse("portal:life_event", args=["no-existe"])).status_code == 404


def test_procedure_page_shows_what_the_law_requires(client, make_procedure, office):
    procedure = make_procedure(publish=True)
    response = client.get(reverse("portal:procedure", args=[procedure.clave]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (procedure.name, "Identificación oficial vigente", "$1,250.00", "5 días hábiles",
                 "afirmativa ficta", office.address, procedure.legal_basis, "Iniciar en línea"):
        assert text in html, text
    assert ProcedureDailyUsage.objects.get(procedure=procedure).views == 1


def test_requirement_the_city_holds_is_marked(client, make_procedure):
    held = services.upsert_document_type(code="PRED", name="Comprobante de pago del predial", held_by_city=True)
    procedure = make_procedure(publish=True)
    services.update_procedure(procedure, by=None, requirements=[{"document_type": held}])
    html = client.get(reverse("portal:procedure", args=[procedure.clave])).content.decode()
    assert "El municipio ya lo tiene: no necesitas traerlo." in html


def test_in_person_only_procedure_has_no_start_button(client, make_procedure):
    procedure = make_procedure(publish=True, channel_online=False)
    html = client.get(reverse("portal:procedure", args=[procedure.clave])).content.decode()
    assert "Iniciar en línea" not in html
    assert client.get(reverse("portal:procedure_start", args=[procedure.clave])).status_code in (302, 404)


def test_drafts_and_withdrawn_procedures_are_not_public(client, make_procedure):
    draft = make_procedure()
    assert client.get(reverse("portal:procedure", args=[draft.clave])).status_code == 404
    gone = make_procedure(publish=True)
    services.withdraw(gone, None, "Se fusionó con otro trámite")
    assert client.get(reverse("portal:procedure", args=[gone.clave])).status_code == 404


def test_starting_online_needs_llave_and_counts_the_start(client, make_procedure, make_resident):
    procedure = make_procedure(publish=True)
    url = reverse("portal:procedure_start", args=[procedure.clave])
    response = client.post(url)
    assert response.status_code == 302 and reverse("identity:login") in response["Location"]
    client.force_login(make_resident())
    response = client.post(url)
    assert response.status_code == 200
    assert "Antes de empezar" in response.content.decode()
    assert ProcedureDailyUsage.objects.get(procedure=procedure).starts == 1
