"""Telling a resident something: an inbox row now and an e-mail job, both in the caller's
transaction; a worker sends the e-mail once that transaction commits (`jobs.py`). Nothing is
e-mailed for a rolled-back change, and no request waits for a mail server."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import Notification

logger = logging.getLogger(__name__)

SUBJECT_MAX_LENGTH = 200
URL_MAX_LENGTH = 500
KEY_MAX_LENGTH = 200


def _clean_url(url: str) -> str:
    """A path on this site, or an absolute URL under SITE_URL (kept as its path)."""
    url = (url or "").strip()
    if not url:
        return ""
    if url.startswith(settings.SITE_URL + "/"):
        url = url[len(settings.SITE_URL):]
    if not url.startswith("/") or url.startswith("//") or "\\" in url or any(ord(c) < 32 for c in url):
        raise ValueError(f"notify(url=...) must be a path on this site, got {url[:80]!r}")
    if len(url) > URL_MAX_LENGTH:
        raise ValueError("notify(url=...) is too long")
    return url


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path if path else ""


def notify(recipient, *, subject: str, body: str, url: str = "", key: str = "") -> Notification | None:
    """Adds a notice to the recipient's inbox and e-mails it after the current transaction commits.
    With a non-empty `key`, a second call with the same key does nothing and returns None.
    Texts are stored in the platform's language (Spanish) whatever the current request's language."""
    if not getattr(recipient, "pk", None):
        raise ValueError("notify() needs a saved recipient")
    key = (key or "").strip()
    if len(key) > KEY_MAX_LENGTH:
        raise ValueError("notify(key=...) is too long")
    with translation.override(settings.LANGUAGE_CODE):
        subject_text = " ".join(str(subject or "").split())
        body_text = str(body or "").strip()
    if not subject_text or not body_text:
        raise ValueError("notify() needs a subject and a body")
    if len(subject_text) > SUBJECT_MAX_LENGTH:
        subject_text = subject_text[: SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
    path = _clean_url(url)
    fields = {"recipient": recipient, "subject": subject_text, "body": body_text, "url": path, "key": key}
    if key:
        # The unique key decides; no read first (a concurrent transaction may be writing it now).
        try:
            with transaction.atomic():
                notification = Notification.objects.create(**fields)
        except IntegrityError:
            return None
    else:
        notification = Notification.objects.create(**fields)
    from ventanilla.core import jobs

    jobs.enqueue("notifications.email", notification_id=notification.pk)
    return notification


def send_email(notification_id: int, *, raise_errors: bool = False) -> bool:
    """E-mails one notification, once. Returns True when it was sent now. A failing mail server is
    logged and, with `raise_errors` (the job), raised so the job is tried again later; the notice
    is in the inbox anyway and `emailed_at` stays empty until a delivery succeeds."""
    notification = (Notification.objects.select_related("recipient")
                    .filter(pk=notification_id, emailed_at__isnull=True).first())
    if notification is None:
        return False
    recipient = notification.recipient
    if not recipient.email or not recipient.is_active:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        message = render_to_string("notifications/email/notification.txt", {
            "notification": notification,
            "recipient": recipient,
            "url": absolute_url(notification.url),
            "inbox_url": absolute_url(reverse("notifications:inbox")),
            "city": settings.CITY,
        })
    try:
        send_mail(subject=notification.subject, message=message, from_email=None,
                  recipient_list=[recipient.email])
    except Exception:  # SMTP errors of every kind
        logger.exception("notification e-mail failed", extra={"notification": notification.pk})
        if raise_errors:
            raise
        return False
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True


def mark_read(user, notification: Notification, *, now=None) -> Notification:
    if notification.recipient_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def mark_all_read(user, *, now=None) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now or timezone.now())
