"""The catalogue of procedures (trámites) and services, with the fields Mexican law requires every
procedure to publish (LNETB art. 54; former LGMR art. 46), their version history, the synonyms
that make search understand how people write, and daily usage counts.

Other apps read this catalogue only through `selectors.py` and change it only through
`services.py`."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LifeEvent(models.Model):
    """A situation in a person's life that groups procedures ("Negocios y emprendimiento")."""

    slug = models.SlugField(_("clave"), max_length=64, unique=True)
    name = models.CharField(_("nombre"), max_length=120)
    description = models.TextField(_("descripción"), blank=True)
    order = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("momento de vida")
        verbose_name_plural = _("momentos de vida")

    def __str__(self) -> str:
        return self.name


class DocumentType(models.Model):
    """A kind of document a requirement asks for. `held_by_city` means the municipality issues
    or already keeps it, so it must never be asked for twice."""

    code = models.CharField(_("código"), max_length=40, unique=True)
    name = models.CharField(_("nombre"), max_length=200)
    description = models.TextField(_("descripción"), blank=True)
    held_by_city = models.BooleanField(_("lo tiene el municipio"), default=False)
    issuer = models.CharField(_("quién lo expide"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tipo de documento")
        verbose_name_plural = _("tipos de documento")

    def __str__(self) -> str:
        return self.name


class Procedure(models.Model):
    class Kind(models.TextChoices):
        TRAMITE = "tramite", _("Trámite")
        SERVICIO = "servicio", _("Servicio")

    class Presentation(models.TextChoices):
        FORMATO = "formato", _("Formato")
        ESCRITO_LIBRE = "escrito_libre", _("Escrito libre")
        AMBOS = "ambos", _("Formato o escrito libre")
        EN_LINEA = "en_linea", _("Solicitud en línea")

    class CostKind(models.TextChoices):
        FREE = "free", _("Gratuito")
        FIXED = "fixed", _("Monto fijo")
        RULE = "rule", _("Se calcula con una regla")

    class Ficta(models.TextChoices):
        AFIRMATIVA = "afirmativa", _("Afirmativa ficta")
        NEGATIVA = "negativa", _("Negativa ficta")
        NO_APLICA = "no_aplica", _("No aplica")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Borrador")
        PUBLISHED = "published", _("Publicado")
        WITHDRAWN = "withdrawn", _("Retirado")

    class Payment(models.TextChoices):
        EN_LINEA = "en_linea", _("En línea con tarjeta")
        BANCO = "banco", _("En ventanilla bancaria")
        TIENDA = "tienda", _("En tiendas de conveniencia")
        CAJA = "caja", _("En las cajas de Tesorería")

    clave = models.CharField(_("clave"), max_length=40, unique=True)
    name = models.CharField(_("nombre"), max_length=200)
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices, default=Kind.TRAMITE)
    modality = models.CharField(_("modalidad"), max_length=120, blank=True)
    channel_online = models.BooleanField(_("en línea"), default=False)
    channel_in_person = models.BooleanField(_("presencial"), default=False)
    channel_kiosk = models.BooleanField(_("en kiosco"), default=False)
    presentation = models.CharField(
        _("forma de presentación"), max_length=16, choices=Presentation.choices, blank=True
    )
    legal_basis = models.TextField(_("fundamento jurídico"), blank=True)
    description = models.TextField(_("descripción en lenguaje claro"), blank=True)
    who_may_file = models.TextField(_("quién puede solicitarlo"), blank=True)
    steps = models.JSONField(_("pasos"), default=list, blank=True)
    has_inspection = models.BooleanField(_("requiere inspección"), default=False)
    inspection_objective = models.TextField(_("objetivo de la inspección"), blank=True)
    cost_kind = models.CharField(_("costo"), max_length=8, choices=CostKind.choices, default=CostKind.FREE)
    cost_amount_centavos = models.PositiveBigIntegerField(_("monto (centavos)"), null=True, blank=True)
    cost_description = models.TextField(_("cómo se calcula el costo"), blank=True)
    cost_parameters = models.JSONField(_("datos para calcular el costo"), default=list, blank=True)
    cost_formula = models.CharField(_("fórmula del costo"), max_length=500, blank=True)
    payment_alternatives = models.JSONField(_("formas de pago"), default=list, blank=True)
    response_days = models.PositiveSmallIntegerField(_("plazo de respuesta (días hábiles)"), null=True, blank=True)
    ficta = models.CharField(_("ficta"), max_length=12, choices=Ficta.choices, blank=True)
    prevention_days = models.PositiveSmallIntegerField(_("plazo para prevenir (días hábiles)"), null=True, blank=True)
    correction_days = models.PositiveSmallIntegerField(
        _("plazo para cumplir la prevención (días hábiles)"), null=True, blank=True
    )
    validity = models.CharField(_("vigencia"), max_length=200, blank=True)
    resolution_criteria = models.TextField(_("criterios de resolución"), blank=True)
    offices = models.ManyToManyField(
        "organization.Office", blank=True, related_name="procedures", verbose_name=_("oficinas")
    )
    contact_phone = models.CharField(_("teléfono de contacto"), max_length=40, blank=True)
    contact_email = models.EmailField(_("correo de contacto"), blank=True)
    complaint_channels = models.TextField(_("quejas y denuncias"), blank=True)
    department = models.ForeignKey(
        "organization.Department", on_delete=models.PROTECT, related_name="procedures",
        verbose_name=_("dependencia responsable"),
    )
    requires_appointment = models.BooleanField(_("requiere cita"), default=False)
    keywords = models.JSONField(_("palabras clave"), default=list, blank=True)
    life_events = models.ManyToManyField(
        LifeEvent, blank=True, related_name="procedures", verbose_name=_("momentos de vida")
    )
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    published_at = models.DateTimeField(_("publicado el"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("retirado el"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("motivo del retiro"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "clave"]
        verbose_name = _("trámite o servicio")
        verbose_name_plural = _("trámites y servicios")

    def __str__(self) -> str:
        return f"{self.clave} · {self.name}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_free(self) -> bool:
        return self.cost_kind == self.CostKind.FREE

    @property
    def cost_amount_pesos(self) -> str | None:
        if self.cost_amount_centavos is None:
            return None
        return f"{self.cost_amount_centavos // 100}.{self.cost_amount_centavos % 100:02d}"

    @property
    def channels(self) -> list[str]:
        return [
            name
            for name, on in (("online", self.channel_online), ("in_person", self.channel_in_person),
                             ("kiosk", self.channel_kiosk))
            if on
        ]

    def payment_alternative_labels(self) -> list[str]:
        labels = dict(self.Payment.choices)
        return [str(labels.get(p, p)) for p in self.payment_alternatives]


class Requirement(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="requirements")
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="requirements", verbose_name=_("documento")
    )
    detail = models.TextField(_("detalle"), blank=True)
    original = models.BooleanField(_("original para cotejo"), default=True)
    copies = models.PositiveSmallIntegerField(_("copias"), default=0)
    legal_basis = models.TextField(_("fundamento jurídico del requisito"), blank=True)
    order = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        ordering = ["procedure", "order", "id"]
        verbose_name = _("requisito")
        verbose_name_plural = _("requisitos")

    def __str__(self) -> str:
        return f"{self.document_type.name}"


class ProcedureVersion(models.Model):
    """An immutable snapshot of a procedure after each change made through the services."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("versión"))
    snapshot = models.JSONField(_("contenido"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("autor"),
    )
    created_at = models.DateTimeField(_("fecha"), auto_now_add=True)
    note = models.CharField(_("nota"), max_length=300, blank=True)

    class Meta:
        ordering = ["procedure", "-number"]
        verbose_name = _("versión de trámite")
        verbose_name_plural = _("versiones de trámites")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedure_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.clave} v{self.number}"


class SearchSynonym(models.Model):
    """How people say it → how the catalogue says it ("tiendita" → "licencia de funcionamiento")."""

    term = models.CharField(_("cómo lo dice la gente"), max_length=100, unique=True)
    expansion = models.CharField(_("cómo lo dice el catálogo"), max_length=200)

    class Meta:
        ordering = ["term"]
        verbose_name = _("sinónimo de búsqueda")
        verbose_name_plural = _("sinónimos de búsqueda")

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion}"


class CatalogRevision(models.Model):
    """One row: bumped by every change that alters what search can return. Every web worker
    compares it with the revision of its in-process search index and rebuilds when it differs.
    `token` changes on every bump too, so a rolled-back transaction can never make two
    different catalogues share one revision."""

    number = models.PositiveBigIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("revisión del catálogo")
        verbose_name_plural = _("revisiones del catálogo")


class ProcedureDailyUsage(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="daily_usage")
    date = models.DateField(_("día"))
    views = models.PositiveIntegerField(_("consultas"), default=0)
    starts = models.PositiveIntegerField(_("solicitudes iniciadas"), default=0)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("uso diario")
        verbose_name_plural = _("uso diario")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "date"], name="procedure_usage_unique_day")
        ]
        indexes = [models.Index(fields=["date"], name="catalog_usage_date_idx")]
