"""oidc_services: client registration, consent bookkeeping and revocation."""

from __future__ import annotations

import string
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from ventanilla.audit.models import AuditEntry
from ventanilla.identity import oidc_services
from ventanilla.identity.models import Consent

from .conftest import REDIRECT_URI

pytestmark = pytest.mark.django_db


def test_register_client_creates_confidential_rs256_code_client():
    application, secret = oidc_services.register_client(
        "Decidim Torreón", ["https://decidim.torreon.gob.mx/users/auth/openid_connect/callback"]
    )
    assert application.client_type == "confidential"
    assert application.authorization_grant_type == "authorization-code"
    assert application.algorithm == "RS256"
    assert application.skip_authorization is False
    assert len(secret) >= 40
    assert application.client_secret != secret  # only the hash is stored
    from django.contrib.auth.hashers import check_password

    assert check_password(secret, application.client_secret)
    assert AuditEntry.objects.filter(action="identity.oidc_client_registered").count() == 1
    assert "secret" not in str(AuditEntry.objects.get(action="identity.oidc_client_registered").data)


@pytest.mark.parametrize(
    "name, uris, message",
    [
        ("", [REDIRECT_URI], "Escribe el nombre"),
        ("<script>alert(1)</script>", [REDIRECT_URI], "< o >"),
        ("x" * 121, [REDIRECT_URI], "120 caracteres"),
        ("App", [], "al menos una dirección"),
        ("App", ["javascript:alert(1)"], "debe empezar con"),
        ("App", ["ftp://example.com/cb"], "debe empezar con"),
        ("App", ["https://example.com/cb#frag"], "«#»"),
        ("App", ["https:///sin-dominio"], "dominio"),
        ("App", ["https://ejemplo.mx/a b"], "espacios"),
    ],
)
def test_register_client_rejects_bad_input_in_spanish(name, uris, message):
    with pytest.raises(oidc_services.ClientRegistrationError) as excinfo:
        oidc_services.register_client(name, uris)
    assert any(message in m for m in excinfo.value.messages)
    assert not oidc_services.Application.objects.exists()


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=150), uri=st.text(max_size=80))
def test_register_client_never_crashes_on_arbitrary_text(name, uri):
    try:
        application, _ = oidc_services.register_client(name, [uri])
    except oidc_services.ClientRegistrationError as exc:
        assert exc.messages
    else:
        assert "<" not in application.name and ">" not in application.name
        assert application.redirect_uris.split()[0].split(":")[0] in {"http", "https"}
        application.delete()


@given(st.text(alphabet=string.ascii_letters + string.digits + "._-/:", max_size=40))
def test_redirect_origin_only_for_absolute_uris(value):
    try:
        origin = oidc_services.redirect_origin(value)
    except ValueError:
        return
    assert "://" in origin and "/" not in origin.split("://", 1)[1]


def _tokens_for(user, application):
    now = timezone.now()
    tag = f"{user.pk}-{application.pk}"
    access = AccessToken.objects.create(
        user=user, application=application, token="acc-" + tag, expires=now + timedelta(minutes=5), scope="openid"
    )
    RefreshToken.objects.create(user=user, application=application, token="ref-" + tag, access_token=access)
    Grant.objects.create(
        user=user, application=application, code="code-" + tag, expires=now + timedelta(minutes=1),
        redirect_uri=REDIRECT_URI, scope="openid", code_challenge="x" * 43, code_challenge_method="S256",
    )
    IDToken.objects.create(user=user, application=application, jti=uuid.uuid4(), expires=now + timedelta(minutes=5), scope="openid")


def test_record_consent_keeps_one_active_row_and_widens(make_resident, oidc_app):
    application, _ = oidc_app
    resident = make_resident()
    first = oidc_services.record_application_consent(resident, application, ["openid", "email"])
    second = oidc_services.record_application_consent(resident, application, ["curp", "openid"])
    assert first.pk == second.pk
    assert second.scope == "Identificarte con tu Llave, Tu correo electrónico, Tu CURP"
    assert oidc_services.consent_scopes(second) == ["openid", "email", "curp"]
    assert Consent.objects.filter(resident=resident, revoked_at__isnull=True).count() == 1
    # Same scopes again: no new audit entry.
    oidc_services.record_application_consent(resident, application, ["openid"])
    assert AuditEntry.objects.filter(action="identity.oidc_consent").count() == 2


def test_record_consent_rejects_unknown_scopes_only(make_resident, oidc_app):
    with pytest.raises(ValueError):
        oidc_services.record_application_consent(make_resident(), oidc_app[0], ["admin"])


