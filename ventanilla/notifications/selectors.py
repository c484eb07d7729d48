"""Read-only access to notifications: always through the recipient."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from .models import Notification


def notifications_of(user) -> QuerySet[Notification]:
    if not getattr(user, "pk", None):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def notification_of(user, public_id) -> Notification | None:
    """The notification if it was sent to `user`; None otherwise (or for a malformed id)."""
    try:
        pid = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except (TypeError, ValueError, AttributeError):
        return None
    return notifications_of(user).filter(public_id=pid).first()


def unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()
