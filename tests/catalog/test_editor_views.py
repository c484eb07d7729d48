from __future__ import annotations

import pytest
from django.urls import reverse

from ventanilla.catalog.models import Procedure, SearchSynonym
from ventanilla.identity.models import Role


@pytest.fixture
def editor(make_official, department):
    return make_official(Role.CATALOG_EDITOR, department=department)


@pytest.fixture
def draft(make_procedure):
    return make_procedure(clave="TOR-DGDE-050", name="Permiso para vender en la vía pública")


def _urls(clave):
    return [
        ("get", reverse("catalog:editor_list")),
        ("get", reverse("catalog:editor_create")),
        ("get", reverse("catalog:editor_synonyms")),
        ("get", reverse("catalog:editor_detail", args=[clave])),
        ("get", reverse("catalog:editor_edit", args=[clave])),
        ("get", reverse("catalog:editor_withdraw", args=[clave])),
        ("get", reverse("catalog:editor_versions", args=[clave])),
        ("post", reverse("catalog:editor_publish", args=[clave])),
        ("post", reverse("catalog:editor_restore", args=[clave, 1])),
    ]


def test_anonymous_is_sent_to_sign_in(client, draft):
    for method, url in _urls(draft.clave):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("identity:login") in response["Location"], url


def test_resident_is_forbidden(client, make_resident, draft):
    client.force_login(make_resident())
    for method, url in _urls(draft.clave):
        assert getattr(client, method)(url).status_code == 403, url


def test_official_without_second_factor_goes_to_2fa(client, make_official, department, draft):
    official = make_official(Role.CATALOG_EDITOR, department=department, totp=False)
    client.force_login(official)
    for method, url in _urls(draft.clave):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("identity:two_factor") in response["Location"], url


def test_official_without_editor_role_is_forbidden(client, make_official, login_official, department, draft):
    login_official(make_official(Role.REVIEWER, department=department))
    for method, url in _urls(draft.clave):
        assert getattr(client, method)(url).status_code == 403, url


def test_editor_of_another_department_cannot_see_the_procedure(client, make_official, login_official,
                                                              other_department, draft):
    login_official(make_official(Role.CATALOG_EDITOR, department=other_department))
    assert draft.clave not in client.get(reverse("catalog:editor_list")).content.decode()
    for method, url in _urls(draft.clave)[3:]:
        assert getattr(client, method)(url).status_code == 404, url
    draft.refresh_from_db()
    assert draft.status == Procedure.Status.DRAFT


def test_editor_sees_every_page(client, editor, login_official, draft):
    login_official(editor)
    for method, url in _urls(draft.clave)[:7]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert draft.name in client.get(reverse("catalog:editor_list")).content.decode()


def test_platform_admin_sees_all_departments(client, make_official, login_official, other_department, draft):
    login_official(make_official(Role.PLATFORM_ADMIN, department=other_department))
    assert client.get(reverse("catalog:editor_detail", args=[draft.clave])).status_code == 200


def test_tool_is_registered_for_editors(editor):
    from ventanilla.core.backoffice import tools_for

    assert "catalog:editor_list" in [t.url_name for t in tools_for(editor)]


def test_publish_refusal_names_the_missing_fields(client, editor, login_official, department):
    from ventanilla.catalog import services

    p = services.create_procedure(by=editor, data={"clave": "TOR-DGDE-099", "name": "Incompleto", "department": department})
    login_official(editor)
    response = client.post(reverse("catalog:editor_publish", args=[p.clave]))
    assert response.status_code == 400
    html = response.content.decode()
    for label in ("No se pudo publicar", "Fundamento jurídico", "Requisitos (al menos uno)", "Vigencia", "Modalidad"):
        assert label in html
    p.refresh_from_db()
    assert p.status == Procedure.Status.DRAFT


