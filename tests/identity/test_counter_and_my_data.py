import pytest
from django.urls import reverse
from django.utils import timezone

from ventanilla.audit.models import AuditEntry
from ventanilla.identity import services
from ventanilla.identity.models import Consent, Level, PersonalDataAccess, Role
from ventanilla.organization.models import Department


@pytest.fixture
def dgde(db):
    return Department.objects.create(slug="desarrollo-economico", name="Dirección General de Desarrollo Económico",
                                     acronym="DGDE")


def test_counter_lookup_requires_purpose_and_records_access(client, make_official, login_official, make_resident, dgde):
    clerk = make_official(Role.COUNTER_CLERK, department=dgde, given_names="Carmen", first_surname="Salazar")
    resident = make_resident()
    login_official(clerk)
    response = client.post("/oficina/ventanilla/", {"curp": resident.curp, "purpose": ""})
    assert response.status_code == 400 and "motivo" in response.content.decode()
    assert not PersonalDataAccess.objects.exists()
    response = client.post("/oficina/ventanilla/", {
        "curp": resident.curp, "purpose": "Verificar identidad en ventanilla", "case_reference": "DGDE-2026-001",
        "fields_wanted": ["curp", "nombre"],
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert resident.full_name in page and resident.email not in page  # only what was asked for
    access = PersonalDataAccess.objects.get()
    assert access.official == clerk and access.department == dgde and access.fields == ["curp", "nombre"]
    entry = AuditEntry.objects.get(action="identity.personal_data_read")
    assert entry.actor_id == clerk.pk and entry.data["purpose"] == "Verificar identidad en ventanilla"

    # Verification: who, when, which document.
    response = client.post("/oficina/ventanilla/verificar/", {"resident": str(resident.public_id), "document": "ine"})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.level == Level.VERIFIED and resident.verified_by == clerk
    assert resident.verification_document == "ine" and resident.verified_at is not None
    assert AuditEntry.objects.filter(action="identity.level_verified", subject_id=str(resident.pk)).exists()

    # The resident sees the access in Mis datos.
    client.post(reverse("identity:logout"))
    client.force_login(resident)
    page = client.get(reverse("identity:my_data")).content.decode()
    assert "Carmen Salazar" in page and "Dirección General de Desarrollo Económico" in page
    assert "Verificar identidad en ventanilla" in page and "DGDE-2026-001" in page
    assert "CURP, Nombre" in page and "Verificada" in page


def test_counter_unknown_curp_and_bad_curp(client, make_official, login_official, curp_factory):
    login_official(make_official(Role.COUNTER_CLERK))
    response = client.post("/oficina/ventanilla/", {"curp": curp_factory(), "purpose": "Atención en ventanilla", "fields_wanted": ["nombre"]})
    assert response.status_code == 404 and "No hay ninguna cuenta" in response.content.decode()
    response = client.post("/oficina/ventanilla/", {"curp": "XXXX", "purpose": "Atención en ventanilla", "fields_wanted": ["nombre"]})
    assert response.status_code == 400 and "18 caracteres" in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_counter_is_for_counter_clerks(client, make_official, login_official):
    for role in (Role.REVIEWER, Role.CATALOG_EDITOR, Role.ANALYST):
        login_official(make_official(role))
        assert client.get("/oficina/ventanilla/").status_code == 403
        assert client.post("/oficina/ventanilla/verificar/", {}).status_code == 403
    login_official(make_official(Role.COUNTER_CLERK))
    assert client.get("/oficina/ventanilla/").status_code == 200


def test_verification_needs_a_recent_recorded_lookup(db, make_official, make_resident):
    clerk, resident = make_official(Role.COUNTER_CLERK), make_resident()
    with pytest.raises(services.ServiceError) as exc:
        services.verify_resident(clerk, resident, "ine")
    assert exc.value.code == "not_opened"
    services.open_resident_record(clerk, resident.curp, "Verificación presencial")
    with pytest.raises(services.ServiceError):
        services.verify_resident(clerk, resident, "documento-inventado")
    later = timezone.now() + services.VERIFICATION_WINDOW + timezone.timedelta(minutes=1)
    with pytest.raises(services.ServiceError):
        services.verify_resident(clerk, resident, "ine", now=later)
    assert services.verify_resident(clerk, resident, "pasaporte").level == Level.VERIFIED


def test_open_resident_record_rules(db, make_official, make_resident):
    official, resident = make_official(Role.REVIEWER), make_resident()
    with pytest.raises(services.ServiceError):
        services.open_resident_record(resident, official.curp or resident.curp, "Motivo suficiente")
    with pytest.raises(services.ServiceError):
        services.open_resident_record(official, resident.curp, "<b>motivo</b>")
    with pytest.raises(services.ServiceError):
        services.open_resident_record(official, resident.curp, "Motivo válido", fields=["contraseña"])
    with pytest.raises(services.ServiceError):
        services.open_resident_record(official, resident.curp, "x" * 301)
    with pytest.raises(services.ServiceError):
        services.open_resident_record(official, resident.curp, "Motivo válido", case_reference="F" * 65)
    assert not PersonalDataAccess.objects.exists()
    record = services.open_resident_record(official, resident.curp.lower(), "Revisión de expediente", "EXP-1",
                                           ["correo"])
    assert record.data == {"correo": resident.email}
    assert record.rows() == [("Correo electrónico", resident.email)]


def test_my_data_shows_only_the_signed_in_user(client, make_resident, make_official):
    a, b = make_resident(given_names="Ana"), make_resident(given_names="Berta", phone="8710000000")
    official = make_official(Role.REVIEWER)
    services.open_resident_record(official, b.curp, "Motivo de Berta")
    Consent.objects.create(resident=b, grantee_kind="department", grantee_label="Tesorería de Berta",
                           scope="CURP", purpose="Pago predial")
    client.force_login(a)
    page = client.get(reverse("identity:my_data")).content.decode()
    assert a.email in page and b.email not in page and b.curp not in page
    assert "Motivo de Berta" not in page and "Tesorería de Berta" not in page
    # No URL takes another resident's id: extra parameters are ignored.
    for url in (f"{reverse('identity:my_data')}?user={b.pk}", f"/api/v1/identidad/yo?id={b.public_id}"):
        body = client.get(url).content.decode()
        assert b.email not in body and b.curp not in body
    # Back-office pages and the verification endpoint refuse residents.
    assert client.post("/oficina/ventanilla/", {"curp": b.curp, "purpose": "Curiosidad malsana"}).status_code == 403
    assert client.get(f"/oficina/servidores/{b.public_id}/").status_code == 403


def test_consent_revoke(client, make_resident):
    a, b = make_resident(), make_resident()
    mine = Consent.objects.create(resident=a, grantee_kind="department", grantee_label="Tesorería Municipal",
                                  scope="CURP y nombre", purpose="Reusar documentos")
    theirs = Consent.objects.create(resident=b, grantee_kind="department", grantee_label="Catastro",
                                    scope="CURP", purpose="Predial")
    client.force_login(a)
    page = client.get(reverse("identity:my_data")).content.decode()
    assert "Retirar permiso a Tesorería Municipal" in page
    assert client.get(reverse("identity:consent_revoke", args=[mine.pk])).status_code == 405
    # Someone else's consent: not found, untouched.
    assert client.post(reverse("identity:consent_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    response = client.post(reverse("identity:consent_revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert AuditEntry.objects.filter(action="identity.consent_revoked", actor_id=a.pk).exists()
    assert "Retiraste este permiso" in client.get(reverse("identity:my_data")).content.decode()


def test_application_consent_revoke_calls_oidc_services(db, make_resident, monkeypatch):
    from oauth2_provider.models import get_application_model

    from ventanilla.identity import oidc_services

    resident = make_resident()
    app = get_application_model().objects.create(
        name="Biblioteca", client_type="confidential", authorization_grant_type="authorization-code",
        redirect_uris="https://biblioteca.example/cb",
    )
    consent = Consent.objects.create(resident=resident, grantee_kind="application", grantee_label="Biblioteca",
                                     application=app, scope="openid", purpose="Entrar")
    calls = []
    real = oidc_services.revoke_application_access

    def spy(c, actor=None, request=None):
        calls.append((c.pk, actor.pk))
        return real(c, actor=actor, request=request)

    monkeypatch.setattr(oidc_services, "revoke_application_access", spy)
    revoked = services.revoke_consent(resident, consent.pk)
    assert calls == [(consent.pk, resident.pk)] and revoked.revoked_at is not None


def test_counter_lookup_without_chosen_data_opens_nothing(client, make_official, login_official, make_resident, dgde):
    """"Consulta solo lo necesario": nothing ticked is an error, never "everything"."""
    clerk = make_official(Role.COUNTER_CLERK, department=dgde)
    resident = make_resident()
    login_official(clerk)
    response = client.post("/oficina/ventanilla/", {"curp": resident.curp, "purpose": "Verificar identidad en ventanilla"})
    assert response.status_code == 400
    assert "Elige qué datos necesitas consultar." in response.content.decode()
    assert not PersonalDataAccess.objects.exists()
