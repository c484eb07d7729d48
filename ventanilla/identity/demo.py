"""Demo accounts for development and presentations (never in production).

Every official has a confirmed TOTP device with a FIXED secret, so anyone following the README can
sign in: add the base-32 secret below to any authenticator app, or run
`manage.py demo_totp <email>` to print the current code.

| account                          | role                                   | TOTP secret (base 32)            |
|----------------------------------|----------------------------------------|----------------------------------|
| ana.residente@example.mx         | resident, level verificada             | —                                |
| revisor.dgde@torreon.example     | reviewer, Desarrollo Económico         | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ |
| ventanilla.dgde@torreon.example  | counter clerk, Desarrollo Económico    | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJR |
| catalogo@torreon.example         | catalogue editor, DGDE and Tesorería   | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJS |
| admin@torreon.example            | platform administrator                 | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJT |
| revisor.pc@torreon.example       | reviewer, Protección Civil             | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJU |
| revisor.dtv@torreon.example      | reviewer, Tránsito y Vialidad          | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJV |
| revisor.dgotu@torreon.example    | reviewer, Ordenamiento Territorial     | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJW |
| analista@torreon.example         | analyst (measurement dashboard)        | GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJX |
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .curp import with_check_digit
from .models import Level, Membership, Role, User

RESIDENT_PASSWORD = "ciudadana de torreon 2026"
OFFICIAL_PASSWORD = "servidor publico demo 2026"


@dataclass(frozen=True)
class DemoOfficial:
    email: str
    given_names: str
    first_surname: str
    grants: tuple[tuple[str, str], ...]  # (department slug, role)
    totp_base32: str
    description: str

    @property
    def totp_hex(self) -> str:
        return base64.b32decode(self.totp_base32).hex()


RESIDENT = {
    "email": "ana.residente@example.mx",
    # A syntactically valid CURP with a correct check digit, for demo use only.
    "curp": with_check_digit("LOPA850412MCLPRN0"),
    "given_names": "Ana",
    "first_surname": "López",
    "second_surname": "Pérez",
    "phone": "8711234567",
}

DEPARTMENTS = {
    "desarrollo-economico": ("Dirección General de Desarrollo Económico", "DGDE"),
    "tesoreria": ("Tesorería Municipal", "TES"),
    "proteccion-civil": ("Dirección Municipal de Protección Civil y Bomberos", "PCB"),
    "transito-vialidad": ("Dirección de Tránsito y Vialidad", "DTV"),
    "ordenamiento-territorial": ("Dirección General de Ordenamiento Territorial y Urbanismo", "DGOTU"),
}

OFFICIALS = (
    DemoOfficial("revisor.dgde@torreon.example", "Roberto", "Villarreal",
                 (("desarrollo-economico", Role.REVIEWER),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                 "Revisor de Desarrollo Económico"),
    DemoOfficial("ventanilla.dgde@torreon.example", "Carmen", "Salazar",
                 (("desarrollo-economico", Role.COUNTER_CLERK),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJR",
                 "Ventanilla de Desarrollo Económico"),
    DemoOfficial("catalogo@torreon.example", "Luis", "Hernández",
                 (("desarrollo-economico", Role.CATALOG_EDITOR), ("tesoreria", Role.CATALOG_EDITOR)),
                 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJS", "Editor del catálogo (DGDE y Tesorería)"),
    DemoOfficial("admin@torreon.example", "Patricia", "Mendoza",
                 (("desarrollo-economico", Role.PLATFORM_ADMIN),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJT",
                 "Administradora de la plataforma"),
    DemoOfficial("revisor.pc@torreon.example", "Daniela", "Treviño",
                 (("proteccion-civil", Role.REVIEWER),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJU",
                 "Revisora de Protección Civil"),
    DemoOfficial("revisor.dtv@torreon.example", "Óscar", "Castañeda",
                 (("transito-vialidad", Role.REVIEWER),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJV",
                 "Revisor de Tránsito y Vialidad"),
    DemoOfficial("revisor.dgotu@torreon.example", "Laura", "Esparza",
                 (("ordenamiento-territorial", Role.REVIEWER),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJW",
                 "Revisora de Ordenamiento Territorial"),
    DemoOfficial("analista@torreon.example", "Miguel", "Rangel",
                 (("desarrollo-economico", Role.ANALYST),), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJX",
                 "Analista (medición de trámites)"),
)


def _department(slug: str):
    from ventanilla.organization import selectors as org_selectors
    from ventanilla.organization import services as org_services

    existing = org_selectors.department_by_slug(slug)
    if existing is not None:
        return existing
    name, acronym = DEPARTMENTS[slug]
    return org_services.upsert_department(slug=slug, name=name, acronym=acronym)


@transaction.atomic
def build(stdout=None) -> None:
    """Creates (or refreshes) the demo accounts. Idempotent."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not settings.DEMO_DATA_ALLOWED:
        raise RuntimeError("Demo data is not allowed in this installation.")
    now = timezone.now()
    for slug in DEPARTMENTS:
        _department(slug)

    admin_user = None
    officials = []
    for spec in OFFICIALS:
        user, created = User.objects.get_or_create(
            email=spec.email,
            defaults={"given_names": spec.given_names, "first_surname": spec.first_surname, "is_official": True,
                      "email_confirmed_at": now},
        )
        if created:
            user.set_password(OFFICIAL_PASSWORD)
            user.save(update_fields=["password"])
        if any(role == Role.PLATFORM_ADMIN for _s, role in spec.grants):
            admin_user = user
            if not (user.is_staff and user.is_superuser):
                # Django admin needs model permissions; the platform administrator holds them all.
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        for slug, role in spec.grants:
            Membership.objects.get_or_create(user=user, department=_department(slug), role=role)
        device = TOTPDevice.objects.filter(user=user, name="Demo").first()
        if device is None:
            TOTPDevice.objects.create(user=user, name="Demo", key=spec.totp_hex, confirmed=True)
        elif device.key != spec.totp_hex or not device.confirmed:
            device.key, device.confirmed = spec.totp_hex, True
            device.save(update_fields=["key", "confirmed"])
        officials.append(user)

    resident, created = User.objects.get_or_create(
        email=RESIDENT["email"],
        defaults={**{k: v for k, v in RESIDENT.items() if k != "email"}, "email_confirmed_at": now},
    )
    if created:
        resident.set_password(RESIDENT_PASSWORD)
        resident.save()
        # Verified the way a real counter does it, so "Mis datos" shows the clerk's access.
        from . import services

        clerk = next(u for u, s in zip(officials, OFFICIALS) if s.grants[0][1] == Role.COUNTER_CLERK)
        services.open_resident_record(
            clerk, resident.curp, "Verificación de identidad en ventanilla", "VER-DEMO-0001",
            ["nombre", "curp", "fecha_nacimiento"],
        )
        services.verify_resident(clerk, resident, "ine")
    if stdout is not None:
        stdout.write(f"Llave: {len(officials)} servidores públicos y 1 residente de demostración.")
    return None


def login_lines() -> list[str]:
    lines = [f"Residente (verificada): {RESIDENT['email']} / {RESIDENT_PASSWORD}"]
    for spec in OFFICIALS:
        lines.append(
            f"{spec.description}: {spec.email} / {OFFICIAL_PASSWORD} · código: "
            f"manage.py demo_totp {spec.email} (secreto TOTP {spec.totp_base32})"
        )
    return lines
