from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEntry


def entries_for_subject(subject_type: str, subject_id: str) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).order_by("-seq")
