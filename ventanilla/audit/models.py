"""The tamper-evident audit log.

Each entry stores the SHA-256 of its own canonical content plus the hash of the entry before it,
so editing, deleting or reordering any entry breaks the chain from that point on. `AuditHead` is
the single row that serialises appends and remembers the last entry (which catches a deleted tail);
the head can also be exported and published elsewhere (`manage.py audit_head`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
    seq = models.BigIntegerField(_("número"), unique=True)
    created_at = models.DateTimeField(_("fecha"))
    action = models.CharField(_("acción"), max_length=64, db_index=True)
    actor_id = models.BigIntegerField(_("actor"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("actor (nombre)"), max_length=200, blank=True)
    subject_type = models.CharField(_("tipo de objeto"), max_length=64, blank=True)
    subject_id = models.CharField(_("objeto"), max_length=64, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    request_id = models.CharField(_("solicitud"), max_length=64, blank=True)
    data = models.JSONField(_("datos"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("entrada de bitácora")
        verbose_name_plural = _("bitácora de auditoría")
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditHead(models.Model):
    """Exactly one row (pk=1): the last appended entry. Locked while appending."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(null=True, blank=True)
