"""Documents the city issues (acuses, resolutions, certificates, receipts...): the signed PDF is
kept in the database itself, so the caller's transaction covers it and a rollback leaves nothing."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ACUSE = "acuse", _("Acuse de recibo")
    RESOLUTION = "resolution", _("Resolución")
    CERTIFICATE = "certificate", _("Constancia")
    FICTA_CERTIFICATE = "ficta_certificate", _("Certificación de afirmativa ficta")
    DENIAL_NOTICE = "denial_notice", _("Aviso de negativa")
    RECEIPT = "receipt", _("Recibo de pago")


class IssuedDocument(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("tipo"), max_length=32, choices=Kind.choices)
    folio = models.CharField(_("folio"), max_length=64, db_index=True)
    title = models.CharField(_("título"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="issued_documents",
        verbose_name=_("titular"),
    )
    # [[label, value], ...] as printed on the document and shown on the verification page.
    fields = models.JSONField(_("datos"), default=list)
    paragraphs = models.JSONField(_("texto"), default=list)
    pdf = models.BinaryField(_("PDF firmado"))
    sha256 = models.CharField(_("huella SHA-256"), max_length=64)
    issued_at = models.DateTimeField(_("emitido el"))
    source_ref = models.CharField(_("origen"), max_length=200, blank=True, default="")
    revoked_at = models.DateTimeField(_("revocado el"), null=True, blank=True)
    revoked_reason = models.CharField(_("motivo de la revocación"), max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("revocado por"),
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("documento emitido")
        verbose_name_plural = _("documentos emitidos")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_ref"], condition=~Q(source_ref=""), name="documents_unique_source",
            )
        ]
        indexes = [models.Index(fields=["owner", "-issued_at"], name="documents_owner_issued")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.folio}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
