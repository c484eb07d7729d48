"""Llave: one account per resident, officials with departments and roles, and the records that
let a resident see who opened their data and what they consented to."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    BASIC = "basica", _("Básica")
    VERIFIED = "verificada", _("Verificada")


class Role(models.TextChoices):
    REVIEWER = "reviewer", _("Revisor")
    COUNTER_CLERK = "counter_clerk", _("Ventanilla (atención presencial)")
    CATALOG_EDITOR = "catalog_editor", _("Editor del catálogo")
    DEPARTMENT_ADMIN = "department_admin", _("Administrador de dependencia")
    PLATFORM_ADMIN = "platform_admin", _("Administrador de la plataforma")
    DATA_PUBLISHER = "data_publisher", _("Publicador de datos")
    ANALYST = "analyst", _("Analista")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True, is_official=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("correo electrónico"), max_length=254, unique=True)
    curp = models.CharField(_("CURP"), max_length=18, unique=True, null=True, blank=True)
    given_names = models.CharField(_("nombre(s)"), max_length=120)
    first_surname = models.CharField(_("primer apellido"), max_length=120)
    second_surname = models.CharField(_("segundo apellido"), max_length=120, blank=True)
    phone = models.CharField(_("teléfono celular"), max_length=15, blank=True)
    email_confirmed_at = models.DateTimeField(_("correo confirmado"), null=True, blank=True)
    level = models.CharField(_("nivel"), max_length=12, choices=Level.choices, default=Level.BASIC)
    verified_at = models.DateTimeField(_("verificada el"), null=True, blank=True)
    verified_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("verificada por")
    )
    verification_document = models.CharField(_("documento revisado"), max_length=60, blank=True)
    is_official = models.BooleanField(_("servidor público"), default=False)
    is_staff = models.BooleanField(_("acceso a la administración"), default=False)
    is_active = models.BooleanField(_("activa"), default=True)
    date_joined = models.DateTimeField(_("alta"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["given_names", "first_surname"]

    class Meta:
        verbose_name = _("cuenta")
        verbose_name_plural = _("cuentas")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)

    @property
    def audit_label(self) -> str:
        kind = "servidor" if self.is_official else "ciudadano"
        return f"{kind}:{self.public_id}"

    @property
    def is_verified_level(self) -> bool:
        return self.level == Level.VERIFIED


class Membership(models.Model):
    """An official's role in a department. One official may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey("organization.Department", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rol"), max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("rol en dependencia")
        verbose_name_plural = _("roles en dependencias")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="membership_unique_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.department}"


class PersonalDataAccess(models.Model):
    """Every time an official opens a resident's personal data: who, when, what and why."""

    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_accesses")
    official = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_reads")
    department = models.ForeignKey("organization.Department", null=True, blank=True, on_delete=models.SET_NULL)
    accessed_at = models.DateTimeField(default=timezone.now, db_index=True)
    fields = models.JSONField(_("datos consultados"), default=list)
    purpose = models.CharField(_("motivo"), max_length=300)
    case_reference = models.CharField(_("expediente o folio"), max_length=64, blank=True)

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name = _("consulta de datos personales")
        verbose_name_plural = _("consultas de datos personales")


class Consent(models.Model):
    """A permission the resident gave: to a department (e.g. to reuse a document) or to an
    application connected through Llave (OpenID Connect). Revocable at any time."""

    class GranteeKind(models.TextChoices):
        DEPARTMENT = "department", _("Dependencia")
        APPLICATION = "application", _("Aplicación")

    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    grantee_kind = models.CharField(max_length=16, choices=GranteeKind.choices)
    grantee_label = models.CharField(_("a quién"), max_length=200)
    department = models.ForeignKey("organization.Department", null=True, blank=True, on_delete=models.CASCADE)
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True, blank=True, on_delete=models.CASCADE,
    )
    scope = models.CharField(_("qué datos"), max_length=200)
    purpose = models.CharField(_("para qué"), max_length=300)
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = _("consentimiento")
        verbose_name_plural = _("consentimientos")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginThrottle(models.Model):
    """Failed sign-in attempts for one account identifier or one IP address (identity.lockout).
    Kept in the database so every web worker sees the same state. `key` is a SHA-256 digest: the
    table never stores an e-mail, a CURP or an address in clear."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Cuenta")
        IP = "ip", _("Dirección IP")
        OTP = "otp", _("Segundo factor")

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bloqueo de acceso")
        verbose_name_plural = _("bloqueos de acceso")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="login_throttle_unique_key")]


class SendCounter(models.Model):
    """How many messages of one kind (a confirmation link, a password reset, a sign-up) were
    asked for one e-mail address or from one IP address in the current window
    (identity.send_limits). Kept in the database so every web worker counts the same; `key` is a
    SHA-256 digest, never the address in clear."""

    kind = models.CharField(max_length=16)
    key = models.CharField(max_length=64)
    window_started_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("límite de envíos")
        verbose_name_plural = _("límites de envíos")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="send_counter_unique_key")]