def test_revoke_application_access_revokes_only_that_pair(make_resident, oidc_app):
    application, _ = oidc_app
    other_app, _ = oidc_services.register_client("Otra app", ["https://otra.example/cb"])
    resident, neighbour = make_resident(), make_resident()
    consent = oidc_services.record_application_consent(resident, application, ["openid"])
    oidc_services.record_application_consent(resident, other_app, ["openid"])
    oidc_services.record_application_consent(neighbour, application, ["openid"])
    for user in (resident, neighbour):
        _tokens_for(user, application)
    _tokens_for(resident, other_app)

    oidc_services.revoke_application_access(consent)

    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert oidc_services.active_application_consent(resident, application) is None
    assert not AccessToken.objects.filter(user=resident, application=application).exists()
    assert not Grant.objects.filter(user=resident, application=application).exists()
    assert not IDToken.objects.filter(user=resident, application=application).exists()
    assert not RefreshToken.objects.filter(user=resident, application=application, revoked__isnull=True).exists()
    # Untouched: the neighbour's tokens and the resident's other application.
    assert AccessToken.objects.filter(user=neighbour, application=application).exists()
    assert AccessToken.objects.filter(user=resident, application=other_app).exists()
    assert oidc_services.active_application_consent(resident, other_app) is not None
    entry = AuditEntry.objects.get(action="identity.oidc_revoke")
    assert entry.actor_id == resident.pk and entry.data["application"] == application.client_id


def test_revoke_is_idempotent_and_refuses_department_consents(make_resident, oidc_app):
    resident = make_resident()
    consent = oidc_services.record_application_consent(resident, oidc_app[0], ["openid"])
    oidc_services.revoke_application_access(consent)
    oidc_services.revoke_application_access(consent)
    department_consent = Consent.objects.create(
        resident=resident, grantee_kind="department", grantee_label="Tesorería", scope="x", purpose="y"
    )
    with pytest.raises(ValueError):
        oidc_services.revoke_application_access(department_consent)


def test_form_action_origins_for_next_only_for_registered_redirects(oidc_app):
    from urllib.parse import urlencode

    application, _ = oidc_app
    good = "/o/authorize/?" + urlencode({"client_id": application.client_id, "redirect_uri": REDIRECT_URI})
    assert oidc_services.form_action_origins_for_next(good) == ["http://127.0.0.1:9"]
    unregistered = "/o/authorize/?" + urlencode(
        {"client_id": application.client_id, "redirect_uri": "https://atacante.example/cb"}
    )
    assert oidc_services.form_action_origins_for_next(unregistered) == []
    assert oidc_services.form_action_origins_for_next("/o/authorize/?client_id=nadie&redirect_uri=x") == []
    assert oidc_services.form_action_origins_for_next("https://otro.example" + good) == []
    assert oidc_services.form_action_origins_for_next("/llave/mis-datos/") == []
    assert oidc_services.form_action_origins_for_next("") == []


def test_deactivating_an_official_ends_every_application_session(make_official, oidc_app):
    from ventanilla.identity import services

    application, _ = oidc_app
    other_app, _ = oidc_services.register_client("Otra app", ["https://otra.example/cb"])
    admin = make_official("platform_admin")
    official = make_official("reviewer")
    oidc_services.record_application_consent(official, application, ["openid"])
    _tokens_for(official, application)
    _tokens_for(official, other_app)  # no consent row: still revoked

    services.deactivate_official(admin, official)

    assert not AccessToken.objects.filter(user=official).exists()
    assert not Grant.objects.filter(user=official).exists()
    assert not RefreshToken.objects.filter(user=official, revoked__isnull=True).exists()
    assert not Consent.objects.filter(resident=official, revoked_at__isnull=True).exists()


def test_tokens_of_an_inactive_account_are_refused_even_if_not_revoked(client, make_resident, oidc_app):
    application, _ = oidc_app
    resident = make_resident()
    access = AccessToken.objects.create(
        user=resident, application=application, token="acc-inactive", scope="openid profile",
        expires=timezone.now() + timedelta(minutes=5),
    )
    url = "/o/userinfo/"
    assert client.get(url, HTTP_AUTHORIZATION="Bearer acc-inactive").status_code == 200
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    assert client.get(url, HTTP_AUTHORIZATION="Bearer acc-inactive").status_code == 401
    assert AccessToken.objects.filter(pk=access.pk).exists()
