"""The Django admin has no password form of its own: it sends everybody through Llave."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_login_redirects_to_llave(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


def test_admin_login_post_cannot_bypass_lockout(client, make_official):
    official = make_official("platform_admin", is_staff=True, is_superuser=True)
    response = client.post(reverse("admin:login"), {"username": official.email, "password": "clave de servidor muy segura"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_official_without_second_factor_is_sent_to_two_factor(client, make_official):
    official = make_official("platform_admin", is_staff=True, is_superuser=True)
    client.force_login(official)
    response = client.get(reverse("admin:login"))
    assert response["Location"].startswith(reverse("identity:two_factor"))


def test_platform_admin_with_second_factor_reaches_admin(client, make_official, login_official):
    official = make_official("platform_admin", is_staff=True, is_superuser=True)
    login_official(official)
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_lists_officials_only_and_audits_changes(client, make_official, make_resident, login_official):
    from ventanilla.audit.models import AuditEntry

    admin_user = make_official("platform_admin", is_staff=True, is_superuser=True)
    resident = make_resident()
    official = make_official("reviewer")
    login_official(admin_user)
    listing = client.get(reverse("admin:identity_user_changelist")).content.decode()
    assert official.email in listing and resident.email not in listing
    assert client.get(reverse("admin:identity_user_change", args=[resident.pk])).status_code in (302, 404)
    assert client.get(reverse("admin:identity_user_delete", args=[official.pk])).status_code == 403
    assert client.get("/oficina/admin/identity/consent/").status_code == 404
    page = client.get(reverse("admin:identity_user_change", args=[official.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "last_login", "date_joined", "verified_at", "email_confirmed_at", "verified_by", "public_id", "groups", "user_permissions", "verification_document")}
    data.update({"given_names": "Jorge Luis", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(reverse("admin:identity_user_change", args=[official.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    entry = AuditEntry.objects.filter(action="identity.admin_change").get()
    assert entry.data == {"fields": ["given_names"]}


def test_first_administrator_from_createsuperuser_can_use_the_back_office(client, login_official, db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ventanilla.identity.models import User

    first = User.objects.create_superuser("primera@torreon.gob.mx", "una clave larga para la primera admin",
                                          given_names="Primera", first_surname="Administradora")
    TOTPDevice.objects.create(user=first, name="Autenticador", confirmed=True)
    login_official(first)
    for name in ("identity:officials", "identity:official_create", "catalog:editor_list"):
        assert client.get(reverse(name)).status_code == 200, name
