from django.contrib import admin

from .models import Department, Office


class OfficeInline(admin.TabularInline):
    model = Office
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "acronym", "slug", "is_active")
    search_fields = ("name", "acronym")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OfficeInline]
