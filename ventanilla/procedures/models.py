import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NonWorkingDay(models.Model):
    """A day the city declares non-working (días inhábiles): legal deadlines skip it.

    The statutory holidays of the Ley Federal del Trabajo are computed in
    `ventanilla.procedures.calendar`; only the city's own declarations live here.
    """

    date = models.DateField(_("fecha"), unique=True)
    reason = models.CharField(
        _("motivo"),
        max_length=200,
        help_text=_("Por ejemplo: acuerdo de Cabildo que declara el día inhábil."),
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declarado por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registrado"), auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("día inhábil")
        verbose_name_plural = _("días inhábiles")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} — {self.reason}"


class Channel(models.TextChoices):
    ONLINE = "online", _("En línea")
    COUNTER = "counter", _("Presencial (ventanilla)")
    KIOSK = "kiosk", _("Kiosco")


class Definition(models.Model):
    """How a catalogue procedure is filed online: its form, documents, review steps, fee mapping
    and resulting document. Edited as a draft `spec`; publishing freezes it as a new
    `DefinitionVersion`. A request keeps the version it was filed under.

    The `spec` format is described and validated in `ventanilla.procedures.spec`."""

    procedure = models.OneToOneField(
        "catalog.Procedure", on_delete=models.PROTECT, related_name="online_definition",
        verbose_name=_("trámite"),
    )
    draft_spec = models.JSONField(_("borrador"), default=dict)
    published_version = models.ForeignKey(
        "DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("versión publicada"),
    )
    is_active = models.BooleanField(_("recibe solicitudes"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("trámite en línea")
        verbose_name_plural = _("trámites en línea")

    def __str__(self) -> str:
        return str(self.procedure)


class DefinitionVersion(models.Model):
    definition = models.ForeignKey(Definition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("versión"))
    spec = models.JSONField(_("definición"))
    published_at = models.DateTimeField(_("publicada"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("nota"), max_length=300, blank=True)

    class Meta:
        ordering = ["definition", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="definition_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.definition} v{self.number}"


class Status(models.TextChoices):
    DRAFT = "draft", _("Borrador")
    IN_REVIEW = "in_review", _("En revisión")
    CORRECTION = "correction", _("Prevención: falta información")
    AWAITING_PAYMENT = "awaiting_payment", _("Aprobada: pendiente de pago")
    APPROVED = "approved", _("Resuelta: aprobada")
    REJECTED = "rejected", _("Resuelta: negada")
    APPROVED_FICTA = "approved_ficta", _("Aprobada por afirmativa ficta")
    DENIED_FICTA = "denied_ficta", _("Negada por negativa ficta")
    DISCARDED = "discarded", _("Desechada: prevención sin respuesta")
    EXPIRED = "expired", _("Borrador vencido")


OPEN_STATUSES = (Status.IN_REVIEW, Status.CORRECTION)
FINAL_STATUSES = (
    Status.APPROVED, Status.REJECTED, Status.APPROVED_FICTA, Status.DENIED_FICTA,
    Status.DISCARDED, Status.EXPIRED,
)


class Request(models.Model):
    """A resident's request (solicitud) for an online procedure, from draft to resolution.

    Every change goes through `ventanilla.procedures.services`, which bumps `revision` with a
    conditional UPDATE so two officials acting at once cannot both succeed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    folio = models.CharField(_("folio"), max_length=32, unique=True, null=True, blank=True)
    version = models.ForeignKey(
        DefinitionVersion, on_delete=models.PROTECT, related_name="requests", verbose_name=_("versión del trámite")
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", on_delete=models.PROTECT, related_name="+", verbose_name=_("trámite")
    )
    department = models.ForeignKey(
        "organization.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("dependencia")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="procedure_requests",
        verbose_name=_("solicitante"),
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("capturada por"),
    )
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(_("estado"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    answers = models.JSONField(_("respuestas"), default=dict, blank=True)
    current_page = models.CharField(_("página actual"), max_length=60, blank=True)
    fee_centavos = models.PositiveBigIntegerField(_("derechos (centavos)"), null=True, blank=True)
    payment_order = models.UUIDField(_("orden de pago"), null=True, blank=True)
    resolution_document = models.UUIDField(_("documento de resolución"), null=True, blank=True)
    resolution_text = models.TextField(_("fundamentos de la resolución"), blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("asignada a"),
    )
    created_at = models.DateTimeField(_("iniciada"), default=timezone.now)
    updated_at = models.DateTimeField(_("actualizada"), auto_now=True)
    draft_expires_at = models.DateTimeField(_("el borrador vence"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("presentada"), null=True, blank=True)
    due_date = models.DateField(_("fecha límite de respuesta"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resuelta"), null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("solicitud")
        verbose_name_plural = _("solicitudes")
        indexes = [
            models.Index(fields=["department", "status", "due_date", "id"], name="request_queue_idx"),
            models.Index(fields=["department", "due_date", "id"], name="request_filed_queue_idx",
                         condition=models.Q(submitted_at__isnull=False)),
            models.Index(fields=["applicant", "-created_at"], name="request_applicant_idx"),
            models.Index(fields=["status", "due_date"], name="request_deadline_idx"),
            models.Index(fields=["status", "draft_expires_at"], name="request_draft_expiry_idx"),
            models.Index(fields=["procedure", "channel", "status"], name="request_metrics_idx"),
        ]

    def __str__(self) -> str:
        return self.folio or str(self.public_id)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("En espera")
    ACTIVE = "active", _("En revisión")
    APPROVED = "approved", _("Aprobado")
    REJECTED = "rejected", _("Negado")


class RequestStep(models.Model):
    """One review step of a request, copied from the version's spec at submission. A step
    becomes active when every step it comes `after` is approved; steps with the same
    predecessors run in parallel."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=40)
    name = models.CharField(_("paso"), max_length=200)
    # No index of its own: request_step_queue_idx (department, status) starts with it.
    department = models.ForeignKey("organization.Department", on_delete=models.PROTECT, related_name="+",
                                   db_index=False)
    role = models.CharField(_("rol"), max_length=32)
    after = models.JSONField(default=list, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING)
    activated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["request", "order"]
        constraints = [models.UniqueConstraint(fields=["request", "key"], name="request_step_unique_key")]
        indexes = [models.Index(fields=["department", "status"], name="request_step_queue_idx")]


class DocumentSource(models.TextChoices):
    UPLOADED = "uploaded", _("Subido con la solicitud")
    FILE = "file", _("Tomado de Mi expediente")
    CITY = "city", _("Lo tiene el municipio")


class RequestDocument(models.Model):
    """A document attached to a request. The bytes live in the resident's file
    (`ventanilla.files`), referenced by its public id."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="documents")
    key = models.CharField(max_length=40)
    file_document = models.UUIDField(_("documento del expediente"))
    source = models.CharField(max_length=10, choices=DocumentSource.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "key"]
        constraints = [models.UniqueConstraint(fields=["request", "key"], name="request_document_unique_key")]


class Correction(models.Model):
    """A correction request (prevención, LFPA art. 17-A): it suspends the response clock from
    `requested_at` until `answered_at`. Unanswered by `due_date`, the request is discarded."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="corrections")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("qué falta o debe corregirse"))
    requested_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField(_("fecha límite para responder"))
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_text = models.TextField(_("respuesta"), blank=True)

    class Meta:
        ordering = ["request", "requested_at"]


class EventKind(models.TextChoices):
    CREATED = "created", _("Borrador iniciado")
    SUBMITTED = "submitted", _("Solicitud presentada")
    STEP_APPROVED = "step_approved", _("Paso aprobado")
    CORRECTION_REQUESTED = "correction_requested", _("Prevención")
    CORRECTION_ANSWERED = "correction_answered", _("Prevención atendida")
    APPROVED = "approved", _("Aprobada")
    REJECTED = "rejected", _("Negada")
    PAYMENT_REQUESTED = "payment_requested", _("Pago solicitado")
    PAID = "paid", _("Pago recibido")
    RESOLVED = "resolved", _("Resolución emitida")
    FICTA = "ficta", _("Ficta aplicada")
    DISCARDED = "discarded", _("Desechada")
    EXPIRED = "expired", _("Borrador vencido")
    ASSIGNED = "assigned", _("Asignada")
    NOTE = "note", _("Nota interna")
    MESSAGE = "message", _("Mensaje")


class RequestEvent(models.Model):
    """The history of a request. `internal` events (notes, assignments) are never shown to the
    resident; messages between the resident and officials are events of kind MESSAGE."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    internal = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["request", "at", "pk"]
        indexes = [models.Index(fields=["kind", "at"], name="request_event_kind_idx")]


class DeadlineAction(models.Model):
    """A legal-deadline rule applied to a request: at most one row per (request, rule). The row is
    written in the same transaction as the state change, so a rule is applied exactly once."""

    class Rule(models.TextChoices):
        AFIRMATIVA_FICTA = "afirmativa_ficta", _("Afirmativa ficta")
        NEGATIVA_FICTA = "negativa_ficta", _("Negativa ficta")
        CORRECTION_EXPIRED = "correction_expired", _("Prevención sin respuesta")
        DRAFT_EXPIRED = "draft_expired", _("Borrador vencido")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="deadline_actions")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "rule"], name="deadline_action_once")]


class FormPageEvent(models.Model):
    """Measurement: a resident reached (`viewed`) or finished (`completed`) a page of the form.
    Abandonment at a page = drafts whose last viewed page it is and that never got submitted."""

    class Kind(models.TextChoices):
        VIEWED = "viewed", _("vista")
        COMPLETED = "completed", _("completada")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="page_events")
    page = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["request", "page"], name="form_page_event_idx")]
