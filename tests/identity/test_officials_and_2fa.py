import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from ventanilla.audit.models import AuditEntry
from ventanilla.identity import services
from ventanilla.identity.models import Membership, Role, User
from ventanilla.identity.totp import acceptable_code
from ventanilla.organization.models import Department

OFFICIAL_PASSWORD = "clave de servidor muy segura"


def test_official_without_2fa_cannot_reach_backoffice_and_must_enrol(client, make_official, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay after a wrong code
    official = make_official(Role.COUNTER_CLERK, totp=False)
    response = client.post("/llave/entrar/", {"identifier": official.email, "password": OFFICIAL_PASSWORD})
    assert response.status_code == 302 and response.url.startswith(reverse("identity:two_factor"))
    response = client.get("/oficina/")
    assert response.status_code == 302 and response.url.startswith(reverse("identity:two_factor"))
    page = client.get(reverse("identity:two_factor")).content.decode()
    assert "<svg" in page and "Activa tu aplicación autenticadora" in page and "<script" not in page.split("</head>")[1]
    device = TOTPDevice.objects.get(user=official, confirmed=False)
    response = client.post(reverse("identity:two_factor"), {"code": "000000", "next": "/oficina/"})
    assert response.status_code == 400 and "no es correcto" in response.content.decode()
    response = client.post(reverse("identity:two_factor"), {"code": acceptable_code(device), "next": "/oficina/"})
    assert response.status_code == 302 and response.url == "/oficina/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/oficina/").status_code == 200
    assert AuditEntry.objects.filter(action="identity.otp_enrolled").count() == 1


def test_enrolled_official_entersacceptable_code(client, make_official):
    official = make_official(Role.REVIEWER)
    client.post("/llave/entrar/", {"identifier": official.email, "password": OFFICIAL_PASSWORD})
    page = client.get(reverse("identity:two_factor")).content.decode()
    assert "Escribe tu código de seguridad" in page and "<svg" not in page
    device = official.totpdevice_set.get()
    response = client.post(reverse("identity:two_factor"), {"code": acceptable_code(device)})
    assert response.status_code == 302 and response.url == reverse("identity:backoffice")
    assert client.get("/oficina/").status_code == 200


def test_repeated_wrong_codes_lock_the_second_factor(client, make_official, settings):
    settings.LOGIN_FAILURES_BEFORE_LOCK = 3
    official = make_official(Role.REVIEWER)
    client.force_login(official)
    for _ in range(3):
        client.post(reverse("identity:two_factor"), {"code": "123456"})
    response = client.post(reverse("identity:two_factor"), {"code": acceptable_code(official.totpdevice_set.get())})
    assert response.status_code == 429
    assert client.get("/oficina/").status_code == 302


def test_resident_cannot_reach_backoffice(client, make_resident):
    client.force_login(make_resident())
    assert client.get("/oficina/").status_code == 403
    assert client.get("/oficina/servidores/").status_code == 403
    assert client.get("/oficina/ventanilla/").status_code == 403
    assert client.get(reverse("identity:two_factor")).status_code == 302


def test_anonymous_goes_to_login(client, db):
    for url in ("/oficina/", "/oficina/servidores/", "/oficina/ventanilla/", "/llave/mis-datos/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/llave/entrar/")


def test_backoffice_home_lists_tools_by_role(client, make_official, login_official):
    clerk = make_official(Role.COUNTER_CLERK)
    login_official(clerk)
    page = client.get("/oficina/").content.decode()
    assert reverse("identity:counter") in page and reverse("identity:officials") not in page
    admin = make_official(Role.PLATFORM_ADMIN)
    login_official(admin)
    page = client.get("/oficina/").content.decode()
    assert reverse("identity:officials") in page


@pytest.mark.parametrize("url", ["/oficina/servidores/", "/oficina/servidores/nuevo/"])
def test_officials_management_is_for_platform_admins_only(client, make_official, login_official, url):
    for role in (Role.REVIEWER, Role.COUNTER_CLERK, Role.CATALOG_EDITOR, Role.DEPARTMENT_ADMIN):
        login_official(make_official(role))
        assert client.get(url).status_code == 403
    login_official(make_official(Role.PLATFORM_ADMIN))
    assert client.get(url).status_code == 200


