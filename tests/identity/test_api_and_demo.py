import io

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from ventanilla.identity import curp, demo
from ventanilla.identity.models import Level, Membership, Role, User

URL = "/api/v1/identidad/curp/validar"


def test_validate_curp_ok(client, db):
    value = curp.with_check_digit("GOMA900412XCLBCD0")
    data = client.post(URL, {"curp": value.lower()}, content_type="application/json").json()
    assert data["valid"] is True and data["curp"] == value
    assert data["birth_date"] == "1990-04-12" and data["sex"] == "X" and data["state"] == "CL"
    assert data["state_name"] == "Coahuila"


def test_validate_curp_invalid_gives_spanish_reason(client, db):
    data = client.post(URL, {"curp": "GOMA900230MCLBCD01"}, content_type="application/json").json()
    assert data["valid"] is False and "fecha de nacimiento" in data["error"]


@pytest.mark.parametrize("body", [{}, {"curp": 123}, {"curp": "A" * 41}, {"curp": ""}, {"curp": "X", "extra": 1}])
def test_validate_curp_malformed_input_is_422(client, db, body):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 422
    data = response.json()
    assert data["detail"] == "Los datos enviados no son válidos." and data["errors"]


def test_validate_curp_bad_json(client, db):
    response = client.post(URL, "{no es json", content_type="application/json")
    assert response.status_code in (400, 422)


def test_me_requires_session(client, db):
    response = client.get("/api/v1/identidad/yo")
    assert response.status_code == 401 and response.json()["detail"] == "Se requiere autenticación."


def test_me_returns_own_data(client, make_resident):
    user = make_resident()
    client.force_login(user)
    data = client.get("/api/v1/identidad/yo").json()
    assert data == {
        "id": str(user.public_id), "email": user.email, "given_names": user.given_names,
        "first_surname": user.first_surname, "second_surname": user.second_surname, "level": "basica",
        "email_confirmed": True, "is_official": False,
    }


def test_demo_build_is_idempotent_and_logins_work(client, db, settings):
    settings.DEMO_DATA_ALLOWED = True
    out = io.StringIO()
    demo.build(stdout=out)
    demo.build()
    assert User.objects.filter(email=demo.RESIDENT["email"]).count() == 1
    resident = User.objects.get(email=demo.RESIDENT["email"])
    assert curp.is_valid(resident.curp) and resident.level == Level.VERIFIED and resident.email_confirmed_at
    assert resident.check_password(demo.RESIDENT_PASSWORD)
    for spec in demo.OFFICIALS:
        user = User.objects.get(email=spec.email)
        assert user.is_official and user.check_password(demo.OFFICIAL_PASSWORD)
        assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
        assert {(m.department.slug, m.role) for m in Membership.objects.filter(user=user)} == set(spec.grants)
    clerk = User.objects.get(email="ventanilla.dgde@torreon.example")
    assert Membership.objects.get(user=clerk).department.acronym == "DGDE"
    assert len(demo.login_lines()) == 1 + len(demo.OFFICIALS)
    assert all("demo_totp" in line for line in demo.login_lines()[1:])

    # The printed code lets the demo official through the second factor.
    code_out = io.StringIO()
    call_command("demo_totp", "admin@torreon.example", stdout=code_out)
    code = code_out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    client.post("/llave/entrar/", {"identifier": "admin@torreon.example", "password": demo.OFFICIAL_PASSWORD})
    response = client.post("/llave/segundo-factor/", {"code": code})
    assert response.status_code == 302
    assert client.get("/oficina/servidores/").status_code == 200


def test_demo_not_built_when_not_allowed(db, settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(RuntimeError):
        demo.build()
    assert not User.objects.exists()


def test_demo_secret_matches_documented_base32():
    spec = demo.OFFICIALS[0]
    assert bytes.fromhex(spec.totp_hex) == b"12345678901234567890"
    assert spec.grants == (("desarrollo-economico", Role.REVIEWER),)
