import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from ventanilla.audit.models import AuditEntry
from ventanilla.identity import services
from ventanilla.identity.models import Level, User

from .conftest import STRONG

URL = "/llave/crear-cuenta/"


def test_happy_path_creates_basic_account_and_sends_confirmation(client, db, signup_post, caplog):
    caplog.set_level(logging.DEBUG)
    data = signup_post()
    response = client.post(URL, data)
    assert response.status_code == 302 and response.url == reverse("identity:signup_done")
    user = User.objects.get(email="lucia.trevino@example.mx")
    assert user.level == Level.BASIC and user.email_confirmed_at is None
    assert user.curp == data["curp"] and user.phone == "8711234567"
    assert user.check_password(STRONG)
    page = client.get(response.url).content.decode()
    assert "Revisa tu correo" in page and "lucia.trevino@example.mx" in page
    assert len(mail.outbox) == 1 and "/llave/confirmar/" in mail.outbox[0].body
    # The password is never logged nor audited.
    assert STRONG not in caplog.text
    for entry in AuditEntry.objects.all():
        assert STRONG not in str(entry.data)


@pytest.mark.parametrize("overrides, field, message", [
    ({"curp": "GOMA900101MCLBCD"}, "curp", "18 caracteres"),
    ({"curp": "GOMA900230MCLBCD01"}, "curp", "fecha de nacimiento"),
    ({"given_names": "<script>alert(1)</script>"}, "given_names", "no puede llevar los signos"),
    ({"first_surname": "Pérez\x07"}, "first_surname", "caracteres de control"),
    ({"given_names": "\u202eAna"}, "given_names", "caracteres de control"),  # right-to-left override
    ({"first_surname": "Pé\u200brez"}, "first_surname", "caracteres de control"),  # zero-width space
    ({"given_names": "A" * 121}, "given_names", "como máximo 120"),
    ({"email": "a" * 250 + "@example.mx"}, "email", "demasiado largo"),
    ({"email": "no-es-correo"}, "email", "formato correcto"),
    ({"phone": "12345"}, "phone", "10 dígitos"),
    ({"password": "password1234", "password_confirmation": "password1234"}, "password", ""),
    ({"password": "tortuga", "password_confirmation": "tortuga"}, "password", "10"),
    ({"password_confirmation": "otra cosa distinta 123"}, "password_confirmation", "no coinciden"),
    ({"given_names": ""}, "given_names", "Escribe tu nombre"),
])
def test_bad_input_is_rejected_in_spanish_and_creates_nothing(client, db, signup_post, overrides, field, message):
    response = client.post(URL, signup_post(**overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    page = response.content.decode()
    assert 'class="error-summary"' in page and "Hay un problema" in page
    assert 'aria-invalid="true"' in page and f'id="id_{field}-error"' in page
    assert "<script>alert" not in page
    assert not User.objects.exists()


def test_weak_password_message_is_spanish(client, db, signup_post):
    response = client.post(URL, signup_post(password="aaaaaaaaaaaa", password_confirmation="aaaaaaaaaaaa"))
    assert "contraseña" in " ".join(response.context["form"].errors["password"]).lower()


def test_duplicate_curp(client, db, signup_post, make_resident):
    existing = make_resident()
    response = client.post(URL, signup_post(curp=existing.curp.lower()))
    assert response.status_code == 409
    errors = response.context["form"].errors["curp"]
    assert "Ya existe una cuenta con esta CURP. ¿Olvidaste tu contraseña?" in errors
    assert reverse("identity:password_reset") in response.content.decode()
    assert User.objects.count() == 1


def test_duplicate_email_case_insensitive(client, db, signup_post, make_resident):
    make_resident(email="lucia.trevino@example.mx")
    response = client.post(URL, signup_post(email="Lucia.Trevino@Example.MX"))
    assert response.status_code == 409
    assert "Ya existe una cuenta con este correo" in response.context["form"].errors["email"][0]
    assert User.objects.count() == 1


@pytest.mark.parametrize("field", ["curp", "email"])
def test_race_on_unique_constraint_is_reported_not_500(db, signup_post, make_resident, monkeypatch, field):
    """Another sign-up commits between our duplicate check and our insert: the database's unique
    constraint refuses the second account and the resident gets the same clear message."""
    data = services.SignUpData(**signup_post())
    if field == "curp":
        make_resident(curp=data.curp)
    else:
        make_resident(email=data.email)
    real_exists = services._account_exists
    calls = []

    def check_passes_first_time(name, value):
        calls.append(name)
        return False if len(calls) <= 2 else real_exists(name, value)

    monkeypatch.setattr(services, "_account_exists", check_passes_first_time)
    with pytest.raises(services.FieldErrors) as exc:
        services.sign_up(data)
    assert "Ya existe una cuenta con" in exc.value.errors[field][0]
    assert User.objects.count() == 1


def test_database_refuses_duplicate_curp(db, make_resident):
    first = make_resident()
    with pytest.raises(IntegrityError):
        User.objects.create_user(email="x@example.mx", curp=first.curp, given_names="A", first_surname="B")


def _token_from_mail() -> str:
    match = re.search(r"/llave/confirmar/([^/\s]+)/", mail.outbox[-1].body)
    return match.group(1)


def test_confirmation_link_confirms_and_then_login_works(client, db, signup_post):
    client.post(URL, signup_post())
    response = client.get(f"/llave/confirmar/{_token_from_mail()}/")
    assert response.status_code == 302 and response.url == reverse("identity:login")
    assert User.objects.get().email_confirmed_at is not None
    response = client.post("/llave/entrar/", {"identifier": "lucia.trevino@example.mx", "password": STRONG})
    assert response.status_code == 302 and response.url == reverse("identity:my_data")


def test_tampered_confirmation_link(client, db, signup_post):
    client.post(URL, signup_post())
    token = _token_from_mail()
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    response = client.get(f"/llave/confirmar/{tampered}/")
    assert response.status_code == 400
    assert "no es válido" in response.content.decode()
    assert User.objects.get().email_confirmed_at is None


def test_expired_confirmation_link(db, signup_post, settings):
    user = services.sign_up(services.SignUpData(**signup_post()))
    token = services.confirmation_token(user)
    later = timezone.now() + timedelta(seconds=settings.EMAIL_CONFIRMATION_MAX_AGE + 5)
    with pytest.raises(services.ConfirmationError) as exc:
        services.confirm_email(token, now=later)
    assert exc.value.code == "expired" and "venció" in exc.value.message
    in_time = timezone.now() + timedelta(seconds=settings.EMAIL_CONFIRMATION_MAX_AGE - 60)
    assert services.confirm_email(token, now=in_time).email_confirmed_at is not None


def test_link_for_an_old_email_address_is_useless(db, signup_post):
    user = services.sign_up(services.SignUpData(**signup_post()))
    token = services.confirmation_token(user)
    user.email = "nuevo@example.mx"
    user.save()
    with pytest.raises(services.ConfirmationError):
        services.confirm_email(token)


def test_unconfirmed_resident_cannot_sign_in_and_gets_resend_link(client, db, signup_post):
    client.post(URL, signup_post())
    mail.outbox.clear()
    response = client.post("/llave/entrar/", {"identifier": "lucia.trevino@example.mx", "password": STRONG})
    assert response.status_code == 400
    page = response.content.decode()
    assert "confirma tu correo" in page and reverse("identity:resend_confirmation") in page
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("identity:resend_confirmation"), {"email": "lucia.trevino@example.mx"})
    assert response.status_code == 302 and len(mail.outbox) == 1


def test_resend_does_not_reveal_unknown_addresses(client, db):
    response = client.post(reverse("identity:resend_confirmation"), {"email": "nadie@example.mx"})
    assert response.status_code == 302 and len(mail.outbox) == 0
