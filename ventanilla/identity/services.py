"""Llave's rules as plain typed functions. Views and API endpoints only translate HTTP to these
calls; other apps use identity only through this module and `selectors.py`.

Never pass a password to the audit log or to a logger: the functions here take one only to hash
or check it and never store it anywhere else."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ventanilla.audit.services import record
from ventanilla.core.http import client_ip

from . import curp as curp_module
from . import lockout, send_limits
from .models import Consent, Level, Membership, PersonalDataAccess, Role, User
from .permissions import has_role

NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 128
PURPOSE_MAX_LENGTH = 300
CASE_REFERENCE_MAX_LENGTH = 64
# < and >, control characters, and invisible format characters (bidirectional overrides,
# zero-width joiners...) that make one name look like another.
_FORBIDDEN_IN_TEXT = re.compile(r"[<>\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")
_PHONE = re.compile(r"^\d{10}$")
_CONFIRMATION_SALT = "ventanilla.identity.email-confirmation"
VERIFICATION_WINDOW = timedelta(hours=2)


class ServiceError(Exception):
    """A rule was not met. `message` is Spanish and can be shown as is."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class TooManyRequests(ServiceError):
    """Over a sending limit (identity.send_limits); the view answers 429."""

    def __init__(self, message: str):
        super().__init__(message, code="too_many")


