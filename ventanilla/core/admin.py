from django.contrib import admin

from .models import Job, JobSchedule


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody may edit through the admin: history, logs, snapshots."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False



@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs (docs/jobs.md), read-only: administrators see failed jobs and their errors."""

    list_display = ("pk", "name", "state", "attempts", "run_at", "locked_by", "finished_at")
    list_filter = ("state", "name")
    search_fields = ("name", "key")
    ordering = ("-pk",)


@admin.register(JobSchedule)
class JobScheduleAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_enqueued_at", "last_enqueued_by")
