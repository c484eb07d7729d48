"""The resident's documents, encrypted at rest inside the database (files.crypto).

The bytes live in the row (BinaryField), never on disk: a rolled-back transaction leaves nothing
behind, and a database backup carries only ciphertext."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    UPLOADED = "uploaded", _("Lo subiste tú")
    ISSUED = "issued", _("Lo expidió el municipio")


class ResidentDocument(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident_documents")
    # A catalogue DocumentType.code, or "" for "other".
    document_type = models.CharField(_("tipo de documento"), max_length=40, blank=True)
    title = models.CharField(_("nombre"), max_length=200)
    filename = models.CharField(_("archivo"), max_length=120)
    mime = models.CharField(max_length=60)
    size = models.PositiveIntegerField(_("tamaño"))
    sha256 = models.CharField(max_length=64)
    # Envelope encryption: the content under a per-document key, wrapped by master key `key_id`.
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    content = models.BinaryField()
    source = models.CharField(_("origen"), max_length=10, choices=Source.choices, default=Source.UPLOADED)
    issued_document = models.UUIDField(_("documento expedido"), null=True, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("documento del expediente")
        verbose_name_plural = _("documentos del expediente")
        indexes = [models.Index(fields=["owner", "-created_at"], name="resident_document_owner_idx")]
        constraints = [
            models.UniqueConstraint(fields=["issued_document"], condition=Q(issued_document__isnull=False),
                                    name="resident_document_unique_issued"),
            models.CheckConstraint(condition=Q(source__in=["uploaded", "issued"]), name="resident_document_source"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_uploaded(self) -> bool:
        return self.source == Source.UPLOADED