class FieldErrors(Exception):
    """Several fields were wrong: {field name: [Spanish messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# --- Plain validators --------------------------------------------------------------------------

@contextmanager
def _errors_on(field: str):
    """Attributes a ServiceError raised inside the block to `field` (unless it names one)."""
    try:
        yield
    except ServiceError as exc:
        exc.field = exc.field or field
        raise


def clean_text(value: str | None, *, label: str, max_length: int, required: bool = True,
               min_length: int = 0) -> str:
    """Trims `value` and rejects HTML brackets, control characters and over-long text."""
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ServiceError(_("Escribe %(label)s.") % {"label": label}, code="required")
        return ""
    if _FORBIDDEN_IN_TEXT.search(value or ""):
        raise ServiceError(
            _("%(label)s no puede llevar los signos < o > ni caracteres de control.") % {"label": label.capitalize()},
            code="forbidden_characters",
        )
    if len(text) > max_length:
        raise ServiceError(
            _("%(label)s debe tener como máximo %(max)d caracteres.") % {"label": label.capitalize(), "max": max_length},
            code="too_long",
        )
    if len(text) < min_length:
        raise ServiceError(
            _("%(label)s debe tener al menos %(min)d caracteres.") % {"label": label.capitalize(), "min": min_length},
            code="too_short",
        )
    return text


def clean_name(value: str | None, *, label: str, required: bool = True) -> str:
    text = clean_text(value, label=label, max_length=NAME_MAX_LENGTH, required=required)
    if text and any(ch.isdigit() for ch in text):
        raise ServiceError(_("%(label)s no puede llevar números.") % {"label": label.capitalize()}, code="digits")
    return text


def clean_email(value: str | None) -> str:
    email = (value or "").strip().lower()
    if not email:
        raise ServiceError(_("Escribe tu correo electrónico."), code="required")
    if len(email) > EMAIL_MAX_LENGTH:
        raise ServiceError(_("El correo electrónico es demasiado largo."), code="too_long")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError(
            _("Escribe un correo electrónico con el formato correcto, como nombre@ejemplo.com."), code="invalid"
        ) from exc
    return email


def clean_phone(value: str | None) -> str:
    digits = re.sub(r"[\s\-().]", "", value or "")
    if digits.startswith("+52"):
        digits = digits[3:]
    if not digits:
        return ""
    if not _PHONE.match(digits):
        raise ServiceError(_("Escribe tu celular a 10 dígitos, por ejemplo 8711234567."), code="invalid")
    return digits


def clean_curp(value: str | None) -> curp_module.Curp:
    if not (value or "").strip():
        raise ServiceError(_("Escribe tu CURP."), code="required")
    if len(value) > 40:
        raise ServiceError(_("La CURP debe tener 18 caracteres."), code="too_long")
    try:
        return curp_module.parse(value)
    except curp_module.CurpError as exc:
        raise ServiceError(str(exc), code="invalid_curp") from exc


# --- Sign-up ---------------------------------------------------------------------------------

@dataclass
class SignUpData:
    curp: str
    given_names: str
    first_surname: str
    second_surname: str
    email: str
    password: str = field(repr=False)
    password_confirmation: str = field(repr=False)
    phone: str = ""


def _duplicate_message(kind: str) -> str:
    if kind == "curp":
        return _("Ya existe una cuenta con esta CURP. ¿Olvidaste tu contraseña?")
    return _("Ya existe una cuenta con este correo electrónico. ¿Olvidaste tu contraseña?")


def _account_exists(field_name: str, value: str) -> bool:
    if field_name == "curp":
        return User.objects.filter(curp=value).exists()
    return User.objects.filter(email__iexact=value).exists()


def sign_up(data: SignUpData, *, request: HttpRequest | None = None) -> User:
    """Creates a resident's account at level *básica* with an unconfirmed e-mail and sends the
    confirmation link. Raises FieldErrors (Spanish messages by field); creates nothing then."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}

    def run(name: str, fn) -> None:
        try:
            values[name] = fn()
        except ServiceError as exc:
            errors.setdefault(name, []).append(exc.message)

    run("curp", lambda: clean_curp(data.curp).value)
    run("given_names", lambda: clean_name(data.given_names, label=_("tu nombre o nombres")))
    run("first_surname", lambda: clean_name(data.first_surname, label=_("tu primer apellido")))
    run("second_surname", lambda: clean_name(data.second_surname, label=_("tu segundo apellido"), required=False))
    run("email", lambda: clean_email(data.email))
    run("phone", lambda: clean_phone(data.phone))

    password = data.password or ""
    if not password:
        errors.setdefault("password", []).append(_("Escribe una contraseña."))
    elif len(password) > PASSWORD_MAX_LENGTH:
        errors.setdefault("password", []).append(_("La contraseña debe tener como máximo 128 caracteres."))
    elif password != (data.password_confirmation or ""):
        errors.setdefault("password_confirmation", []).append(_("Las dos contraseñas no coinciden."))
    else:
        probe = User(
            email=values.get("email", ""), given_names=values.get("given_names", ""),
            first_surname=values.get("first_surname", ""), curp=values.get("curp", ""),
        )
        try:
            password_validation.validate_password(password, probe)
        except ValidationError as exc:
            errors.setdefault("password", []).extend(exc.messages)

    for name in ("curp", "email"):
        if name in values and _account_exists(name, values[name]):
            errors.setdefault(name, []).append(_duplicate_message(name))
    if errors:
        raise FieldErrors(errors)
    if not send_limits.allow(send_limits.SIGN_UP, email=None, ip=client_ip(request)):
        raise TooManyRequests(_("Se crearon demasiadas cuentas desde esta conexión en la última hora. "
                                "Intenta de nuevo más tarde o acude a una oficina del municipio."))

    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=values["email"], password=password, curp=values["curp"],
                given_names=values["given_names"], first_surname=values["first_surname"],
                second_surname=values["second_surname"], phone=values["phone"], level=Level.BASIC,
            )
            record("identity.signup", actor=None, subject=user, request=request,
                   data={"level": user.level})
    except IntegrityError as exc:
        # Lost a race with a simultaneous sign-up: report it like the check above would have.
        if _account_exists("curp", values["curp"]):
            raise FieldErrors({"curp": [_duplicate_message("curp")]}) from exc
        raise FieldErrors({"email": [_duplicate_message("email")]}) from exc
    send_confirmation_email(user)
    return user


# --- E-mail confirmation --------------------------------------------------------------------

class ConfirmationError(ServiceError):
    pass


def _email_fingerprint(email: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY[:16]}|{email.lower()}".encode()).hexdigest()[:16]


def confirmation_token(user: User) -> str:
    """A signed, timestamped token naming the account and its current e-mail address: changing
    the address makes older links useless."""
    signer = signing.TimestampSigner(salt=_CONFIRMATION_SALT)
    return signer.sign(f"{user.public_id}.{_email_fingerprint(user.email)}")


def confirmation_url(user: User) -> str:
    return settings.SITE_URL + reverse("identity:confirm_email", args=[confirmation_token(user)])


