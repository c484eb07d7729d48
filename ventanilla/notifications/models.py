"""The resident's inbox of notices (avisos): one row per notice, e-mailed once after commit."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(_("asunto"), max_length=200)
    body = models.TextField(_("mensaje"))
    # A path on this site ("/tramites/…"), shown as a link and made absolute in the e-mail.
    url = models.CharField(_("enlace"), max_length=500, blank=True)
    # Non-empty: at most one notification per key (callers name the event, e.g. "procedures.approved:<id>").
    key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    read_at = models.DateTimeField(_("leído"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("enviado por correo"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("aviso")
        verbose_name_plural = _("avisos")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
                   models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx")]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="notification_unique_key"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
