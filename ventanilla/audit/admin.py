from django.contrib import admin

from ventanilla.core.admin import ReadOnlyAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only, also for platform administrators."""

    list_display = ("seq", "created_at", "action", "actor_label", "subject_type", "subject_id")
    list_filter = ("action",)
    search_fields = ("action", "actor_label", "subject_id")
