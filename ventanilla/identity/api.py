"""Llave's JSON API, mounted at /api/v1/identidad/."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import django_auth
from pydantic import ConfigDict, Field

from . import curp as curp_module

router = Router(tags=["Identidad"])


class CurpIn(Schema):
    model_config = ConfigDict(extra="forbid")
    curp: str = Field(..., min_length=1, max_length=40, description="CURP de 18 caracteres")


class CurpOut(Schema):
    valid: bool
    curp: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    sex_label: str | None = None
    state: str | None = None
    state_name: str | None = None
    error: str | None = None


@router.post("/curp/validar", response=CurpOut, summary="Validar una CURP", auth=None)
def validate_curp(request: HttpRequest, payload: CurpIn):
    """Revisa formato, fecha, estado y dígito verificador. Devuelve la fecha de nacimiento, el sexo
    y el estado que la CURP declara, o un mensaje de error en español."""
    try:
        parsed = curp_module.parse(payload.curp)
    except curp_module.CurpError as exc:
        return CurpOut(valid=False, error=str(exc))
    return CurpOut(
        valid=True, curp=parsed.value, birth_date=parsed.birth_date, sex=parsed.sex,
        sex_label=_(curp_module.SEXES[parsed.sex]), state=parsed.state, state_name=curp_module.STATES[parsed.state],
    )


class MeOut(Schema):
    id: str
    email: str
    given_names: str
    first_surname: str
    second_surname: str
    level: str
    email_confirmed: bool
    is_official: bool


@router.get("/yo", response=MeOut, summary="Mis datos básicos", auth=django_auth)
def me(request: HttpRequest):
    """Los datos básicos de la cuenta con la que iniciaste sesión (cookie de sesión)."""
    user = request.auth
    return MeOut(
        id=str(user.public_id), email=user.email, given_names=user.given_names, first_surname=user.first_surname,
        second_surname=user.second_surname, level=user.level, email_confirmed=user.email_confirmed_at is not None,
        is_official=user.is_official,
    )