def test_admin_creates_edits_and_deactivates_an_official(client, make_official, login_official):
    admin = make_official(Role.PLATFORM_ADMIN)
    dgde = Department.objects.create(slug="desarrollo-economico", name="Dirección General de Desarrollo Económico",
                                     acronym="DGDE")
    login_official(admin)
    response = client.post("/oficina/servidores/nuevo/", {
        "email": "nueva@torreon.gob.mx", "given_names": "Elena", "first_surname": "Ríos", "second_surname": "",
        "grants": [f"{dgde.pk}:{Role.REVIEWER}", f"{dgde.pk}:{Role.COUNTER_CLERK}"],
    })
    assert response.status_code == 302
    official = User.objects.get(email="nueva@torreon.gob.mx")
    assert official.is_official and services.grants_of(official) == {(dgde.pk, Role.REVIEWER), (dgde.pk, Role.COUNTER_CLERK)}
    assert "/llave/contrasena/nueva/" in mail.outbox[-1].body
    assert AuditEntry.objects.filter(action="identity.role_change", subject_id=str(official.pk)).count() == 1
    page = client.get("/oficina/servidores/").content.decode()
    assert "Elena Ríos" in page

    url = f"/oficina/servidores/{official.public_id}/"
    response = client.post(url, {"grants": [f"{dgde.pk}:{Role.REVIEWER}"]})
    assert response.status_code == 302
    assert services.grants_of(official) == {(dgde.pk, Role.REVIEWER)}
    change = AuditEntry.objects.filter(action="identity.role_change", subject_id=str(official.pk)).order_by("seq").last()
    assert change.data == {"added": [], "removed": [[dgde.pk, Role.COUNTER_CLERK]]}
    assert change.actor_id == admin.pk

    response = client.post(f"{url}desactivar/")
    assert response.status_code == 302
    official.refresh_from_db()
    assert not official.is_active and not Membership.objects.filter(user=official).exists()
    assert client.get(f"{url}desactivar/").status_code == 405


def test_create_official_rejects_bad_input(client, make_official, login_official):
    login_official(make_official(Role.PLATFORM_ADMIN))
    response = client.post("/oficina/servidores/nuevo/", {
        "email": "no-correo", "given_names": "<b>X</b>", "first_surname": "", "grants": ["999:reviewer"],
    })
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"email", "given_names", "first_surname", "grants"} <= set(errors)
    assert User.objects.filter(is_official=True).count() == 1


def test_admin_cannot_remove_own_admin_role_or_deactivate_self(db, make_official):
    admin = make_official(Role.PLATFORM_ADMIN)
    with pytest.raises(services.ServiceError):
        services.set_official_roles(admin, admin, [])
    with pytest.raises(services.ServiceError):
        services.deactivate_official(admin, admin)


def test_non_admin_cannot_change_roles_through_services(db, make_official):
    reviewer, other = make_official(Role.REVIEWER), make_official(Role.REVIEWER)
    with pytest.raises(services.ServiceError):
        services.set_official_roles(reviewer, other, [])


def test_django_admin_requires_otp_and_platform_admin(client, make_official, login_official):
    admin = make_official(Role.PLATFORM_ADMIN, is_staff=True)
    client.force_login(admin)  # password only, no second factor
    assert client.get("/oficina/admin/").status_code == 302
    login_official(admin)
    assert client.get("/oficina/admin/").status_code == 200
    staff_reviewer = make_official(Role.REVIEWER, is_staff=True)
    login_official(staff_reviewer)
    assert client.get("/oficina/admin/").status_code == 302


def test_django_admin_role_change_is_audited(client, make_official, login_official):
    admin = make_official(Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True)
    official = make_official(Role.REVIEWER)
    dept = Membership.objects.get(user=official).department
    login_official(admin)
    url = f"/oficina/admin/identity/user/{official.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    m = Membership.objects.get(user=official)
    data = {
        "email": official.email, "curp": "", "given_names": official.given_names,
        "first_surname": official.first_surname, "second_surname": "", "phone": "", "level": "basica",
        "is_official": "on", "is_active": "on",
        "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(m.pk), "memberships-0-user": str(official.pk),
        "memberships-0-department": str(dept.pk), "memberships-0-role": Role.REVIEWER,
        "memberships-1-user": str(official.pk), "memberships-1-department": str(dept.pk),
        "memberships-1-role": Role.COUNTER_CLERK,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.filter(action="identity.role_change", subject_id=str(official.pk)).get()
    assert entry.data["added"] == [[dept.pk, Role.COUNTER_CLERK]] and entry.actor_id == admin.pk
