from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, also for platform administrators."""

    list_display = ("seq", "created_at", "action", "actor_label", "subject_type", "subject_id")
    list_filter = ("action",)
    search_fields = ("action", "actor_label", "subject_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
