from django.contrib import admin

from .models import NonWorkingDay


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(admin.ModelAdmin):
    list_display = ("date", "reason", "declared_by")
    search_fields = ("reason",)
    date_hierarchy = "date"
    readonly_fields = ("declared_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change or obj.declared_by_id is None:
            obj.declared_by = request.user
        super().save_model(request, obj, form, change)