def test_publish_and_withdraw_through_the_editor(client, editor, login_official, draft):
    login_official(editor)
    response = client.post(reverse("catalog:editor_publish", args=[draft.clave]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Procedure.Status.PUBLISHED
    response = client.post(reverse("catalog:editor_withdraw", args=[draft.clave]), {"reason": ""})
    assert response.status_code == 400 and "Escribe el motivo del retiro" in response.content.decode()
    response = client.post(reverse("catalog:editor_withdraw", args=[draft.clave]), {"reason": "Duplicado"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Procedure.Status.WITHDRAWN


def _form_data(department, office, doc, **overrides):
    data = {
        "clave": "TOR-DGDE-077", "name": "Licencia para espectáculos", "kind": "tramite", "modality": "Única",
        "department": department.pk, "description": "Para eventos públicos.", "who_may_file": "Cualquier persona.",
        "steps": "Llena la solicitud\nPaga", "keywords": "evento\nconcierto", "channel_online": "on",
        "channel_in_person": "on", "presentation": "formato", "legal_basis": "Reglamento, art. 5",
        "response_days": "5", "ficta": "negativa", "prevention_days": "3", "correction_days": "5",
        "validity": "Por evento", "resolution_criteria": "Que haya seguridad.", "cost_kind": "fixed",
        "cost_amount": "1,250.50", "payment_alternatives": ["en_linea", "caja"], "offices": [office.pk],
        "contact_phone": "871 500 7000", "contact_email": "eventos@torreon.gob.mx",
        "complaint_channels": "Contraloría Municipal", "req-TOTAL_FORMS": "2", "req-INITIAL_FORMS": "0",
        "req-MIN_NUM_FORMS": "0", "req-MAX_NUM_FORMS": "60", "req-0-document_type": doc.pk,
        "req-0-detail": "Credencial", "req-0-copies": "1", "req-0-original": "on", "req-1-copies": "0", "req-1-original": "on",
    }
    data.update(overrides)
    return data


def test_create_edit_and_restore_through_the_editor(client, editor, login_official, department, office, doc_ine):
    login_official(editor)
    response = client.post(reverse("catalog:editor_create"), _form_data(department, office, doc_ine))
    assert response.status_code == 302, response.content.decode()[:3000]
    p = Procedure.objects.get(clave="TOR-DGDE-077")
    assert p.cost_amount_centavos == 125050 and p.steps == ["Llena la solicitud", "Paga"]
    assert p.requirements.get().detail == "Credencial" and list(p.offices.all()) == [office]
    assert client.post(reverse("catalog:editor_publish", args=[p.clave])).status_code == 302
    response = client.post(reverse("catalog:editor_edit", args=[p.clave]),
                           _form_data(department, office, doc_ine, name="Licencia para espectáculos públicos"))
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.name == "Licencia para espectáculos públicos"
    history = client.get(reverse("catalog:editor_versions", args=[p.clave])).content.decode()
    assert "Licencia para espectáculos públicos" in history and "Restaurar la versión 1" in history
    assert client.post(reverse("catalog:editor_restore", args=[p.clave, 1])).status_code == 302
    p.refresh_from_db()
    assert p.name == "Licencia para espectáculos" and p.status == Procedure.Status.PUBLISHED


def test_editor_form_errors_are_shown_in_spanish(client, editor, login_official, department, office, doc_ine):
    login_official(editor)
    data = _form_data(department, office, doc_ine, name="<script>", cost_amount="abc", cost_formula="")
    response = client.post(reverse("catalog:editor_create"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Hay un problema" in html and "Escribe el monto en pesos" in html
    assert not Procedure.objects.filter(clave="TOR-DGDE-077").exists()
    response = client.post(reverse("catalog:editor_create"), _form_data(department, office, doc_ine, name="<b>x</b>"))
    assert response.status_code == 400 and "«&lt;»" in response.content.decode()


def test_editor_cannot_create_in_another_department(client, editor, login_official, other_department, office, doc_ine):
    login_official(editor)
    response = client.post(reverse("catalog:editor_create"), _form_data(other_department, office, doc_ine))
    assert response.status_code == 400
    assert not Procedure.objects.exists() or not Procedure.objects.filter(department=other_department).exists()


def test_synonym_editor(client, editor, login_official):
    login_official(editor)
    assert client.post(reverse("catalog:editor_synonyms"), {"term": "Changarro", "expansion": "licencia de funcionamiento"}).status_code == 302
    s = SearchSynonym.objects.get()
    assert s.term == "changarro"
    response = client.post(reverse("catalog:editor_synonyms"), {"term": "changarro", "expansion": "otra"})
    assert response.status_code == 400 and "Ya existe" in response.content.decode()
    assert client.post(reverse("catalog:editor_synonym_delete", args=[s.pk])).status_code == 302
    assert not SearchSynonym.objects.exists()
