"""manage.py oidc_client create / list."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from ventanilla.identity.oidc_services import Application

pytestmark = pytest.mark.django_db


def test_create_prints_client_id_and_secret_once():
    out = StringIO()
    call_command(
        "oidc_client", "create", "--name", "Decidim Torreón",
        "--redirect-uri", "https://decidim.example/users/auth/openid_connect/callback",
        "--redirect-uri", "https://decidim.example/otra",
        stdout=out,
    )
    text = out.getvalue()
    client_id = re.search(r"client_id: (\S+)", text).group(1)
    secret = re.search(r"client_secret: (\S+)", text).group(1)
    application = Application.objects.get(client_id=client_id)
    assert application.name == "Decidim Torreón"
    assert application.redirect_uris.split() == [
        "https://decidim.example/users/auth/openid_connect/callback", "https://decidim.example/otra",
    ]
    assert check_password(secret, application.client_secret)

    listing = StringIO()
    call_command("oidc_client", "list", stdout=listing)
    assert client_id in listing.getvalue() and "Decidim Torreón" in listing.getvalue()
    assert secret not in listing.getvalue()


def test_create_with_bad_uri_fails_with_spanish_message():
    with pytest.raises(CommandError, match="debe empezar con"):
        call_command("oidc_client", "create", "--name", "X", "--redirect-uri", "javascript:alert(1)", stdout=StringIO())
    assert not Application.objects.exists()


def test_list_when_empty():
    out = StringIO()
    call_command("oidc_client", "list", stdout=out)
    assert "No hay aplicaciones registradas" in out.getvalue()
