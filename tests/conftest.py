"""Fixtures shared by every suite. App-specific fixtures live in each folder's conftest.py."""

from __future__ import annotations

import itertools

import pytest

# Departments, offices, document types and complete procedures, for every suite that needs a catalogue;
# a demonstration signing CA for the whole session, so any test can issue signed documents.
pytest_plugins = ["tests.catalog_fixtures", "tests.documents_fixtures", "tests.procedures_fixtures"]

_counter = itertools.count(1)


def _curp_for(n: int, sex: str = "M") -> str:
    from ventanilla.identity.curp import with_check_digit

    # Deterministic, valid and unique: vary the internal consonants and day with n.
    consonants = "BCDFGHJKLMNPQRSTVWXZ"
    c1, c2, c3 = consonants[n % 20], consonants[(n // 20) % 20], consonants[(n // 400) % 20]
    day = 1 + n % 28
    return with_check_digit(f"GOMA90{(n % 12) + 1:02d}{day:02d}{sex}CL{c1}{c2}{c3}0")


@pytest.fixture
def curp_factory():
    return lambda sex="M": _curp_for(next(_counter) + 1000, sex)


@pytest.fixture
def make_resident(db, curp_factory):
    from django.utils import timezone

    from ventanilla.identity.models import User

    def factory(**kwargs) -> User:
        n = next(_counter)
        defaults = {
            "email": f"residente{n}@example.mx",
            "curp": curp_factory(),
            "given_names": "María",
            "first_surname": "Gómez",
            "second_surname": "Arriaga",
            "email_confirmed_at": timezone.now(),
        }
        defaults.update(kwargs)
        password = defaults.pop("password", "una frase larga y secreta 2026")
        return User.objects.create_user(password=password, **defaults)

    return factory


@pytest.fixture
def make_official(db):
    """An official with the given roles in one department; `verified=True` gives them a TOTP device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ventanilla.identity.models import Membership, User
    from ventanilla.organization.models import Department

    def factory(*roles: str, department: Department | None = None, totp: bool = True, **kwargs) -> User:
        n = next(_counter)
        department = department or Department.objects.get_or_create(
            slug="tesoreria", defaults={"name": "Tesorería Municipal", "acronym": "TES"}
        )[0]
        defaults = {
            "email": f"servidor{n}@torreon.gob.mx",
            "given_names": "Jorge",
            "first_surname": "Ramírez",
            "is_official": True,
        }
        defaults.update(kwargs)
        user = User.objects.create_user(password="clave de servidor muy segura", **defaults)
        for role in roles:
            Membership.objects.create(user=user, department=department, role=role)
        if totp:
            TOTPDevice.objects.create(user=user, name="Autenticador", confirmed=True)
        return user

    return factory


@pytest.fixture
def login_official(client):
    """Signs an official in with password and a verified second factor, as the back office needs."""
    from django_otp import login as otp_login

    def do_login(user, c=None):
        c = c or client
        c.force_login(user)
        device = user.totpdevice_set.filter(confirmed=True).first()
        if device is not None:
            # django_otp.login marks the session as verified with this device.
            from django.contrib.sessions.backends.db import SessionStore  # noqa: F401
            from django.http import HttpRequest

            request = HttpRequest()
            request.session = c.session
            request.user = user
            otp_login(request, device)
            request.session.save()
        return c

    return do_login


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler (used by Schemathesis' `from_wsgi`) closes the database connection
    when a request starts and finishes; inside a test transaction that would close the test's own
    connection. Django's test client detaches the same signals."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
