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