def send_confirmation_email(user: User) -> None:
    context = {"user": user, "url": confirmation_url(user),
               "hours": settings.EMAIL_CONFIRMATION_MAX_AGE // 3600, "city": settings.CITY}
    send_mail(
        subject=_("Confirma tu correo para usar tu Llave"),
        message=render_to_string("identity/email/confirm_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def confirm_email(token: str, *, now: datetime | None = None) -> User:
    """Marks the e-mail as confirmed. Raises ConfirmationError (code "expired" or "invalid")."""
    signer = signing.TimestampSigner(salt=_CONFIRMATION_SALT)
    try:
        # Check the signature first, then the age against `now` (so tests can move the clock).
        payload_with_ts = signing.Signer.unsign(signer, (token or "")[:300])
        payload, ts = payload_with_ts.rsplit(signer.sep, 1)
        signed_at = signing.b62_decode(ts)
    except (signing.BadSignature, ValueError) as exc:
        raise ConfirmationError(_("El enlace de confirmación no es válido. Pide uno nuevo."), code="invalid") from exc
    current = (now or timezone.now()).timestamp()
    if current - signed_at > settings.EMAIL_CONFIRMATION_MAX_AGE:
        raise ConfirmationError(_("El enlace de confirmación ya venció. Pide uno nuevo."), code="expired")
    public_id, fingerprint = (payload.split(".", 1) + [""])[:2]
    user = User.objects.filter(public_id=public_id).first() if _looks_like_uuid(public_id) else None
    if user is None or fingerprint != _email_fingerprint(user.email):
        raise ConfirmationError(_("El enlace de confirmación no es válido. Pide uno nuevo."), code="invalid")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now or timezone.now()
        user.save(update_fields=["email_confirmed_at"])
        record("identity.email_confirmed", actor=None, subject=user)
    return user


def _looks_like_uuid(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value))


def resend_confirmation(email: str, *, ip: str | None = None) -> None:
    """Sends a new link when an unconfirmed account has this address. Says nothing either way,
    and sends nothing once the address or the IP is over its limit (identity.send_limits)."""
    try:
        address = clean_email(email)
    except ServiceError:
        return
    if not send_limits.allow(send_limits.CONFIRMATION, email=address, ip=ip):
        return
    user = User.objects.filter(email__iexact=address, email_confirmed_at__isnull=True, is_active=True).first()
    if user is not None:
        send_confirmation_email(user)


# --- Sign-in --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignInResult:
    user: User | None
    kind: str  # "ok" | "invalid" | "locked" | "unconfirmed"
    message: str = ""
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


_DUMMY_HASH: str | None = None


def _find_account(identifier: str) -> User | None:
    ident = (identifier or "").strip()
    if not ident or len(ident) > EMAIL_MAX_LENGTH:
        return None
    if "@" in ident:
        return User.objects.filter(email__iexact=ident).first()
    return User.objects.filter(curp=curp_module.normalize(ident)).first()


def lock_message(until: datetime, now: datetime | None = None) -> str:
    local = timezone.localtime(until)
    minutes = max(1, round((until - (now or timezone.now())).total_seconds() / 60))
    return _(
        "Por seguridad bloqueamos la entrada después de varios intentos fallidos. "
        "Vuelve a intentarlo después de las %(time)s (en unos %(minutes)d minutos)."
    ) % {"time": local.strftime("%H:%M"), "minutes": minutes}


def sign_in(identifier: str, password: str, *, ip: str | None, request: HttpRequest | None = None,
            now: datetime | None = None) -> SignInResult:
    """Checks e-mail-or-CURP and password with lockout. Does not start the session (the view
    calls django.contrib.auth.login on success)."""
    global _DUMMY_HASH
    now = now or timezone.now()
    ident = lockout.normalize_identifier(identifier)
    lock = lockout.status(ident, ip, now=now)
    if lock.locked:
        record("identity.login_refused_locked", request=request, data={"until": lock.until.isoformat()})
        return SignInResult(None, "locked", lock_message(lock.until, now), lock.until)

    user = _find_account(identifier)
    password = (password or "")[:PASSWORD_MAX_LENGTH * 4]
    if user is None:
        # Spend the same time as a real check so response time does not reveal accounts.
        if _DUMMY_HASH is None:
            _DUMMY_HASH = make_password(secrets.token_urlsafe(12))
        User(password=_DUMMY_HASH).check_password(password)
        good = False
    else:
        good = user.is_active and user.check_password(password)

    if not good:
        lock = lockout.register_failure(ident, ip, now=now)
        record(
            "identity.login_failed", subject=user, request=request,
            data={"identifier_kind": "email" if "@" in ident else "curp", "known_account": user is not None,
                  "locked": lock.locked},
        )
        if lock.locked:
            return SignInResult(None, "locked", lock_message(lock.until, now), lock.until)
        return SignInResult(None, "invalid", _("El correo o la CURP, o la contraseña, no son correctos."))

    lockout.register_success(ident)
    if not user.is_official and user.email_confirmed_at is None:
        return SignInResult(user, "unconfirmed", _(
            "Antes de entrar confirma tu correo electrónico con el enlace que te enviamos."))
    return SignInResult(user, "ok")


# --- Second factor ----------------------------------------------------------------------------

def otp_locked(user: User, *, now: datetime | None = None) -> lockout.LockStatus:
    return lockout.status(str(user.pk), None, now=now, scope_override=lockout.Scope.OTP)


def check_otp(user: User, token: str, *, device=None, request: HttpRequest | None = None,
              now: datetime | None = None):
    """Verifies a TOTP code against `device` (enrolment) or any confirmed device of the user.
    Returns the device on success, None otherwise; failures count towards a lock."""
    from django_otp import match_token

    token = re.sub(r"\s", "", token or "")[:12]
    if otp_locked(user, now=now).locked:
        return None
    matched = None
    if re.fullmatch(r"\d{6,8}", token):
        if device is not None:
            matched = device if device.verify_token(token) else None
        else:
            matched = match_token(user, token)
    if matched is None:
        lockout.register_failure(str(user.pk), None, now=now, scope_override=lockout.Scope.OTP)
        record("identity.otp_failed", actor=user, subject=user, request=request)
        return None
    lockout.register_success(str(user.pk), scope_override=lockout.Scope.OTP)
    return matched


def pending_totp_device(user: User):
    """The unconfirmed device an official is enrolling (created on first visit)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Aplicación autenticadora"), confirmed=False)
    return device


def has_confirmed_totp(user: User) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def confirm_totp_enrolment(user: User, device, token: str, *, request: HttpRequest | None = None):
    matched = check_otp(user, token, device=device, request=request)
    if matched is None:
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record("identity.otp_enrolled", actor=user, subject=user, request=request)
    return device


# --- Officials -------------------------------------------------------------------------------

Grant = tuple[int, str]  # (department id, role)


def _require_platform_admin(actor: User) -> None:
    if not has_role(actor, Role.PLATFORM_ADMIN):
        raise ServiceError(_("Solo un administrador de la plataforma puede hacer esto."), code="forbidden")


def _clean_grants(grants: Iterable[Grant]) -> set[Grant]:
    from ventanilla.organization import selectors as org_selectors

    clean: set[Grant] = set()
    valid_roles = set(Role.values)
    dept_ids = set(org_selectors.all_departments().values_list("id", flat=True))
    for dept_id, role in grants:
        if role not in valid_roles or int(dept_id) not in dept_ids:
            raise ServiceError(_("Uno de los roles elegidos no existe."), field="grants")
        clean.add((int(dept_id), role))
    return clean


def grants_of(official: User) -> set[Grant]:
    return set(Membership.objects.filter(user=official).values_list("department_id", "role"))


def set_official_roles(actor: User, official: User, grants: Iterable[Grant], *,
                       request: HttpRequest | None = None) -> tuple[set[Grant], set[Grant]]:
    """Makes the official's memberships exactly `grants`; audits each change
    (`identity.role_change`). Returns (added, removed)."""
    _require_platform_admin(actor)
    wanted = _clean_grants(grants)
    if official.pk == actor.pk and not any(r == Role.PLATFORM_ADMIN for _d, r in wanted):
        raise ServiceError(_("No puedes quitarte a ti mismo el rol de administrador de la plataforma."),
                           field="grants")
    with transaction.atomic():
        current = grants_of(official)
        added, removed = wanted - current, current - wanted
        for dept_id, role in sorted(added):
            Membership.objects.create(user=official, department_id=dept_id, role=role, granted_by=actor)
        for dept_id, role in sorted(removed):
            Membership.objects.filter(user=official, department_id=dept_id, role=role).delete()
        record_role_changes(actor, official, added, removed, request=request)
    return added, removed


def record_role_changes(actor: User | None, official: User, added: set[Grant], removed: set[Grant], *,
                        request: HttpRequest | None = None) -> None:
    if not added and not removed:
        return
    record(
        "identity.role_change", actor=actor, subject=official, request=request,
        data={"added": [[d, r] for d, r in sorted(added)], "removed": [[d, r] for d, r in sorted(removed)]},
    )


@dataclass
class OfficialData:
    email: str
    given_names: str
    first_surname: str
    second_surname: str = ""


def create_official(actor: User, data: OfficialData, grants: Iterable[Grant], *,
                    request: HttpRequest | None = None) -> User:
    """Creates an official (no usable password yet) and e-mails a link to set one. Their first
    sign-in will ask them to enrol a TOTP authenticator."""
    _require_platform_admin(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, fn in (
        ("email", lambda: clean_email(data.email)),
        ("given_names", lambda: clean_name(data.given_names, label=_("el nombre o nombres"))),
        ("first_surname", lambda: clean_name(data.first_surname, label=_("el primer apellido"))),
        ("second_surname", lambda: clean_name(data.second_surname, label=_("el segundo apellido"), required=False)),
    ):
        try:
            values[name] = fn()
        except ServiceError as exc:
            errors.setdefault(name, []).append(exc.message)
    grants = list(grants)
    clean_grants: set[Grant] = set()
    if not grants:
        errors.setdefault("grants", []).append(_("Elige al menos un rol en una dependencia."))
    else:
        try:
            clean_grants = _clean_grants(grants)
        except ServiceError as exc:
            errors.setdefault("grants", []).append(exc.message)
    if "email" in values and User.objects.filter(email__iexact=values["email"]).exists():
        errors.setdefault("email", []).append(_("Ya existe una cuenta con este correo electrónico."))
    if errors:
        raise FieldErrors(errors)
    try:
        with transaction.atomic():
            official = User.objects.create_user(
                password=secrets.token_urlsafe(32), is_official=True,
                email_confirmed_at=timezone.now(), **values,
            )
            record("identity.official_created", actor=actor, subject=official, request=request)
            for dept_id, role in sorted(clean_grants):
                Membership.objects.create(user=official, department_id=dept_id, role=role, granted_by=actor)
            record_role_changes(actor, official, clean_grants, set(), request=request)
    except IntegrityError as exc:
        raise FieldErrors({"email": [_("Ya existe una cuenta con este correo electrónico.")]}) from exc
    send_password_setup_email(official)
    return official


def send_password_setup_email(user: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = settings.SITE_URL + reverse("identity:password_reset_confirm", args=[uid, token])
    send_mail(
        subject=_("Tu cuenta de servidor público en Ventanilla"),
        message=render_to_string("identity/email/official_welcome.txt", {"user": user, "url": url, "city": settings.CITY}),
        from_email=None,
        recipient_list=[user.email],
    )


def deactivate_official(actor: User, official: User, *, request: HttpRequest | None = None) -> User:
    _require_platform_admin(actor)
    if official.pk == actor.pk:
        raise ServiceError(_("No puedes desactivar tu propia cuenta."))
    if not official.is_official:
        raise ServiceError(_("Esta cuenta no es de un servidor público."))
    with transaction.atomic():
        official.is_active = False
        official.save(update_fields=["is_active"])
        from .oidc_services import revoke_all_access

        revoke_all_access(official, actor=actor, request=request)
        removed = grants_of(official)
        Membership.objects.filter(user=official).delete()
        record("identity.official_deactivated", actor=actor, subject=official, request=request)
        record_role_changes(actor, official, set(), removed, request=request)
    return official


# --- Officials reading residents' data ---------------------------------------------------------

RESIDENT_FIELDS: dict[str, str] = {
    "curp": gettext_noop("CURP"),
    "nombre": gettext_noop("Nombre"),
    "fecha_nacimiento": gettext_noop("Fecha de nacimiento"),
    "correo": gettext_noop("Correo electrónico"),
    "telefono": gettext_noop("Teléfono celular"),
    "nivel": gettext_noop("Nivel de la cuenta"),
}

VERIFICATION_DOCUMENTS: dict[str, str] = {
    "ine": gettext_noop("Credencial para votar (INE)"),
    "pasaporte": gettext_noop("Pasaporte mexicano"),
    "cedula": gettext_noop("Cédula profesional"),
    "cartilla": gettext_noop("Cartilla del Servicio Militar"),
    "matricula": gettext_noop("Matrícula consular"),
    "licencia": gettext_noop("Licencia de conducir"),
}


def field_label(key: str) -> str:
    return _(RESIDENT_FIELDS.get(key, key))


@dataclass(frozen=True)
class ResidentRecord:
    resident: User
    access: PersonalDataAccess
    data: dict[str, str]  # field key -> value, only the fields asked for

    def rows(self) -> list[tuple[str, str]]:
        return [(field_label(k), v) for k, v in self.data.items()]


class ResidentNotFound(ServiceError):
    pass


def _resident_value(resident: User, key: str) -> str:
    if key == "curp":
        return resident.curp or ""
    if key == "nombre":
        return resident.full_name
    if key == "fecha_nacimiento":
        try:
            return curp_module.parse(resident.curp or "").birth_date.strftime("%d/%m/%Y")
        except curp_module.CurpError:
            return ""
    if key == "correo":
        return resident.email
    if key == "telefono":
        return resident.phone
    if key == "nivel":
        return str(Level(resident.level).label)
    return ""


def open_resident_record(
    official: User,
    curp: str,
    purpose: str,
    case_reference: str = "",
    fields: Iterable[str] | None = None,
    *,
    department=None,
    request: HttpRequest | None = None,
) -> ResidentRecord:
    """THE way an official reads a resident's personal data. Every module calls this: it
    records who read what, when and why (PersonalDataAccess, shown to the resident in
    "Mis datos") and appends `identity.personal_data_read` to the audit log.

    The caller is responsible for checking that the official's role allows the read; this function
    refuses anyone who is not an active official. Raises ServiceError / ResidentNotFound."""
    if not (getattr(official, "is_authenticated", False) and official.is_official and official.is_active):
        raise ServiceError(_("Solo un servidor público puede consultar datos de residentes."), code="forbidden")
    with _errors_on("curp"):
        parsed = clean_curp(curp)
    with _errors_on("purpose"):
        purpose_text = clean_text(purpose, label=_("el motivo de la consulta"), max_length=PURPOSE_MAX_LENGTH,
                                  min_length=5)
    with _errors_on("case_reference"):
        reference = clean_text(case_reference, label=_("el expediente o folio"),
                               max_length=CASE_REFERENCE_MAX_LENGTH, required=False)
    keys = list(dict.fromkeys(fields)) if fields is not None else list(RESIDENT_FIELDS)
    if not keys or any(k not in RESIDENT_FIELDS for k in keys):
        raise ServiceError(_("Elige qué datos necesitas consultar."), field="fields")
    resident = User.objects.filter(curp=parsed.value).first()
    if resident is None:
        raise ResidentNotFound(_("No hay ninguna cuenta con esta CURP."), field="curp", code="not_found")
    if resident.pk == official.pk:
        raise ServiceError(_("Consulta tus propios datos en «Mis datos»."), field="curp")
    access = _record_read(official, resident, keys, purpose_text, reference, department=department, request=request)
    return ResidentRecord(resident=resident, access=access, data={k: _resident_value(resident, k) for k in keys})


def record_resident_read(
    official: User,
    resident: User,
    purpose: str,
    case_reference: str = "",
    fields: Iterable[str] = ("nombre",),
    *,
    department=None,
    request: HttpRequest | None = None,
) -> PersonalDataAccess:
    """Records that an official is shown a resident's personal data a module already holds
    (a case page, a document of a request), with its purpose: the same entry in "Mis datos" and
    the audit log as `open_resident_record`, for a resident known by account rather than by CURP.
    The caller has checked the official may see it; raises ServiceError for anyone who is not an
    active official, so the caller shows nothing it could not record."""
    if not (getattr(official, "is_authenticated", False) and official.is_official and official.is_active):
        raise ServiceError(_("Solo un servidor público puede consultar datos de residentes."), code="forbidden")
    keys = list(dict.fromkeys(fields))
    if not keys or any(k not in RESIDENT_FIELDS for k in keys):
        raise ServiceError(_("Elige qué datos necesitas consultar."), field="fields")
    purpose_text = " ".join(str(purpose).split())[:PURPOSE_MAX_LENGTH]
    reference = " ".join(str(case_reference).split())[:CASE_REFERENCE_MAX_LENGTH]
    return _record_read(official, resident, keys, purpose_text, reference, department=department, request=request)


def _record_read(official: User, resident: User, keys: list[str], purpose: str, reference: str, *,
                 department, request: HttpRequest | None) -> PersonalDataAccess:
    if department is None:
        membership = Membership.objects.filter(user=official).select_related("department").order_by("id").first()
        department = membership.department if membership else None
    with transaction.atomic():
        access = PersonalDataAccess.objects.create(
            resident=resident, official=official, department=department, fields=keys,
            purpose=purpose, case_reference=reference,
        )
        record(
            "identity.personal_data_read", actor=official, subject=resident, request=request,
            data={"access_id": access.pk, "fields": keys, "purpose": purpose, "case_reference": reference,
                  "department": department.slug if department else None},
        )
    return access


def verify_resident(official: User, resident: User, document: str, *, request: HttpRequest | None = None,
                    now: datetime | None = None) -> User:
    """A counter clerk saw the resident and an official ID: the account becomes *verificada*.
    The clerk must have opened the resident's record (open_resident_record) shortly before."""
    now = now or timezone.now()
    if not has_role(official, Role.COUNTER_CLERK):
        raise ServiceError(_("Solo el personal de ventanilla puede verificar cuentas."), code="forbidden")
    if document not in VERIFICATION_DOCUMENTS:
        raise ServiceError(_("Elige el documento de identidad que revisaste."), field="document")
    if resident.pk == official.pk:
        raise ServiceError(_("No puedes verificar tu propia cuenta."))
    opened = PersonalDataAccess.objects.filter(
        official=official, resident=resident, accessed_at__gte=now - VERIFICATION_WINDOW
    ).exists()
    if not opened:
        raise ServiceError(_("Primero consulta los datos de la persona con su CURP y el motivo."), code="not_opened")
    with transaction.atomic():
        resident = User.objects.select_for_update().get(pk=resident.pk)
        resident.level = Level.VERIFIED
        resident.verified_at = now
        resident.verified_by = official
        resident.verification_document = document
        resident.save(update_fields=["level", "verified_at", "verified_by", "verification_document"])
        record("identity.level_verified", actor=official, subject=resident, request=request,
               data={"document": document, "level": Level.VERIFIED})
    return resident


# --- Consents ------------------------------------------------------------------------------

def revoke_consent(resident: User, consent_id: int, *, request: HttpRequest | None = None,
                   now: datetime | None = None) -> Consent:
    """The resident withdraws one of THEIR consents. Raises Consent.DoesNotExist for any other.
    For an application connected through Llave, its tokens are revoked too (oidc_services)."""
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent_id, resident=resident)
        if consent.revoked_at is not None:
            return consent
        is_app = consent.grantee_kind == Consent.GranteeKind.APPLICATION and consent.application_id is not None
        if is_app and _revoke_application_access(consent, resident, request):
            consent.refresh_from_db()
            return consent  # oidc_services revoked it, its tokens, and audited it
        consent.revoked_at = now or timezone.now()
        consent.save(update_fields=["revoked_at"])
        record("identity.consent_revoked", actor=resident, subject=consent, request=request,
               data={"grantee": consent.grantee_label, "scope": consent.scope})
    return consent


def _revoke_application_access(consent: Consent, resident: User, request: HttpRequest | None) -> bool:
    """Lets the OpenID Connect module withdraw the application's tokens. False when that module
    is not installed (the consent is then revoked here like any other)."""
    try:
        from ventanilla.identity.oidc_services import revoke_application_access
    except ModuleNotFoundError as exc:
        if exc.name != "ventanilla.identity.oidc_services":
            raise
        return False
    revoke_application_access(consent, actor=resident, request=request)
    return True
