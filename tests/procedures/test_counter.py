"""Counter mode: a clerk identifies a resident by CURP (the read is recorded in the resident's
access log) and files an online procedure on their behalf, continued in the journey pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PURPOSE = "Presentar trámite a nombre del ciudadano"


@pytest.fixture
def clerk(make_official, department):
    return make_official("counter_clerk", department=department)


def test_start_counter_request_records_the_access_and_starts_a_counter_draft(licence, clerk, make_resident):
    from ventanilla.identity.models import PersonalDataAccess
    from ventanilla.procedures.counter import start_counter_request
    from ventanilla.procedures.models import Channel, Status

    resident = make_resident()
    draft = start_counter_request(clerk, licence, resident.curp.lower())
    assert draft.applicant == resident and draft.filed_by == clerk
    assert draft.channel == Channel.COUNTER and draft.status == Status.DRAFT
    access = PersonalDataAccess.objects.get(resident=resident)
    assert access.official == clerk and access.purpose == PURPOSE
    assert access.case_reference == licence.procedure.clave and access.fields == ["curp", "nombre"]
    assert access.department.slug == "desarrollo-economico"


def test_a_curp_without_account_says_to_register_first_and_records_nothing(licence, clerk, curp_factory):
    from ventanilla.identity.models import PersonalDataAccess
    from ventanilla.procedures.counter import ResidentWithoutAccount, start_counter_request
    from ventanilla.procedures.models import Request

    with pytest.raises(ResidentWithoutAccount) as exc:
        start_counter_request(clerk, licence, curp_factory())
    assert "debe crear su cuenta primero" in exc.value.errors["curp"]
    assert not PersonalDataAccess.objects.exists() and not Request.objects.exists()


def test_refusals(licence, clerk, make_official, make_resident, department):
    from ventanilla.identity.models import PersonalDataAccess
    from ventanilla.procedures import services
    from ventanilla.procedures.counter import start_counter_request

    with pytest.raises(services.ProcedureError) as bad:
        start_counter_request(clerk, licence, "NO-ES-CURP")
    assert "curp" in bad.value.errors
    with pytest.raises(services.NotAllowed):
        start_counter_request(make_official("reviewer", department=department), licence, make_resident().curp)
    licence.is_active = False
    licence.save()
    resident = make_resident()
    with pytest.raises(services.ProcedureError):
        start_counter_request(clerk, licence, resident.curp)
    # The draft could not start: the access is not recorded either (all or nothing).
    assert not PersonalDataAccess.objects.filter(resident=resident).exists()


def test_counter_page_lists_procedures_and_starts_in_the_journey(client, licence, clerk, make_resident, login_official):
    from ventanilla.procedures.models import Request

    resident = make_resident()
    login_official(clerk)
    url = reverse("procedures:counter")
    page = client.get(url)
    assert page.status_code == 200
    assert licence.procedure.name in page.content.decode()
    assert "Hoy todavía no capturas ninguna solicitud." in page.content.decode()
    response = client.post(url, {"definition": licence.pk, "curp": resident.curp})
    draft = Request.objects.get(filed_by=clerk)
    assert response.status_code == 302
    assert response["Location"] == reverse("procedures:page", args=[draft.public_id, draft.current_page])
    listing = client.get(url).content.decode()
    assert resident.full_name in listing and "Continuar captura" in listing


def test_counter_page_errors(client, licence, clerk, login_official, curp_factory):
    login_official(clerk)
    url = reverse("procedures:counter")
    missing = client.post(url, {"definition": "", "curp": ""})
    assert missing.status_code == 400
    body = missing.content.decode()
    assert "Elige el trámite." in body and "Escribe la CURP de la persona." in body
    assert 'href="#id_curp"' in body
    tampered = client.post(url, {"definition": "999999", "curp": curp_factory()})
    assert tampered.status_code == 400 and "Elige un trámite de la lista." in tampered.content.decode()
    unknown = client.post(url, {"definition": licence.pk, "curp": curp_factory()})
    assert unknown.status_code == 404
    body = unknown.content.decode()
    assert "La persona todavía no tiene cuenta" in body and reverse("identity:signup") in body


def test_only_counter_clerks_use_counter_mode(client, make_official, make_resident, login_official, department):
    url = reverse("procedures:counter")
    assert client.get(url).status_code == 302
    client.force_login(make_resident())
    assert client.get(url).status_code == 403
    for role in ("reviewer", "department_admin", "catalog_editor"):
        login_official(make_official(role, department=department))
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403


def test_the_days_list_leads_each_request_where_the_clerk_can_follow_it(client, licence, fill_licence, make_official,
                                                                        make_resident, login_official, other_department):
    from ventanilla.procedures import services
    from ventanilla.procedures.counter import start_counter_request

    # A clerk of another department files the licence (Desarrollo Económico's) at a single window.
    clerk = make_official("counter_clerk", department=other_department)
    draft = start_counter_request(clerk, licence, make_resident().curp)
    filed = start_counter_request(clerk, licence, make_resident().curp)
    services.submit(fill_licence(filed), actor=clerk)
    login_official(clerk)
    listing = client.get(reverse("procedures:counter")).content.decode()
    assert reverse("procedures:page", args=[draft.public_id, draft.current_page]) in listing
    # Not a case of the clerk's department: they follow it on the resident's status page they filed.
    assert reverse("procedures:status", args=[filed.public_id]) in listing
    assert reverse("procedures:backoffice_case", args=[filed.public_id]) not in listing
    assert client.get(reverse("procedures:backoffice_case", args=[filed.public_id])).status_code == 404
